#include "websocket/message_assembler.hpp"

namespace greenfork::worker::websocket {

namespace {

ProtocolError too_big(uint64_t max) {
  return {close_code::kMessageTooBig, "message larger than " + std::to_string(max) + " bytes"};
}

}  // namespace

MessageAssembler::MessageAssembler(const AssemblerOptions& options)
    : options_(options),
      parser_(FrameParserOptions{.role = options.role, .rsv1_allowed = options.deflate.has_value()}) {
  if (options_.deflate) inflater_ = std::make_unique<MessageInflater>(*options_.deflate);
}

MessageAssembler::~MessageAssembler() = default;

MessageAssembler::Result MessageAssembler::feed(std::string_view data, std::vector<WsEvent>& events) {
  if (error_) return {kError, 0};
  size_t used = 0;
  events_ = &events;
  while (!closed_) {
    FrameParser::Result r = parser_.feed(data.substr(used), *this);
    used += r.consumed;
    if (r.status == FrameParser::kError) {
      error_ = parser_.error();
      events_ = nullptr;
      return {kError, used};
    }
    if (r.status == FrameParser::kNeedMore) {
      events_ = nullptr;
      return {kNeedMore, used};
    }
  }
  events_ = nullptr;
  return {kClosed, used};
}

ProtocolError MessageAssembler::on_frame_header(const FrameHeader& header) {
  frame_ = header;
  if (is_control(header.opcode)) {
    control_.clear();
    return {};
  }
  if (header.opcode == Opcode::kContinuation) {
    if (!in_message_) return {close_code::kProtocolError, "continuation frame without a message to continue"};
  } else {
    if (in_message_) {
      return {close_code::kProtocolError, "new data frame while a fragmented message is unfinished"};
    }
    in_message_ = true;
    message_text_ = header.opcode == Opcode::kText;
    message_compressed_ = header.rsv1;
    message_.clear();
    utf8_.reset();
  }
  // Before a byte of it is buffered (for a compressed message this bounds
  // the compressed bytes; inflating is bounded separately).
  if (header.length > options_.max_message_size - message_.size()) {
    return too_big(options_.max_message_size);
  }
  return {};
}

ProtocolError MessageAssembler::on_frame_payload(std::string_view bytes) {
  if (is_control(frame_.opcode)) {
    control_.append(bytes);
    return {};
  }
  message_.append(bytes);
  if (message_text_ && !message_compressed_ && !utf8_.feed(bytes)) {
    return {close_code::kInvalidPayload, "text message is not valid UTF-8"};
  }
  return {};
}

ProtocolError MessageAssembler::on_frame_end() {
  if (is_control(frame_.opcode)) return finish_control();
  if (!frame_.fin) return {};
  return finish_message();
}

ProtocolError MessageAssembler::finish_message() {
  WsEvent e;
  e.kind = message_text_ ? WsEvent::kText : WsEvent::kBinary;
  if (message_compressed_) {
    if (ProtocolError err = inflater_->inflate(message_, options_.max_message_size, e.data)) return err;
    if (message_text_ && !valid_utf8(e.data)) {
      return {close_code::kInvalidPayload, "text message is not valid UTF-8"};
    }
  } else {
    if (message_text_ && !utf8_.complete()) {
      return {close_code::kInvalidPayload, "text message is not valid UTF-8"};
    }
    e.data = std::move(message_);
  }
  message_ = std::string();  // give back a large message's buffer
  in_message_ = false;
  events_->push_back(std::move(e));
  return {};
}

ProtocolError MessageAssembler::finish_control() {
  WsEvent e;
  if (frame_.opcode == Opcode::kPing) {
    e.kind = WsEvent::kPing;
    e.data = control_;
  } else if (frame_.opcode == Opcode::kPong) {
    e.kind = WsEvent::kPong;
    e.data = control_;
  } else {
    e.kind = WsEvent::kClose;
    if (control_.empty()) {
      e.code = close_code::kNoStatus;
    } else if (control_.size() == 1) {
      return {close_code::kProtocolError, "close frame with a 1-byte payload"};
    } else {
      e.code = static_cast<uint16_t>((static_cast<unsigned char>(control_[0]) << 8) |
                                     static_cast<unsigned char>(control_[1]));
      if (!close_code_valid_on_wire(e.code)) {
        return {close_code::kProtocolError, "close code " + std::to_string(e.code) + " is not allowed on the wire"};
      }
      e.data = control_.substr(2);
      if (!valid_utf8(e.data)) return {close_code::kInvalidPayload, "close reason is not valid UTF-8"};
    }
    closed_ = true;
  }
  events_->push_back(std::move(e));
  return {};
}

}  // namespace greenfork::worker::websocket
