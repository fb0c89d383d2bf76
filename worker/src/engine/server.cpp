#include "engine/server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <malloc.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <csignal>

#include "engine/access_log.hpp"
#include "engine/connection.hpp"
#include "engine/signal_thread.hpp"

namespace greenfork::worker {

namespace {

constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kReapEvery{200};
// A connection idle this long gives back the big buffers of its last request.
constexpr std::chrono::milliseconds kIdleRelease{1000};

}  // namespace

Server::Server(EngineConfig config, Application& app, WorkerHost& host,
               std::vector<Listener> listeners, AccessLog* access_log)
    : config_(std::move(config)),
      app_(app),
      host_(host),
      listeners_(std::move(listeners)),
      access_log_(access_log),
      proxy_trust_(config_.forwarded_allow_ips),
      pool_(app, config_.app_threads),
      app_inline_(app.runs_inline()),
      accept_gate_(io_.get_executor()),
      accepted_(io_.get_executor()),
      stop_timer_(io_) {
  // One app-thread wake-up per batch of requests the I/O thread reads.
  pool_.defer_wakes([this] { asio::post(io_, [this] { pool_.wake_deferred(); }); });
  // The lists were checked when the options were parsed.
  std::string ignored;
  proxy::AddressAllowList::parse(config_.proxy_allow_from, proxy_allow_from_, ignored);
  proxy::AddressAllowList::parse(config_.uwsgi_allow_from, uwsgi_allow_from_, ignored);
  if (config_.exclusive_accept) {
    std::vector<int> fds;
    for (const Listener& l : listeners_) fds.push_back(l.fd);
    accept_thread_ = std::make_unique<AcceptThread>(fds);
  }
  for (const Listener& l : listeners_) {
    if (!accept_thread_) {
      const int protocol = l.unix_socket ? 0 : IPPROTO_TCP;
      auto acceptor = std::make_unique<GenericAcceptor>(io_);
      acceptor->assign(asio::generic::stream_protocol(l.family, protocol), l.fd);
      acceptors_.push_back(std::move(acceptor));
    }
    if (!l.unix_socket) {
      // Accepted sockets inherit TCP_NODELAY from the listening one: one
      // setsockopt here instead of one per connection.
      const int one = 1;
      if (setsockopt(l.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0) {
        nodelay_inherited_ = false;
      }
    }
  }
}

Server::~Server() = default;

int Server::run() {
  if (accept_thread_) {
    accept_loops_ = 2;  // exclusive_accept_loop and the accept thread
    asio::co_spawn(io_, exclusive_accept_loop(), asio::detached);
  } else {
    accept_loops_ = static_cast<unsigned>(acceptors_.size());
    for (size_t i = 0; i < acceptors_.size(); ++i) {
      asio::co_spawn(io_, accept_loop(*acceptors_[i], listeners_[i]), asio::detached);
    }
  }
  asio::co_spawn(io_, reap_loop(), asio::detached);
  if (config_.heartbeat_interval.count() > 0) {
    asio::co_spawn(io_, heartbeat_loop(), asio::detached);
  }
  SignalThread signals({SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGHUP},
                       [this](int signo) { on_signal(signo); });
  // Started after the signal thread, with the same signal mask as this one.
  start_accept_thread();
  io_.run();
  if (accept_thread_) accept_thread_->stop();
  signals.stop();
  if (forced_) return exit_code_;
  pool_.stop();
  return exit_code_;
}

void Server::request_stop(std::string reason) {
  asio::post(io_, [this, reason = std::move(reason)] { begin_stop(reason); });
}

void Server::add(Connection* connection) {
  connections_.push_back(connection);
  if (unregistered_ > 0) --unregistered_;
}

void Server::remove(Connection* connection) {
  auto it = std::find(connections_.begin(), connections_.end(), connection);
  if (it != connections_.end()) {
    *it = connections_.back();
    connections_.pop_back();
  }
  if (connections_.size() < config_.worker_connections) accept_gate_.set();
  check_done();
}

void Server::connection_idle() {
  if (connections_.size() >= config_.worker_connections) accept_gate_.set();
}

void Server::close_oldest_idle() {
  Connection* oldest = nullptr;
  for (Connection* c : connections_) {
    if (!c->kept_alive() || c->input_pending()) continue;  // no request on its way
    if (oldest == nullptr || c->idle_since() < oldest->idle_since()) oldest = c;
  }
  // Its coroutine ends on the cancelled read and remove() opens the gate.
  if (oldest != nullptr) oldest->close();
}

void Server::count_request_seconds() {
  const auto now = std::chrono::steady_clock::now();
  request_seconds_ += in_flight_ * std::chrono::duration<double>(now - in_flight_changed_at_).count();
  in_flight_changed_at_ = now;
}

void Server::request_started(bool in_flight) {
  count_request_seconds();
  if (in_flight) ++in_flight_;
  if (config_.max_requests != 0 && ++admitted_ >= config_.max_requests && !stopping_) {
    spdlog::info("Autorestarting worker after current request (max requests {})",
                 config_.max_requests);
    begin_stop("max requests");
  }
}

void Server::request_finished(const Exchange& exchange, bool in_flight) {
  count_request_seconds();
  if (in_flight) --in_flight_;
  ++served_;
  const auto elapsed = std::chrono::steady_clock::now() - exchange.request.received_at;
  counters_.record(exchange.status(), std::chrono::duration<double>(elapsed).count());
  if (access_log_ != nullptr) access_log_->log(exchange);
  if (finished_) finished_(exchange);
}

asio::awaitable<void> Server::reap_loop() {
  asio::steady_timer timer(io_);
  unsigned ticks = 0;
  while (!io_.stopped()) {
    timer.expires_after(kReapEvery);
    (void)co_await timer.async_wait(kNoThrow);
    const auto now = std::chrono::steady_clock::now();
    if (access_log_ != nullptr && ++ticks % 5 == 0) access_log_->flush();
    // close() only cancels; connections leave the list from their own frames.
    bool released = false;
    for (Connection* c : std::vector<Connection*>(connections_)) {
      // An idle connection whose next request came while the loop was busy
      // (an inline app) is not timed out: its read completes next.
      if (c->deadline() < now && !(c->idle() && c->input_pending())) {
        c->close();
      } else {
        released = c->release_idle_buffers(now - kIdleRelease) || released;
        c->yield_stalled_body(now);
      }
    }
    // Freed megabytes sit in malloc's free lists, resident, until trimmed.
    if (released || trim_wanted_) malloc_trim(0);
    // At the connection limit the accept loops look for waiting clients.
    if (connections_.size() >= config_.worker_connections) accept_gate_.set();
    trim_wanted_ = false;
    if (drained()) co_return;
  }
}

void Server::on_signal(int signo) {
  if (signo == SIGUSR1) {
    if (reopen_logs_) reopen_logs_();  // posts to the I/O loop itself
    return;
  }
  // TERM, HUP, QUIT, INT: no new connection, whatever the I/O thread is
  // doing; the rest of the stop happens on the loop.
  closing_ = true;
  stop_listening();
  asio::post(io_, [this, signo] {
    if (signo == SIGTERM || signo == SIGHUP) {
      begin_stop(signo == SIGTERM ? "SIGTERM" : "SIGHUP");
    } else {
      // QUIT/INT: exit now, in-flight requests are dropped.
      forced_ = true;
      exit_code_ = 0;
      io_.stop();
    }
  });
  if ((signo == SIGINT || signo == SIGQUIT) && quit_signal_) quit_signal_(signo);
}

void Server::stop_listening() {
  const std::lock_guard<std::mutex> lock(listeners_mu_);
  if (!listeners_open_) return;
  listeners_shut_ = true;
  if (accept_thread_) accept_thread_->stop();
  for (const Listener& l : listeners_) {
    // shutdown() of a listening socket stops it listening: connect() is
    // refused at once. Only for sockets this worker bound: an inherited
    // one is shared with arbiterd and the other workers, and this worker
    // just closes its copy (begin_stop).
    if (l.owned) ::shutdown(l.fd, SHUT_RDWR);
  }
}

asio::awaitable<void> Server::heartbeat_loop() {
  asio::steady_timer timer(io_);
  for (;;) {
    if (beat_) beat_(stats());
    timer.expires_after(config_.heartbeat_interval);
    auto [ec] = co_await timer.async_wait(kNoThrow);
    if (ec || io_.stopped()) co_return;
  }
}

void Server::begin_stop(const std::string& reason) {
  if (stopping_) return;
  stopping_ = true;
  closing_ = true;
  spdlog::info("Worker stopping ({}): {} request(s) in flight", reason, in_flight_);
  {
    // Not beside stop_listening(): a closed fd's number may be reused.
    const std::lock_guard<std::mutex> lock(listeners_mu_);
    listeners_open_ = false;
    for (auto& acceptor : acceptors_) {
      asio::error_code ignored;
      acceptor->close(ignored);
    }
  }
  // The accept thread ends; close_listeners() follows.
  if (accept_thread_) accept_thread_->stop();
  accept_gate_.set();
  accepted_.set();
  // Idle connections get at most --keep-alive more to send a last request
  // (answered with Connection: close): closing them now would reset a
  // request already on its way.
  const auto last_call = std::chrono::steady_clock::now() + config_.keep_alive;
  for (Connection* c : connections_) {
    if (c->idle()) c->shorten_deadline(last_call);
    c->going_away();
  }
  stop_timer_.expires_after(config_.graceful_timeout);
  stop_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec) return;
    host_.log_error("Graceful timeout: exiting with " + std::to_string(in_flight_) +
                    " request(s) unfinished");
    forced_ = true;
    io_.stop();
  });
  if (beat_) beat_(stats());
  check_done();
}

bool Server::drained() const {
  return stopping_ && connections_.empty() && accept_loops_ == 0 && unregistered_ == 0;
}

void Server::check_done() {
  if (drained()) {
    asio::error_code ignored;
    stop_timer_.cancel();
    io_.stop();
  }
}

EngineStats Server::stats() const {
  EngineStats s;
  s.requests_served = served_;
  s.in_flight = in_flight_;
  s.stopping = stopping_;
  s.counters = counters_;
  s.connections = static_cast<uint32_t>(connections_.size());
  s.request_seconds = request_seconds_ + in_flight_ * std::chrono::duration<double>(
                                                          std::chrono::steady_clock::now() - in_flight_changed_at_)
                                                          .count();
  const auto now = std::chrono::steady_clock::now();
  for (const Connection* c : connections_) {
    if (!c->busy()) continue;
    const double age = std::chrono::duration<double>(now - c->request_started()).count();
    s.oldest_request_age_seconds = std::max(s.oldest_request_age_seconds, age);
  }
  return s;
}

}  // namespace greenfork::worker
