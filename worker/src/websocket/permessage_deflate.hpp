// permessage-deflate (RFC 7692): the negotiation from a client's
// Sec-WebSocket-Extensions offers, and the per-message compressor and
// decompressor (zlib raw deflate, the 0x00 0x00 0xff 0xff tail removed on
// the wire and put back to inflate).
//
//   std::optional<DeflateAgreement> a =
//       negotiate_permessage_deflate(head_extensions, DeflateConfig{});
//   if (a) response_headers.push_back({"Sec-WebSocket-Extensions", a->response});
//   MessageDeflater out(a->params);   // server -> client messages
//   MessageInflater in(a->params);    // client -> server messages
//   ProtocolError e = in.inflate(payload, max_size, message);  // 1009 past max_size
#pragma once

#include <zlib.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "websocket/frame.hpp"

namespace greenfork::worker::websocket {

// What was agreed (RFC 7692 section 7.1), from the server's side.
struct DeflateParams {
  bool server_no_context_takeover = false;  // the server resets its compressor per message
  bool client_no_context_takeover = false;  // the client does: our decompressor may too
  int server_max_window_bits = 15;          // our compressor's LZ77 window
  int client_max_window_bits = 15;          // the client's (our decompressor accepts any)
};

// The server's preferences.
// The defaults keep zlib's state per connection small (as python
// websockets does): the compressor's 4 KiB window and memLevel 5 take
// ~ 38 KiB instead of zlib's default ~ 262 KiB (zlib.h's formula), for
// 1,000s of WebSockets per worker; the decompressor takes ~ 39 KiB with a
// client's full window.
struct DeflateConfig {
  bool enabled = true;
  // Ask for no context takeover on our side even when the client did not
  // (costs compression, saves the compressor's window between messages).
  bool server_no_context_takeover = false;
  // Our compressor's window (9..15); announced when below 15 or asked for;
  // a client's lower server_max_window_bits wins.
  int server_max_window_bits = 12;
  // The client's window we ask for (8..15), only when its offer carries
  // client_max_window_bits (RFC 7692 7.1.2.2); its lower value wins.
  int client_max_window_bits = 15;
  int compression_level = Z_DEFAULT_COMPRESSION;
  int mem_level = 5;  // zlib's deflate memLevel (1..9)
};

struct DeflateAgreement {
  DeflateParams params;
  std::string response;  // the Sec-WebSocket-Extensions value to answer with
  int compression_level = Z_DEFAULT_COMPRESSION;
  int mem_level = 8;
};

// Accepts the first permessage-deflate offer in `offers` (all the request's
// Sec-WebSocket-Extensions values, joined with ", ") whose parameters are
// valid (the windows then are the lower of offer and config): each at most once, no value for the *_no_context_takeover ones,
// server_max_window_bits=9..15 (8 is declined: zlib's raw deflate cannot
// honour it), client_max_window_bits with no value or 8..15, nothing else.
// Offers of other extensions are ignored. nullopt: no compression (none
// offered, none acceptable, a malformed header, or config.enabled false).
std::optional<DeflateAgreement> negotiate_permessage_deflate(std::string_view offers,
                                                             const DeflateConfig& config);

// Compresses whole messages for the wire (the caller sets RSV1 on the frame).
class MessageDeflater {
 public:
  explicit MessageDeflater(const DeflateParams& params, int level = Z_DEFAULT_COMPRESSION, int mem_level = 8);
  ~MessageDeflater();
  MessageDeflater(const MessageDeflater&) = delete;
  MessageDeflater& operator=(const MessageDeflater&) = delete;

  std::string deflate(std::string_view message);

 private:
  z_stream z_{};
  bool reset_each_message_;
};

// Decompresses whole messages, never producing more than a bound.
class MessageInflater {
 public:
  explicit MessageInflater(const DeflateParams& params);
  ~MessageInflater();
  MessageInflater(const MessageInflater&) = delete;
  MessageInflater& operator=(const MessageInflater&) = delete;

  // Appends the decompressed `payload` to `out`. Stops as soon as the output
  // would pass `max_size` bytes and says 1009 (a zip bomb is never inflated
  // whole); undecodable data is 1007. After an error the context is lost:
  // the connection is to be failed.
  ProtocolError inflate(std::string_view payload, uint64_t max_size, std::string& out);

 private:
  z_stream z_{};
  bool reset_each_message_;
};

}  // namespace greenfork::worker::websocket
