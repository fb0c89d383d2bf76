// Server's accept paths (see server.hpp): the accept thread's (exclusive
// wake-ups, one client per permit) and Asio's acceptors (inline Python apps).
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>

#include <algorithm>

#include "engine/connection.hpp"
#include "engine/server.hpp"

namespace greenfork::worker {

namespace {

constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

// A connection waits in the listening socket's queue.
bool client_waiting(int listener_fd) {
  pollfd p{listener_fd, POLLIN, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN) != 0;
}

}  // namespace

bool Server::any_client_waiting() const {
  return std::any_of(listeners_.begin(), listeners_.end(),
                     [](const Listener& l) { return client_waiting(l.fd); });
}

asio::awaitable<void> Server::exclusive_accept_loop() {
  const AcceptLoopExit exit{*this};
  for (;;) {
    // At the limit, an idle keep-alive connection makes room for a new one
    // (nginx's reusable connections): waiting for a busy one to end could
    // leave the new client waiting for as long as idle ones are kept.
    // The reaper and connections going idle re-open the gate to look again.
    while (connections_.size() >= config_.worker_connections && !stopping_) {
      if (any_client_waiting()) close_oldest_idle();
      co_await accept_gate_.wait();
    }
    if (stopping_) co_return;
    // One client per turn of this loop: the accept thread waits for the
    // next one only once this thread took the last one over.
    accept_thread_->permit();
    co_await accepted_.wait();
  }
}

void Server::start_connection(const Accepted& a) {
  const Listener& listener = listeners_[a.listener];
  // A client accepted just as the stop began is still served (with
  // Connection: close); dropping it would reset its request.
  if (!listener.unix_socket && !nodelay_inherited_) {
    const int one = 1;
    setsockopt(a.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  const int protocol = listener.unix_socket ? 0 : IPPROTO_TCP;
  asio::error_code ec;
  asio::generic::stream_protocol::socket socket(io_);
  socket.assign(asio::generic::stream_protocol(listener.family, protocol), a.fd, ec);
  if (ec) {
    host_.log_error("accept on " + listener.name + ": " + ec.message());
    ::close(a.fd);
  } else {
    socket.native_non_blocking(true, ec);
    const asio::generic::stream_protocol::endpoint peer(&a.peer, a.peer_len, protocol);
    ++unregistered_;
    asio::co_spawn(io_, Connection::serve(*this, std::move(socket), peer, listener),
                   asio::detached);
  }
  accepted_.set();
}

void Server::close_listeners() {
  // Not beside stop_listening(): a closed fd's number may be reused.
  const std::lock_guard<std::mutex> lock(listeners_mu_);
  listeners_open_ = false;
  for (Listener& l : listeners_) {
    if (l.fd >= 0) ::close(l.fd);
    l.fd = -1;
  }
}

asio::awaitable<void> Server::accept_loop(GenericAcceptor& acceptor,
                                          const Listener& listener) {
  const AcceptLoopExit exit{*this};
  asio::steady_timer backoff(io_);
  for (;;) {
    // At the limit, an idle keep-alive connection makes room for a new one
    // (nginx's reusable connections): waiting for a busy one to end could
    // leave the new client waiting for as long as idle ones are kept.
    // The reaper and connections going idle re-open the gate to look again.
    while (connections_.size() >= config_.worker_connections && !stopping_) {
      if (client_waiting(listener.fd)) close_oldest_idle();
      co_await accept_gate_.wait();
    }
    if (stopping_) co_return;
    asio::generic::stream_protocol::endpoint peer;
    auto [ec, socket] = co_await acceptor.async_accept(peer, kNoThrow);
    // A connection accepted just as the stop began is still served (with
    // Connection: close); dropping it would reset its request.
    if (ec && (stopping_ || listeners_shut_)) co_return;
    if (ec) {
      if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
          ec == asio::error::no_memory) {
        host_.log_error("accept on " + listener.name + ": " + ec.message());
        backoff.expires_after(std::chrono::milliseconds(100));
        (void)co_await backoff.async_wait(kNoThrow);
      }
      continue;
    }
    if (!listener.unix_socket && !nodelay_inherited_) {
      const int one = 1;
      setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    asio::error_code ignored;
    socket.native_non_blocking(true, ignored);
    ++unregistered_;
    asio::co_spawn(io_, Connection::serve(*this, std::move(socket), peer, listener),
                   asio::detached);
    if (stopping_) co_return;
  }
}

void Server::start_accept_thread() {
  if (!accept_thread_) return;
  accept_thread_->start(
      [this](const Accepted& a) { asio::post(io_, [this, a] { start_connection(a); }); },
      [this](const std::string& e) { asio::post(io_, [this, e] { host_.log_error(e); }); },
      [this] {
        // After every accepted client's post: the drain waits for this.
        asio::post(io_, [this] {
          close_listeners();
          --accept_loops_;
          check_done();
        });
      });
}

}  // namespace greenfork::worker
