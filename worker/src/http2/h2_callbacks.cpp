// H2Connection's nghttp2 session: its options and settings (the limits),
// and the callbacks through which nghttp2 reports what it parsed.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

#include "engine/connection.hpp"
#include "greenfork/http_token.hpp"
#include "http2/h2_connection.hpp"

namespace greenfork::worker::http2 {

namespace {

constexpr uint32_t kMaxConcurrentStreams = 100;
constexpr uint32_t kHeaderTableSize = 4096;
// HEADERS + CONTINUATION frames of one header block (CVE-2024-27316).
constexpr size_t kMaxContinuations = 8;
// nghttp2's own bound on queued SETTINGS/PING acks (a client that never
// reads them back) and on entries in one SETTINGS frame.
constexpr size_t kMaxOutboundAck = 1000;
constexpr size_t kMaxSettings = 32;

H2Connection& self(void* user_data) { return *static_cast<H2Connection*>(user_data); }

int begin_headers_cb(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  return self(ud).on_begin_headers(frame->hd.stream_id);
}

int header_cb(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
              const uint8_t* value, size_t valuelen, uint8_t, void* ud) {
  if (frame->hd.type != NGHTTP2_HEADERS) return 0;
  return self(ud).on_header(frame->hd.stream_id,
                            {reinterpret_cast<const char*>(name), namelen},
                            {reinterpret_cast<const char*>(value), valuelen});
}

int frame_recv_cb(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
  return self(ud).on_frame_recv(*frame);
}

int data_chunk_cb(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len, void* ud) {
  return self(ud).on_data(id, data, len);
}

int stream_close_cb(nghttp2_session*, int32_t id, uint32_t, void* ud) {
  return self(ud).on_stream_close(id);
}

int frame_send_cb(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
  if (frame->hd.type == NGHTTP2_PING && (frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) {
    self(ud).ping_sent();
  }
  return 0;
}

int error_cb(nghttp2_session*, int, const char* msg, size_t len, void*) {
  spdlog::debug("HTTP/2: {}", std::string_view(msg, len));
  return 0;
}

}  // namespace

ssize_t h2_read_body_cb(nghttp2_session*, int32_t id, uint8_t* buf, size_t len, uint32_t* flags,
                        nghttp2_data_source*, void* ud) {
  return self(ud).read_body(id, buf, len, flags);
}

bool H2Connection::create_session() {
  nghttp2_session_callbacks* cbs = nullptr;
  if (nghttp2_session_callbacks_new(&cbs) != 0) return false;
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, begin_headers_cb);
  nghttp2_session_callbacks_set_on_header_callback(cbs, header_cb);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, frame_recv_cb);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, data_chunk_cb);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, stream_close_cb);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, frame_send_cb);
  nghttp2_session_callbacks_set_error_callback2(cbs, [](nghttp2_session* s, int code, const char* m,
                                                       size_t n, void* ud) { return error_cb(s, code, m, n, ud); });
  nghttp2_option* opt = nullptr;
  if (nghttp2_option_new(&opt) != 0) {
    nghttp2_session_callbacks_del(cbs);
    return false;
  }
  // Windows reopen only as the app consumes (or the spool takes) the body.
  nghttp2_option_set_no_auto_window_update(opt, 1);
  nghttp2_option_set_max_deflate_dynamic_table_size(opt, kHeaderTableSize);
  nghttp2_option_set_max_outbound_ack(opt, kMaxOutboundAck);
  nghttp2_option_set_max_settings(opt, kMaxSettings);
  nghttp2_option_set_max_continuations(opt, kMaxContinuations);
  // nghttp2's own Rapid Reset bound, above ours (count_reset) as a backstop.
  nghttp2_option_set_stream_reset_rate_limit(opt, 4000, 400);
  const int rv = nghttp2_session_server_new2(&session_, cbs, this, opt);
  nghttp2_option_del(opt);
  nghttp2_session_callbacks_del(cbs);
  if (rv != 0) return false;

  // MAX_HEADER_LIST_SIZE from --limit-request-fields/-field_size (RFC 9113
  // counts 32 bytes per field on top of its name and value).
  const http::ParserLimits& limits = c_.server_.config().limits;
  const size_t fields = limits.fields != 0 ? limits.fields : 32768;
  const size_t field = limits.field_size != 0 ? limits.field_size : 8190;
  max_header_list_ = std::min<size_t>(fields * (field + 32), 0x7fffffff);
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<uint32_t>(kStreamWindow)},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(max_header_list_)},
      {NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, kHeaderTableSize},
  };
  if (nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings)) != 0) {
    return false;
  }
  return nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow) == 0;
}

int H2Connection::on_begin_headers(int32_t id) {
  if (goaway_sent_ || find(id) != nullptr) return 0;
  auto stream = std::make_unique<Stream>(*this, id);
  start_stream(*stream);
  streams_.emplace(id, std::move(stream));
  return 0;
}

int H2Connection::on_header(int32_t id, std::string_view name, std::string_view value) {
  Stream* s = find(id);
  if (s == nullptr || s->head_done) return 0;  // trailers are ignored
  const http::ParserLimits& limits = c_.server_.config().limits;
  s->header_bytes += name.size() + value.size() + 32;
  if (s->header_bytes > max_header_list_ ||
      (limits.field_size != 0 && name.size() + value.size() + 2 > limits.field_size + 2) ||
      (limits.fields != 0 && ++s->fields > limits.fields)) {
    s->reject_status = 431;
  }
  if (s->reject_status != 0) return 0;
  if (!name.empty() && name[0] == ':') {
    // nghttp2 has checked the pseudo-headers (RFC 9113 8.3.1).
    if (name == ":method") s->method = value;
    else if (name == ":path") s->path = value;
    else if (name == ":scheme") s->scheme = value;
    else if (name == ":authority") s->authority = value;
    return 0;
  }
  // As for HTTP/1.1: a '_' could pass for a '-' in a CGI-style name.
  if (name.find('_') != std::string_view::npos) return 0;
  if (name == "cookie") {
    // RFC 9113 8.2.3: cookie crumbs are joined back for HTTP/1.1 apps.
    if (!s->cookie.empty()) s->cookie.append("; ");
    s->cookie.append(value);
    return 0;
  }
  if (name == "host" && !s->authority.empty()) return 0;
  s->headers.push_back({std::string(name), std::string(value)});
  return 0;
}

int H2Connection::on_frame_recv(const nghttp2_frame& frame) {
  switch (frame.hd.type) {
    case NGHTTP2_SETTINGS:
      settings_seen_ = true;
      break;
    case NGHTTP2_PING:
      if ((frame.hd.flags & NGHTTP2_FLAG_ACK) != 0) ping_acked();
      break;
    case NGHTTP2_RST_STREAM:
      count_reset();
      break;
    case NGHTTP2_HEADERS:
    case NGHTTP2_DATA: {
      Stream* s = find(frame.hd.stream_id);
      if (s == nullptr) break;
      const bool end = (frame.hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
      if (frame.hd.type == NGHTTP2_HEADERS && !s->head_done) {
        s->head_done = true;
        s->body_end = end;
        head_complete(*s);
      } else if (end && !s->body_end) {
        s->body_end = true;
        // A running app owns its exchange until it asks for more body:
        // then (serve_op, kReadBody) it learns of the end.
        if (!s->dispatched || s->waiting == Stream::Waiting::kBody) take_held_body(*s);
        if (!s->dispatched && s->head_done && s->reject_status == 0) dispatch(*s);
        settle_wait(*s);
      }
      break;
    }
    default:
      break;
  }
  return 0;
}

int H2Connection::on_data(int32_t id, const uint8_t* data, size_t len) {
  Stream* s = find(id);
  if (s == nullptr || s->reject_status != 0 || s->app_done) {
    nghttp2_session_consume(session_, id, len);
    return 0;
  }
  // --limit-request-body: 413 before the app runs, else its read fails
  // (the app's error answer is then the 413).
  const uint64_t limit = c_.server_.config().limits.body;
  s->body_bytes += len;
  if (limit != 0 && s->body_bytes > limit) {
    nghttp2_session_consume(session_, id, len);
    if (!s->dispatched) {
      s->reject_status = 413;
      submit_error(*s, 413);
    } else {
      s->body_refused = true;
      if (s->waiting == Stream::Waiting::kBody) take_held_body(*s);
      settle_wait(*s);
    }
    return 0;
  }
  if (s->dispatched && s->waiting != Stream::Waiting::kBody) {
    // The app thread may be reading the exchange's body right now: these
    // bytes reach it at its next body read (serve_op, kReadBody), when the
    // I/O thread owns the exchange again. Their window stays closed until then.
    s->held.append(reinterpret_cast<const char*>(data), len);
    s->unconsumed += len;
    return 0;
  }
  std::string bytes(reinterpret_cast<const char*>(data), len);
  if (Status st = s->exchange.add_body(bytes); !st.ok()) {
    c_.server_.host().log_error(st.message());
    s->exchange.set_body_error(503);
    nghttp2_session_consume(session_, id, len);
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, id, NGHTTP2_INTERNAL_ERROR);
    return 0;
  }
  if (!s->dispatched) {
    // Spooled (request buffering): the spool bounds the memory.
    nghttp2_session_consume(session_, id, len);
  } else {
    s->unconsumed += len;
    settle_wait(*s);
  }
  return 0;
}

int H2Connection::on_stream_close(int32_t id) {
  Stream* s = find(id);
  if (s == nullptr) return 0;
  s->closed = true;
  if (s->dispatched && !s->app_done) fail_stream(*s);
  if (s->dispatched && s->app_done) finished(*s);
  return 0;
}

void H2Connection::count_reset() {
  // Rapid Reset: a burst of 200 resets, refilled at 100 a second; past it
  // the client is told to calm down and the connection ends.
  constexpr double kBurst = 200;
  constexpr double kRate = 100;
  const auto now = std::chrono::steady_clock::now();
  if (reset_refill_ == std::chrono::steady_clock::time_point{}) {
    reset_tokens_ = kBurst;
  } else {
    reset_tokens_ = std::min(
        kBurst, reset_tokens_ + kRate * std::chrono::duration<double>(now - reset_refill_).count());
  }
  reset_refill_ = now;
  reset_tokens_ -= 1;
  if (reset_tokens_ < 0 && !goaway_sent_) {
    spdlog::warn("HTTP/2 client {} reset streams too fast: GOAWAY ENHANCE_YOUR_CALM", c_.peer_);
    goaway_sent_ = true;
    nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
  }
}

}  // namespace greenfork::worker::http2
