// One HTTP/2 stream of an H2Connection: the request as it arrives (pseudo-
// headers, fields, DATA), the Exchange the app answers through, and the
// response bytes waiting for nghttp2's data provider. Owned by the I/O
// thread; the app thread touches only `exchange`, through its op protocol.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "engine/exchange.hpp"
#include "engine/server.hpp"

namespace greenfork::worker::http2 {

class H2Connection;

struct Stream {
  Stream(H2Connection& connection, int32_t stream_id) : owner(connection), id(stream_id) {}
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // The op the app waits for an ack of (a flush over the bound, a file, a body read).
  enum class Waiting { kNone, kFlush, kFile, kBody };

  H2Connection& owner;
  const int32_t id;
  Exchange exchange;

  // ---- the request head, as HEADERS/CONTINUATION frames bring it ----
  std::string method, path, scheme, authority, cookie;
  std::vector<Header> headers;
  size_t header_bytes = 0;
  size_t fields = 0;
  int reject_status = 0;  // 431: answered without the app

  // ---- life ----
  bool head_done = false;   // the whole request head arrived
  bool dispatched = false;  // handed to the app
  bool app_done = false;    // the app's last op (finish/abort) was seen
  bool closed = false;      // nghttp2 closed the stream
  bool counted = false;     // Server::request_started() was called
  std::optional<Server::PooledRequest> pooled;

  // ---- the request body ----
  bool body_end = false;     // END_STREAM received
  size_t unconsumed = 0;     // received bytes whose window is not reopened yet
  uint64_t body_bytes = 0;   // received in all (--limit-request-body)
  bool body_refused = false; // past the limit while the app reads it
  std::string held;          // DATA received while the app runs (take_held_body)

  // ---- the response ----
  bool head_sent = false;
  std::string out;           // body bytes not yet in DATA frames
  size_t out_pos = 0;
  Exchange::FileSlice file;  // a send_file() slice read as DATA goes out
  bool out_eof = false;      // the app finished: END_STREAM after `out`
  bool deferred = false;     // the data provider said DEFERRED
  Waiting waiting = Waiting::kNone;

  size_t pending() const { return out.size() - out_pos; }
};

}  // namespace greenfork::worker::http2
