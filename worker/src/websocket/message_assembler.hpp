// MessageAssembler: what a WebSocket endpoint receives, with no I/O. Bytes
// from the socket in, in any split; whole messages and control frames out,
// exactly the same events and the same verdict however the bytes are cut.
// It drives a FrameParser (per-frame rules, see frame_parser.hpp) and adds
// the rules that span frames:
//   1002  a continuation frame with no message to continue; a text/binary
//         frame while a fragmented message is unfinished; a close frame with
//         a 1-byte payload or a code not allowed on the wire (1005, 1006,
//         1015, 1004, < 1000, 1016-2999, >= 5000);
//   1007  a text message (or a close reason) that is not UTF-8, checked
//         incrementally: refused at the first bad byte, across fragments;
//         a compressed message zlib cannot inflate;
//   1009  a message longer than max_message_size, refused at the header of
//         the frame that would pass it, before any of it is buffered; for a
//         compressed message, also its inflated size (inflation stops there).
// Control frames (ping, pong, close) may come between a message's fragments
// and are reported at once. After a close frame nothing more is consumed.
//
//   MessageAssembler in({.max_message_size = 16 << 20});
//   std::vector<WsEvent> events;
//   MessageAssembler::Result r = in.feed(bytes, events);
//   for (WsEvent& e : events) deliver(e);      // kText, kBinary, kPing, kPong, kClose
//   if (r.status == MessageAssembler::kError) close_with(in.error().code, in.error().reason);
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "websocket/frame_parser.hpp"
#include "websocket/permessage_deflate.hpp"
#include "websocket/utf8_validator.hpp"

namespace greenfork::worker::websocket {

struct WsEvent {
  enum Kind { kText, kBinary, kPing, kPong, kClose };
  Kind kind = kText;
  // kText/kBinary: the whole message (inflated, UTF-8 checked for text);
  // kPing/kPong: the payload; kClose: the reason (UTF-8).
  std::string data;
  uint16_t code = 0;  // kClose: the peer's code, 1005 when its frame had none
};

struct AssemblerOptions {
  Role role = Role::kServer;
  uint64_t max_message_size = uint64_t{16} << 20;  // --ws-max-size
  // Set when permessage-deflate was negotiated (RSV1 then means compressed).
  std::optional<DeflateParams> deflate;
};

class MessageAssembler : private FrameSink {
 public:
  enum Status { kNeedMore, kClosed, kError };
  struct Result {
    Status status;
    size_t consumed;
  };

  explicit MessageAssembler(const AssemblerOptions& options = {});
  ~MessageAssembler() override;

  // Appends the events `data` completes to `events`. kNeedMore: all of it
  // consumed. kClosed: a close frame was the last event; `consumed` stops
  // after it and later calls consume nothing. kError: error() says how to
  // close (sticky); events before the fault were still appended.
  Result feed(std::string_view data, std::vector<WsEvent>& events);
  const ProtocolError& error() const { return error_; }
  bool closed() const { return closed_; }
  // True between messages: no fragment of an unfinished message is held
  // (control frames aside).
  bool idle() const { return !in_message_; }

 private:
  ProtocolError on_frame_header(const FrameHeader& header) override;
  ProtocolError on_frame_payload(std::string_view bytes) override;
  ProtocolError on_frame_end() override;
  ProtocolError finish_message();
  ProtocolError finish_control();

  AssemblerOptions options_;
  FrameParser parser_;
  std::unique_ptr<MessageInflater> inflater_;
  std::vector<WsEvent>* events_ = nullptr;  // during feed()
  ProtocolError error_;
  bool closed_ = false;

  FrameHeader frame_;  // the frame being read
  bool in_message_ = false;
  bool message_text_ = false;
  bool message_compressed_ = false;
  std::string message_;  // payload so far (compressed when message_compressed_)
  Utf8Validator utf8_;
  std::string control_;  // the control frame's payload (<= 125 bytes)
};

}  // namespace greenfork::worker::websocket
