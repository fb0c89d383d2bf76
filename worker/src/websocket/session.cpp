#include "websocket/session.hpp"

#include <asio/buffer.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <vector>

#include "tls/tls_stream.hpp"
#include "websocket/frame_writer.hpp"

namespace greenfork::worker::websocket {

namespace {

constexpr auto kAwait = asio::experimental::as_tuple(asio::use_awaitable);
// Over TLS, frames smaller than a record are joined up to this size before
// SSL_write (one record and one send for many small messages).
constexpr size_t kTlsJoin = 16 * 1024;

AssemblerOptions assembler_options(const WsSessionOptions& o) {
  AssemblerOptions a;
  a.role = Role::kServer;
  a.max_message_size = o.max_message_size;
  if (o.deflate) a.deflate = o.deflate->params;
  return a;
}

}  // namespace

std::shared_ptr<WsSession> WsSession::create(Socket socket, WsHandler& handler, WsSessionOptions options,
                                             std::string already_read, std::unique_ptr<tls::TlsStream> tls) {
  return std::make_shared<WsSession>(std::move(socket), handler, std::move(options), std::move(already_read),
                                     std::move(tls));
}

WsSession::WsSession(Socket socket, WsHandler& handler, WsSessionOptions options, std::string already_read,
                     std::unique_ptr<tls::TlsStream> tls)
    : socket_(std::move(socket)),
      tls_(std::move(tls)),
      handler_(handler),
      options_(std::move(options)),
      pending_input_(std::move(already_read)),
      assembler_(assembler_options(options_)),
      writer_wake_(socket_.get_executor()),
      close_timer_(socket_.get_executor()),
      ping_timer_(socket_.get_executor()),
      read_wake_(socket_.get_executor()) {
  if (options_.deflate) {
    deflater_ = std::make_unique<MessageDeflater>(options_.deflate->params, options_.deflate->compression_level,
                                                  options_.deflate->mem_level);
  }
}

WsSession::~WsSession() = default;

asio::awaitable<void> WsSession::run() {
  using namespace asio::experimental::awaitable_operators;
  auto self = shared_from_this();  // the close timer's handler may outlive run()'s caller
  co_await (read_loop() && write_loop() && ping_loop());
}

bool WsSession::send(bool text, std::string_view message) {
  if (state_ != State::kOpen) return false;
  queue(encode_message(text, message, deflater_.get()));
  return true;
}

void WsSession::close(uint16_t code, std::string_view reason) {
  if (state_ != State::kOpen) return;
  if (code == 0) code = close_code::kNormal;
  if (code != close_code::kNoStatus && !close_code_valid_on_wire(code)) code = close_code::kInternalError;
  queue(encode_close(code, reason));
  close_sent_ = true;
  state_ = State::kClosing;
  final_code_ = code;
  final_reason_ = std::string(reason);
  // The peer answers with its close frame (read_loop then lets the writer
  // close the socket), or the timeout ends it abnormally.
  if (options_.close_timeout.count() > 0) {
    close_timer_.expires_after(options_.close_timeout);
    close_timer_.async_wait([self = shared_from_this()](std::error_code ec) {
      if (!ec) self->finish(close_code::kAbnormal, "no close frame from the client in time");
    });
  }
}

void WsSession::resume_reading() {
  paused_ = false;
  read_wake_.cancel();
}

void WsSession::queue(std::string frame) {
  queued_bytes_ += frame.size();
  out_.push_back(std::move(frame));
  writer_wake_.cancel();
}

void WsSession::fail(uint16_t code, std::string reason) {
  if (state_ == State::kDone) return;
  if (!close_sent_) {
    queue(encode_close(code, reason));
    close_sent_ = true;
    final_code_ = code;
    final_reason_ = std::move(reason);
  }
  state_ = State::kClosing;
  shutdown_after_write_ = true;
  writer_wake_.cancel();
}

void WsSession::finish(uint16_t code, const std::string& reason) {
  if (state_ == State::kDone) return;
  state_ = State::kDone;
  std::error_code ignored;
  socket_.close(ignored);  // ends the pending read or write
  writer_wake_.cancel();
  close_timer_.cancel();
  ping_timer_.cancel();
  read_wake_.cancel();
  handler_.on_closed(code, reason);
}

void WsSession::handle(WsEvent& event) {
  switch (event.kind) {
    case WsEvent::kPing:
      if (!close_sent_) queue(encode_pong(event.data));
      break;
    case WsEvent::kPong:
      awaiting_pong_ = false;  // any pong shows the peer is alive
      break;
    case WsEvent::kText:
    case WsEvent::kBinary:
      // After close() the handler wants no more messages (RFC 6455 allows
      // the peer to keep sending until it reads our close).
      if (state_ == State::kOpen) handler_.on_message(event.kind == WsEvent::kText, std::move(event.data));
      break;
    case WsEvent::kClose:
      if (!close_sent_) {
        // Echo the peer's code (RFC 6455 5.5.1); a close without one gets
        // an empty close frame back.
        queue(encode_close(event.code == close_code::kNoStatus ? 0 : event.code));
        close_sent_ = true;
        final_code_ = event.code;
        final_reason_ = event.data;
      }
      close_timer_.cancel();
      state_ = State::kClosing;
      // The handshake is complete: the server closes the TCP connection
      // first (RFC 6455 7.1.1), once the queue (our close) is written.
      shutdown_after_write_ = true;
      writer_wake_.cancel();
      break;
  }
}

asio::awaitable<void> WsSession::read_loop() {
  std::vector<WsEvent> events;
  std::string buffer(16 * 1024, '\0');
  std::string first = std::move(pending_input_);
  reading_ = true;
  while (state_ != State::kDone) {
    std::string_view data = first;
    if (data.empty() && paused_) {
      read_wake_.expires_at(asio::steady_timer::time_point::max());
      (void)co_await read_wake_.async_wait(kAwait);
      continue;
    }
    if (data.empty()) {
      auto [ec, n] = co_await read_some(buffer.data(), buffer.size());
      if (ec) break;  // EOF, reset, or the socket was closed by finish()
      data = std::string_view(buffer).substr(0, n);
    }
    events.clear();
    const MessageAssembler::Result r = assembler_.feed(data, events);
    first.clear();
    for (WsEvent& e : events) {
      if (state_ == State::kDone) break;
      handle(e);
    }
    if (r.status == MessageAssembler::kError) {
      reading_ = false;
      fail(assembler_.error().code, assembler_.error().reason);
      co_return;
    }
    if (r.status == MessageAssembler::kClosed) {
      reading_ = false;
      co_return;
    }
  }
  reading_ = false;
  if (shutdown_after_write_) {
    finish(final_code_, final_reason_);  // failing anyway: the code we sent
  } else {
    finish(close_code::kAbnormal, "connection ended without a close frame");
  }
}

asio::awaitable<void> WsSession::write_loop() {
  // What is queued goes out in gathered writes, frames not copied.
  std::deque<std::string> batch;
  std::vector<asio::const_buffer> buffers;
  while (state_ != State::kDone) {
    if (out_.empty()) {
      if (shutdown_after_write_) break;
      writer_wake_.expires_at(asio::steady_timer::time_point::max());
      (void)co_await writer_wake_.async_wait(kAwait);
      continue;
    }
    batch.swap(out_);
    out_.clear();
    // Gathered writes until the batch is out. A client that takes no byte
    // for write_timeout is dropped (a slow one that keeps taking is not).
    asio::steady_timer guard(socket_.get_executor());
    size_t frame = 0;
    size_t offset = 0;  // into batch[frame]
    while (frame < batch.size()) {
      buffers.clear();
      for (size_t k = frame; k < batch.size() && buffers.size() < 64; ++k) {
        buffers.push_back(asio::buffer(batch[k]) + (k == frame ? offset : 0));
      }
      if (options_.write_timeout.count() > 0) {
        guard.expires_after(options_.write_timeout);  // cancels the previous wait
        guard.async_wait([self = shared_from_this()](std::error_code ec) {
          if (!ec) self->finish(close_code::kAbnormal, "the client took nothing for the write timeout");
        });
      }
      auto [ec, n] = co_await write_some(buffers);
      if (ec) {
        guard.cancel();
        finish(close_code::kAbnormal, "write failed: " + ec.message());
        co_return;
      }
      queued_bytes_ -= n;
      while (n > 0) {
        const size_t left = batch[frame].size() - offset;
        if (n < left) {
          offset += n;
          break;
        }
        n -= left;
        ++frame;
        offset = 0;
      }
    }
    guard.cancel();
    batch.clear();
    if (out_.empty() && state_ != State::kDone) handler_.on_drained();
  }
  if (state_ == State::kDone) co_return;
  co_await linger();
  finish(final_code_, final_reason_);
}

asio::awaitable<void> WsSession::linger() {
  // Our close frame is out. Half-close and read what the client still has
  // in flight until its EOF (bounded), so closing does not reset the
  // connection under a close frame the client has yet to read.
  if (reading_) co_return;  // failing while the reader runs (ping timeout): just close
  if (tls_) tls_->shutdown();  // close_notify, then the FIN
  std::error_code ignored;
  socket_.shutdown(Socket::shutdown_send, ignored);
  asio::steady_timer guard(socket_.get_executor());
  guard.expires_after(options_.close_timeout.count() > 0 ? options_.close_timeout : std::chrono::seconds(2));
  guard.async_wait([this, self = shared_from_this()](std::error_code ec) {
    if (!ec && state_ != State::kDone) {
      std::error_code e;
      socket_.cancel(e);
    }
  });
  std::string sink(4096, '\0');
  while (state_ != State::kDone) {
    auto [ec, n] = co_await socket_.async_read_some(asio::buffer(sink), kAwait);
    if (ec) break;
  }
  guard.cancel();
}

asio::awaitable<std::error_code> WsSession::wait_socket(bool readable) {
  auto [ec] = co_await socket_.async_wait(readable ? Socket::wait_read : Socket::wait_write, kAwait);
  // finish() closed the socket after this wait completed: its fd number
  // may already be another connection's.
  if (!ec && state_ == State::kDone) ec = asio::error::operation_aborted;
  co_return ec;
}

asio::awaitable<WsSession::IoResult> WsSession::read_some(char* data, size_t len) {
  if (!tls_) co_return co_await socket_.async_read_some(asio::buffer(data, len), kAwait);
  for (;;) {
    if (state_ == State::kDone) co_return IoResult{asio::error::operation_aborted, 0};
    size_t n = 0;
    const tls::TlsStream::Io io = tls_->read(data, len, n);
    switch (io) {
      case tls::TlsStream::Io::kDone: co_return IoResult{std::error_code(), n};
      case tls::TlsStream::Io::kClosed: co_return IoResult{asio::error::eof, 0};
      case tls::TlsStream::Io::kFailed: co_return IoResult{asio::error::connection_reset, 0};
      case tls::TlsStream::Io::kWantRead:
      case tls::TlsStream::Io::kWantWrite:
        if (std::error_code ec = co_await wait_socket(io == tls::TlsStream::Io::kWantRead)) {
          co_return IoResult{ec, 0};
        }
        break;
    }
  }
}

asio::awaitable<WsSession::IoResult> WsSession::write_some(const std::vector<asio::const_buffer>& buffers) {
  if (!tls_) co_return co_await socket_.async_write_some(buffers, kAwait);
  // A big frame goes as it is; small ones are joined (a copy) so that each
  // message does not cost a record and a send of its own.
  const char* data = static_cast<const char*>(buffers.front().data());
  size_t len = buffers.front().size();
  if (len < kTlsJoin && buffers.size() > 1) {
    tls_scratch_.clear();
    for (const asio::const_buffer& b : buffers) {
      const size_t take = std::min(b.size(), kTlsJoin * 4 - tls_scratch_.size());
      tls_scratch_.append(static_cast<const char*>(b.data()), take);
      if (tls_scratch_.size() >= kTlsJoin * 4) break;
    }
    data = tls_scratch_.data();
    len = tls_scratch_.size();
  }
  // Partial writes are on (tls_context.cpp): a retry after a wait may be
  // given the same bytes again at the same place.
  for (;;) {
    if (state_ == State::kDone) co_return IoResult{asio::error::operation_aborted, 0};
    size_t n = 0;
    const tls::TlsStream::Io io = tls_->write(data, len, n);
    switch (io) {
      case tls::TlsStream::Io::kDone: co_return IoResult{std::error_code(), n};
      case tls::TlsStream::Io::kClosed:
      case tls::TlsStream::Io::kFailed: co_return IoResult{asio::error::broken_pipe, 0};
      case tls::TlsStream::Io::kWantRead:
      case tls::TlsStream::Io::kWantWrite:
        if (std::error_code ec = co_await wait_socket(io == tls::TlsStream::Io::kWantRead)) {
          co_return IoResult{ec, 0};
        }
        break;
    }
  }
}

asio::awaitable<void> WsSession::ping_loop() {
  if (options_.ping_interval.count() <= 0) co_return;
  // A ping every interval; the pong must come within the timeout (when
  // the timeout is the longer, the next ping waits for it).
  const auto timeout = options_.ping_timeout;
  auto wait = options_.ping_interval;
  while (state_ == State::kOpen) {
    ping_timer_.expires_after(wait);
    (void)co_await ping_timer_.async_wait(kAwait);
    if (state_ != State::kOpen) break;
    awaiting_pong_ = true;
    queue(encode_ping(std::to_string(++pings_sent_)));
    wait = options_.ping_interval;
    if (timeout.count() <= 0) continue;
    ping_timer_.expires_after(timeout);
    (void)co_await ping_timer_.async_wait(kAwait);
    if (state_ == State::kOpen && awaiting_pong_) {
      fail(close_code::kInternalError, "keepalive ping timeout");
      break;
    }
    wait = std::max(options_.ping_interval - timeout, std::chrono::milliseconds(0));
  }
}

}  // namespace greenfork::worker::websocket
