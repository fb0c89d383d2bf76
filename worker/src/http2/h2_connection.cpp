// H2Connection's loop: socket bytes in, nghttp2's bytes out, app ops
// served, one wake-up Event for all of it (the Connection's).
#include "http2/h2_connection.hpp"

#include <sys/socket.h>

#include <spdlog/spdlog.h>

#include <cerrno>

#include "engine/connection.hpp"

namespace greenfork::worker::http2 {

H2Connection::H2Connection(Connection& connection)
    : c_(connection), grace_(connection.server_.io()) {}

H2Connection::~H2Connection() {
  if (session_ != nullptr) nghttp2_session_del(session_);
}

Stream* H2Connection::find(int32_t id) {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

void H2Connection::going_away() {
  if (session_ == nullptr || notice_sent_ || goaway_sent_) return;
  notice_sent_ = true;
  // A client that reads a stream's end and then a GOAWAY in one batch may
  // have queued its next request before it saw the GOAWAY: nghttp2-based
  // clients then fail it unsent. So first a PING alone, with responses held
  // back until its ack (the client has read all it had); then the GOAWAY
  // notice (RFC 9113 6.8), ahead of any response; the last stream id once a
  // second PING shows the client wrote what it queued before the notice.
  nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr);
  frozen_ = true;
  grace_pending_ = true;
  grace_.expires_after(kGoawayGrace);
  grace_.async_wait([this](const asio::error_code&) {
    grace_pending_ = false;
    // A client that does not answer PINGs.
    if (ping_acks_ == 0 && !goaway_sent_) nghttp2_submit_shutdown_notice(session_);
    frozen_ = false;
    final_goaway();
    c_.wake_.set();
  });
  c_.wake_.set();
}

void H2Connection::ping_acked() {
  if (!notice_sent_) return;
  if (++ping_acks_ == 1) {
    if (!goaway_sent_) nghttp2_submit_shutdown_notice(session_);
    nghttp2_submit_ping(session_, NGHTTP2_FLAG_NONE, nullptr);
    frozen_ = false;
  } else {
    final_goaway();
  }
}

void H2Connection::final_goaway() {
  if (goaway_sent_ || session_ == nullptr) return;
  goaway_sent_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, nghttp2_session_get_last_proc_stream_id(session_),
                        NGHTTP2_NO_ERROR, nullptr, 0);
}

void H2Connection::watch_readable() {
  if (reading_ || c_.closed_ || peer_gone_) return;
  reading_ = true;
  c_.socket_.async_wait(asio::socket_base::wait_read, [this](const asio::error_code&) {
    reading_ = false;
    readable_ = true;
    c_.wake_.set();
  });
}

bool H2Connection::read_available() {
  for (int round = 0; round < 4; ++round) {
    if (c_.closed_) return false;
    size_t room = 0;
    char* space = c_.input_.space(room);
    if (c_.tls_) {
      size_t n = 0;
      const tls::TlsStream::Io io = c_.tls_->read(space, room, n);
      if (io == tls::TlsStream::Io::kDone) {
        c_.input_.commit(n);
        if (!c_.tls_->pending()) return true;
        if (round == 3) {
          // Decrypted bytes still wait in OpenSSL: the socket will not say
          // so, the loop comes back for them.
          readable_ = true;
          c_.wake_.set();
        }
        continue;
      }
      if (io == tls::TlsStream::Io::kWantRead || io == tls::TlsStream::Io::kWantWrite) return true;
      return false;
    }
    const ssize_t n = ::recv(c_.socket_.native_handle(), space, room, MSG_DONTWAIT);
    if (n > 0) {
      c_.input_.commit(static_cast<size_t>(n));
      return true;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
    return false;
  }
  return true;
}

bool H2Connection::feed() {
  while (!c_.input_.empty()) {
    const std::string_view in = c_.input_.unread();
    const ssize_t n = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(in.data()),
                                               in.size());
    if (n < 0) {
      spdlog::debug("HTTP/2 connection from {}: {}", c_.peer_, nghttp2_strerror(static_cast<int>(n)));
      // A flood or a bad frame: tell the client why, as far as it listens.
      if (!goaway_sent_) {
        goaway_sent_ = true;
        const uint32_t code = n == NGHTTP2_ERR_FLOODED || n == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS
                                  ? NGHTTP2_ENHANCE_YOUR_CALM
                                  : NGHTTP2_PROTOCOL_ERROR;
        nghttp2_session_terminate_session(session_, code);
      }
      c_.input_.consume(in.size());
      return false;
    }
    c_.input_.consume(static_cast<size_t>(n));
  }
  return true;
}

bool H2Connection::produce() {
  Outbox& outbox = c_.writer_.outbox();
  // Stops at the outbox's bound: a client that does not read does not make
  // the worker buffer without limit (nghttp2 keeps the rest queued, and
  // the loop comes back for it once the outbox drained below the bound).
  capped_ = false;
  for (;;) {
    if (frozen_ && ping_out_) break;  // going_away(): nothing after the PING
    if (outbox.size() > Outbox::kBound) {
      capped_ = true;
      break;
    }
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) return false;
    if (n == 0) break;
    outbox.append(std::string_view(reinterpret_cast<const char*>(data), static_cast<size_t>(n)));
  }
  return true;
}

void H2Connection::set_deadline(bool progressed) {
  // Output the client does not take (a full socket, or a zero window while
  // responses wait): --write-timeout without progress.
  bool stalled = !c_.writer_.outbox().empty();
  bool active = false;
  for (auto& [id, s] : streams_) {
    if (s->closed) continue;
    active = true;
    if (s->head_sent && (s->pending() > 0 || s->file.count > 0)) stalled = true;
  }
  if (stalled) {
    c_.deadline_.writing(progressed);
    return;
  }
  if (!settings_seen_) {
    c_.deadline_.reading_head();  // --header-timeout for the preface and SETTINGS
    return;
  }
  if (active) {
    c_.deadline_.clear();
    c_.state_ = Connection::State::kBusy;
    return;
  }
  // Idle: --keep-alive (or --header-timeout before any request), counted
  // from when the last stream ended (PINGs do not keep a connection).
  if (c_.state_ != Connection::State::kIdle) {
    c_.state_ = Connection::State::kIdle;
    c_.idle_since_ = Connection::Clock::now();
    if (streams_served_ > 0) c_.server_.connection_idle();
  }
  c_.deadline_.waiting_for_request(streams_served_ == 0 && !c_.server_.stopping().load(),
                                   c_.idle_since_);
}

asio::awaitable<void> H2Connection::run() {
  bool ok = create_session();
  c_.deadline_.reading_head();
  c_.state_ = Connection::State::kHead;
  if (ok && c_.server_.stopping().load()) going_away();
  try {
    while (ok) {
      if (readable_) {
        readable_ = false;
        if (!read_available()) peer_gone_ = true;
      }
      if (!feed()) {
        (void)produce();  // the GOAWAY, as far as the socket takes it
        (void)c_.writer_.pump();
        break;
      }
      if (peer_gone_) break;
      serve_ops();
      collect();
      sent_data_ = false;
      if (!produce()) break;
      const size_t queued = c_.writer_.outbox().size();
      const Outbox::Send sent = c_.writer_.pump();
      if (sent == Outbox::Send::kFailed) break;
      // The client took bytes (a zero window lets nothing through: no DATA).
      const bool progressed = sent_data_ || c_.writer_.outbox().size() < queued;
      if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_) &&
          c_.writer_.outbox().empty()) {
        break;  // after GOAWAY with no stream left, or a terminated session
      }
      if (goaway_sent_ && streams_.empty() && c_.writer_.outbox().empty()) break;
      set_deadline(progressed);
      // Reading stops while the client leaves our output unread.
      if (c_.writer_.outbox().size() <= Outbox::kBound && nghttp2_session_want_read(session_)) {
        watch_readable();
      }
      if (!c_.writer_.outbox().empty()) c_.writer_.watch_writable();
      // The socket took what was capped: nghttp2 has more to give at once.
      if (capped_ && c_.writer_.outbox().size() <= Outbox::kBound) c_.wake_.set();
      co_await c_.wake_.wait();
      if (c_.closed_) break;
    }
  } catch (const std::exception& e) {
    spdlog::debug("HTTP/2 connection from {}: {}", c_.peer_, e.what());
  }
  // The end: no byte more; app threads still holding streams are told and
  // waited for (their Exchanges live here).
  c_.close();
  grace_.cancel();
  for (;;) {
    for (auto& [id, s] : streams_) {
      s->closed = true;
      if (s->dispatched && !s->app_done) fail_stream(*s);
    }
    serve_ops();
    collect();
    if (streams_.empty() && !reading_ && !grace_pending_) break;
    co_await c_.wake_.wait();
  }
}

}  // namespace greenfork::worker::http2
