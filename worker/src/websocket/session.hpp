// WsSession: one WebSocket connection after the 101, on the I/O thread, as
// C++20 coroutines over the socket: it reads frames through a
// MessageAssembler, hands whole messages to a WsHandler, writes what the
// handler sends, answers pings, keeps the connection alive with its own
// pings, and runs the closing handshake, with a timeout on every wait.
//
//   auto session = WsSession::create(std::move(socket), handler, options, bytes_after_head);
//   co_await session->run();          // returns once the socket is closed
//   // meanwhile, on the I/O thread:  session->send(true, "hi");  session->close(1000);
//
// What the handler sees: on_message() for each whole message while the
// connection is open, then on_closed() exactly once with the code that ended
// it: the peer's (1005 when its close had none), the code greenfork failed
// the connection with (1002, 1007, 1009, 1011 on a ping timeout), 1006 when
// the socket ended without a closing handshake (EOF, reset, a write or close
// timeout), or the handler's own code after close() (once the peer answered
// or the close timeout passed).
//
// Timeouts (0 disables one):
//   ping_interval  a ping every interval while open (--ws-ping-interval)
//   ping_timeout   no pong that long after a ping: fail with 1011 (--ws-ping-timeout)
//   write_timeout  a write the client does not take that long: drop, 1006
//   close_timeout  after our close frame, how long to wait for the peer's
// Everything runs on the socket's executor: send() and close() must be
// called there (an app thread posts to it).
//
// Over TLS (wss://) the session is given the connection's TlsStream after
// the 101: frames are read and written through it, waiting on the socket
// for what OpenSSL asks (readable or writable), and the closing handshake
// sends close_notify before the FIN.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "tls/tls_stream.hpp"
#include "websocket/message_assembler.hpp"
#include "websocket/permessage_deflate.hpp"

namespace greenfork::worker::websocket {

class WsHandler {
 public:
  virtual ~WsHandler() = default;
  // A whole message from the client (text is valid UTF-8).
  virtual void on_message(bool text, std::string data) = 0;
  // The connection is over; no other call follows.
  virtual void on_closed(uint16_t code, const std::string& reason) = 0;
  // Everything queued so far was written to the socket (queued_bytes() is
  // 0): a sender held back by its own bound on queued_bytes() may go on.
  virtual void on_drained() {}
};

struct WsSessionOptions {
  uint64_t max_message_size = uint64_t{16} << 20;  // --ws-max-size
  std::optional<DeflateAgreement> deflate;         // negotiated permessage-deflate
  std::chrono::milliseconds ping_interval{20000};  // --ws-ping-interval
  std::chrono::milliseconds ping_timeout{20000};   // --ws-ping-timeout
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds close_timeout{10000};
};

class WsSession : public std::enable_shared_from_this<WsSession> {
 public:
  using Socket = asio::generic::stream_protocol::socket;

  // `already_read`: bytes the HTTP layer read past the upgrade request's
  // head (a client may send frames right behind it), decrypted when `tls`
  // is given (the connection's TLS stream over `socket`, handshake done).
  static std::shared_ptr<WsSession> create(Socket socket, WsHandler& handler, WsSessionOptions options,
                                           std::string already_read = {},
                                           std::unique_ptr<tls::TlsStream> tls = nullptr);

  // Serves the connection until its socket is closed and on_closed() ran.
  // The handler must outlive it.
  asio::awaitable<void> run();

  // Queues a message; false (and nothing sent) once closing has begun.
  bool send(bool text, std::string_view message);
  // Starts the closing handshake with `code` (1000 when 0; 1005 sends a
  // close frame without code; a code a peer may not receive, such as 1006
  // or 999, becomes 1011). Later calls do nothing.
  void close(uint16_t code = close_code::kNormal, std::string_view reason = {});
  // Flow control for a handler whose consumer is slow (an ASGI app that
  // has not called receive()): while paused no byte is read from the
  // socket, so the client's sends back up into its own buffers. Pongs are
  // not read either: pause for longer than the ping timeout and the
  // keepalive ends the connection (1011), as with any stalled peer.
  void pause_reading() { paused_ = true; }
  // Bytes of frames queued and not yet taken by the socket. The session
  // does not bound it: a sender that must not outrun the client waits for
  // on_drained() past its own limit.
  size_t queued_bytes() const { return queued_bytes_; }
  void resume_reading();
  // Open: no close frame sent or received yet.
  bool open() const { return state_ == State::kOpen; }

  WsSession(Socket socket, WsHandler& handler, WsSessionOptions options, std::string already_read,
            std::unique_ptr<tls::TlsStream> tls);
  ~WsSession();
  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;

 private:
  enum class State { kOpen, kClosing, kDone };

  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  asio::awaitable<void> ping_loop();
  asio::awaitable<void> linger();
  // One read or gathered write through the socket or the TLS stream, with
  // the socket's contract: (error, bytes > 0).
  using IoResult = std::tuple<std::error_code, size_t>;
  asio::awaitable<IoResult> read_some(char* data, size_t len);
  asio::awaitable<IoResult> write_some(const std::vector<asio::const_buffer>& buffers);
  // TLS: waits for what OpenSSL asked for (readable: true, writable: false).
  asio::awaitable<std::error_code> wait_socket(bool readable);
  void handle(WsEvent& event);
  void queue(std::string frame);
  // Sends a close frame (unless one was sent), then closes the socket once
  // it is written; the handler hears `code`.
  void fail(uint16_t code, std::string reason);
  // Closes the socket and tells the handler, once.
  void finish(uint16_t code, const std::string& reason);

  Socket socket_;
  std::unique_ptr<tls::TlsStream> tls_;
  std::string tls_scratch_;  // small frames joined into one TLS record
  WsHandler& handler_;
  WsSessionOptions options_;
  std::string pending_input_;
  MessageAssembler assembler_;
  std::unique_ptr<MessageDeflater> deflater_;

  State state_ = State::kOpen;
  bool close_sent_ = false;
  bool shutdown_after_write_ = false;  // close the socket once the queue is out
  uint16_t final_code_ = close_code::kAbnormal;
  std::string final_reason_;
  std::deque<std::string> out_;
  size_t queued_bytes_ = 0;
  asio::steady_timer writer_wake_;
  asio::steady_timer close_timer_;
  asio::steady_timer ping_timer_;
  asio::steady_timer read_wake_;
  bool paused_ = false;
  bool reading_ = false;  // read_loop() has a read pending or may start one
  bool awaiting_pong_ = false;
  uint64_t pings_sent_ = 0;
};

}  // namespace greenfork::worker::websocket
