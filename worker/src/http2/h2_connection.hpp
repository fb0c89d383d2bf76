// H2Connection: a client connection that speaks HTTP/2 (h2 chosen by ALPN,
// or h2c with prior knowledge: the client preface on a plain listener).
// nghttp2 does the framing, HPACK and flow control from memory buffers;
// this class owns the streams and moves bytes between the socket (the
// Connection's, with its TLS, input buffer, writer and deadline) and the
// session, on the I/O thread.
//
// Each stream becomes an Exchange handed to the app exactly as an HTTP/1.1
// request is (app threads, or an async app), never run inline. Flow control:
//   - request bodies: with request buffering (the default) DATA is spooled
//     as it comes (memory, then a file) and its window reopened at once;
//     without, the window of what the app has not read yet stays closed,
//     so a stream buffers at most its window (kStreamWindow);
//   - responses: the app's output waits in the stream for nghttp2's data
//     provider, which defers while there is none; a flush is acked once at
//     most Outbox::kBound of the stream's output is left (back-pressure).
// Limits (h2_limits.hpp): concurrent streams, header list size from
// --limit-request-*, HPACK tables, Rapid Reset, CONTINUATION and
// PING/SETTINGS floods; timeouts from the connection's Deadline.
// A graceful stop (TERM, --max-requests) sends GOAWAY (going_away() says
// how, so that no client loses a request): the last stream id comes after
// PING round trips (or kGoawayGrace for a client that does not answer
// PINGs); streams up to it finish, then the connection closes.
#pragma once

#include <nghttp2/nghttp2.h>

#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "http2/h2_stream.hpp"

namespace greenfork::worker {
class Connection;
}

namespace greenfork::worker::http2 {

// The 24 bytes an h2c client with prior knowledge starts with.
inline constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

class H2Connection {
 public:
  static constexpr int32_t kStreamWindow = 256 * 1024;
  static constexpr int32_t kConnectionWindow = 1024 * 1024;
  static constexpr std::chrono::seconds kGoawayGrace{1};

  explicit H2Connection(Connection& connection);
  ~H2Connection();
  H2Connection(const H2Connection&) = delete;
  H2Connection& operator=(const H2Connection&) = delete;

  // Serves the connection until it ends; returns only once no app thread
  // holds any of its streams.
  asio::awaitable<void> run();
  // Graceful stop: GOAWAY (I/O thread).
  void going_away();

  // ---- nghttp2 callbacks (h2_callbacks.cpp) ----
  int on_begin_headers(int32_t id);
  int on_header(int32_t id, std::string_view name, std::string_view value);
  int on_frame_recv(const nghttp2_frame& frame);
  int on_data(int32_t id, const uint8_t* data, size_t len);
  int on_stream_close(int32_t id);
  void ping_acked();
  void ping_sent() {
    if (frozen_) ping_out_ = true;
  }
  ssize_t read_body(int32_t id, uint8_t* buf, size_t len, uint32_t* flags);

 private:
  Stream* find(int32_t id);
  bool create_session();
  // Feeds what the socket brought to nghttp2; false: a fatal protocol error.
  bool feed();
  // Serialises what nghttp2 has to send into the writer's outbox.
  bool produce();
  // Non-blocking read after the socket was readable; false: EOF or error.
  bool read_available();
  void watch_readable();
  // The request head is complete: answer it (431), dispatch it to the app,
  // or wait for the whole body first (request buffering).
  static void wake_stream(void* stream);
  void start_stream(Stream& s);
  void head_complete(Stream& s);
  void dispatch(Stream& s);
  void fill_request(Stream& s);
  // The app's ops on every dispatched stream (h2_streams.cpp).
  void serve_ops();
  void serve_op(Stream& s);
  void submit_head(Stream& s);
  void submit_early_hints(Stream& s);
  // DATA, END_STREAM or a refusal that came while the app ran, handed to
  // its exchange (the I/O thread owns it: the app waits on a body read).
  void take_held_body(Stream& s);
  void submit_error(Stream& s, int status);
  void resume(Stream& s);
  // Acks the op the app waits for when its condition holds.
  void settle_wait(Stream& s);
  // The app's stream (or the whole connection) went away: fail its waits.
  void fail_stream(Stream& s);
  // Erases streams nobody holds any more.
  void collect();
  void finished(Stream& s);
  void release_window(Stream& s);
  void set_deadline(bool progressed);
  void count_reset();
  // The last stream id: GOAWAY with no new stream taken after it.
  void final_goaway();

  Connection& c_;
  nghttp2_session* session_ = nullptr;
  std::unordered_map<int32_t, std::unique_ptr<Stream>> streams_;
  size_t max_header_list_ = 0;
  bool settings_seen_ = false;  // the client's first SETTINGS arrived
  bool reading_ = false;        // a readable watch is pending
  bool readable_ = false;       // it fired
  bool peer_gone_ = false;      // EOF or a read error
  bool notice_sent_ = false;    // GOAWAY notice + PING sent
  int ping_acks_ = 0;           // PING acks since going_away()
  bool frozen_ = false;         // responses held until the first PING ack
  bool ping_out_ = false;       // ... and that PING was serialised
  bool goaway_sent_ = false;    // the final GOAWAY was submitted
  bool capped_ = false;         // produce() stopped at the outbox's bound
  bool sent_data_ = false;      // DATA went out since the deadline was set
  asio::steady_timer grace_;    // kGoawayGrace after the notice
  bool grace_pending_ = false;
  uint64_t streams_served_ = 0;
  // Rapid Reset (CVE-2023-44487): a token bucket of client resets.
  double reset_tokens_ = 0;
  std::chrono::steady_clock::time_point reset_refill_{};
};

}  // namespace greenfork::worker::http2
