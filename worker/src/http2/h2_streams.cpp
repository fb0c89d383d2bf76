// H2Connection's streams: a request head becomes an Exchange for the app;
// the app's ops (flush, body read, file, finish) are served here and its
// output leaves through nghttp2's data provider.
#include <unistd.h>

#include <asio/post.hpp>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstring>

#include "engine/connection.hpp"
#include "greenfork/http_token.hpp"
#include "greenfork/worker/http/request_target.hpp"
#include "http/response_head.hpp"
#include "http2/h2_connection.hpp"

namespace greenfork::worker::http2 {

ssize_t h2_read_body_cb(nghttp2_session*, int32_t id, uint8_t* buf, size_t len, uint32_t* flags,
                        nghttp2_data_source*, void* ud);

namespace {

// Connection-specific fields have no place in HTTP/2 (RFC 9113 8.2.2).
bool connection_specific(std::string_view name) {
  return http_token::is_hop_by_hop(name) || http_token::iequals(name, "proxy-connection") ||
         http_token::iequals(name, "te");
}

}  // namespace

// The app asked for an op: the I/O thread looks at the stream's exchange.
void H2Connection::wake_stream(void* arg) {
  auto* s = static_cast<Stream*>(arg);
  Connection& c = s->owner.c_;
  asio::post(c.server_.io(), [s, &c] {
    c.wake_.set();
    s->exchange.wake_ran();
  });
}

void H2Connection::start_stream(Stream& s) {
  const Exchange::Context context{&H2Connection::wake_stream, &s, &c_.server_.closing(),
                                  &c_.server_.host(), nullptr, c_.server_.app().async()};
  s.exchange.reset(context, false);
}

void H2Connection::head_complete(Stream& s) {
  if (s.reject_status != 0) {
    submit_error(s, s.reject_status);
    return;
  }
  const EngineConfig& config = c_.server_.config();
  if (s.body_end) {
    s.exchange.set_body_done();
  } else if (config.request_buffering) {
    // The whole body first, as over HTTP/1.1: the app thread never waits
    // for a slow client.
    s.exchange.spool_body(config.body_buffer_size, &config.worker_tmp_dir);
    return;
  }
  dispatch(s);
}

void H2Connection::fill_request(Stream& s) {
  Request& r = s.exchange.request;
  r.method = std::move(s.method);
  r.target = std::move(s.path);
  http::TargetParts parts = http::split_request_target(r.target);
  r.path = std::move(parts.path);
  r.query = std::move(parts.query);
  r.http_major = 2;
  r.http_minor = 0;
  r.headers = std::move(s.headers);
  // :authority is the Host of an HTTP/1.1 app (RFC 9113 8.3.1).
  if (!s.authority.empty()) r.headers.insert(r.headers.begin(), Header{"host", std::move(s.authority)});
  if (!s.cookie.empty()) r.headers.push_back({"cookie", std::move(s.cookie)});
  r.content_length.reset();
  if (const Header* cl = r.find_header("content-length")) {
    uint64_t n = 0;
    const char* end = cl->value.data() + cl->value.size();
    if (std::from_chars(cl->value.data(), end, n).ptr == end) r.content_length = n;
  }
  // A body without Content-Length: its length is known at END_STREAM only,
  // as an HTTP/1.1 chunked body's is (apps read it to the end).
  r.chunked = !r.content_length && (!s.body_end || s.exchange.has_unread_body());
  r.keep_alive = true;
  r.remote_addr = c_.peer_;
  r.remote_port = c_.peer_port_;
  r.server_name = c_.listener_.host;
  r.server_port = c_.listener_.port;
  r.unix_socket = c_.listener_.unix_socket;
  r.url_scheme = c_.tls_ ? "https" : "http";
  r.tls_client_subject = c_.tls_subject_;
  r.received_at = std::chrono::steady_clock::now();
  r.body = &s.exchange;
  c_.server_.proxy_trust().apply(r);
}

void H2Connection::dispatch(Stream& s) {
  AsyncApplication* async = c_.server_.app().async();
  fill_request(s);
  s.dispatched = true;
  s.counted = true;
  ++streams_served_;
  c_.request_started_ = s.exchange.request.received_at;
  c_.server_.request_started();
  if (async != nullptr) {
    async->submit(s.exchange);
  } else {
    s.pooled.emplace(c_.server_);
    c_.server_.pool().submit(&s.exchange);
  }
}

void H2Connection::submit_error(Stream& s, int status) {
  s.app_done = true;
  std::string name = ":status";
  std::string code = std::to_string(status);
  nghttp2_nv nv{reinterpret_cast<uint8_t*>(name.data()), reinterpret_cast<uint8_t*>(code.data()),
                name.size(), code.size(), NGHTTP2_NV_FLAG_NONE};
  nghttp2_submit_response(session_, s.id, &nv, 1, nullptr);
}

void H2Connection::submit_head(Stream& s) {
  if (s.head_sent || s.closed) return;
  s.head_sent = true;
  const http::AppHead& head = s.exchange.response_head();
  std::vector<std::string> names;
  names.reserve(head.headers.size());
  std::vector<nghttp2_nv> nv;
  nv.reserve(head.headers.size() + 4);
  auto add = [&nv](std::string_view name, std::string_view value) {
    nv.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                  reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                  value.size(), NGHTTP2_NV_FLAG_NONE});
  };
  const std::string status = std::to_string(head.status);
  add(":status", status);
  for (const Header& h : head.headers) {
    if (connection_specific(h.name)) continue;
    std::string& lower = names.emplace_back(h.name);
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    add(lower, h.value);
  }
  const bool no_body = http::status_has_no_body(head.status) || s.exchange.head_only();
  std::string length;
  if (head.content_length) {
    length = std::to_string(*head.content_length);
  } else if (s.out_eof && s.file.count == 0 && !no_body) {
    length = std::to_string(s.pending());  // the whole body is here
  }
  if (!length.empty() && !http::status_has_no_body(head.status)) add("content-length", length);
  const std::string_view date = http::http_date();
  if (!head.has_date) add("date", date);
  if (!head.has_server) add("server", "greenfork");
  if (no_body) {
    s.out.clear();
    s.out_pos = 0;
  }
  nghttp2_data_provider provider{};
  provider.read_callback = h2_read_body_cb;
  const bool empty = s.out_eof && s.pending() == 0 && s.file.count == 0;
  nghttp2_submit_response(session_, s.id, nv.data(), nv.size(), empty ? nullptr : &provider);
}

// 103 Early Hints (RFC 8297 over RFC 9113 8.1): a HEADERS frame with a 1xx
// :status and no END_STREAM, before the final response's HEADERS.
void H2Connection::submit_early_hints(Stream& s) {
  std::vector<Header> hints = s.exchange.take_early_hints();
  if (hints.empty() || s.head_sent || s.closed) return;
  std::vector<nghttp2_nv> nv;
  nv.reserve(hints.size() + 1);
  static const std::string_view kStatus = ":status", k103 = "103";
  auto add = [&nv](std::string_view name, std::string_view value) {
    nv.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                  reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                  value.size(), NGHTTP2_NV_FLAG_NONE});
  };
  add(kStatus, k103);
  for (Header& h : hints) {
    for (char& ch : h.name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    add(h.name, h.value);
  }
  // nghttp2 copies the fields: `hints` may go when this returns.
  nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, s.id, nullptr, nv.data(), nv.size(), nullptr);
}

void H2Connection::resume(Stream& s) {
  if (s.deferred && !s.closed) {
    s.deferred = false;
    nghttp2_session_resume_data(session_, s.id);
  }
}

ssize_t H2Connection::read_body(int32_t id, uint8_t* buf, size_t len, uint32_t* flags) {
  Stream* s = find(id);
  if (s == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  size_t n = std::min(len, s->pending());
  if (n > 0) {
    std::memcpy(buf, s->out.data() + s->out_pos, n);
    s->out_pos += n;
    if (s->out_pos == s->out.size()) {
      s->out.clear();
      s->out_pos = 0;
    }
  } else if (s->file.count > 0) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(len, s->file.count));
    ssize_t got;
    do {
      got = ::pread(s->file.fd, buf, want, s->file.offset);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) {
      // A file shorter than promised: the stream cannot complete.
      s->file = Exchange::FileSlice{};
      if (s->waiting == Stream::Waiting::kFile) {
        s->waiting = Stream::Waiting::kNone;
        s->exchange.ack(false);
      }
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    n = static_cast<size_t>(got);
    s->file.offset += got;
    s->file.count -= n;
  }
  if (n > 0) sent_data_ = true;
  settle_wait(*s);
  if (n == 0 && s->pending() == 0 && s->file.count == 0) {
    if (s->out_eof) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      return 0;
    }
    s->deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  if (s->out_eof && s->pending() == 0 && s->file.count == 0) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

void H2Connection::settle_wait(Stream& s) {
  switch (s.waiting) {
    case Stream::Waiting::kNone:
      return;
    case Stream::Waiting::kFlush:
      if (s.pending() > Outbox::kBound) return;
      break;
    case Stream::Waiting::kFile:
      if (s.file.count > 0) return;
      break;
    case Stream::Waiting::kBody:
      if (!s.exchange.has_unread_body() && !s.body_end && !s.body_refused) return;
      break;
  }
  s.waiting = Stream::Waiting::kNone;
  s.exchange.ack(true);
}

void H2Connection::take_held_body(Stream& s) {
  if (!s.held.empty()) {
    if (Status st = s.exchange.add_body(s.held); !st.ok()) {
      c_.server_.host().log_error(st.message());
      s.body_refused = true;
    }
    s.held.clear();
  }
  if (s.body_refused) {
    s.exchange.set_body_error(413);
  } else if (s.body_end) {
    s.exchange.set_body_done();
  }
}

void H2Connection::fail_stream(Stream& s) {
  // Only while the app waits on an op does the I/O thread own its
  // exchange; a running app finds the stream gone at its next op.
  if (s.waiting != Stream::Waiting::kNone) {
    s.exchange.set_body_error();
    s.waiting = Stream::Waiting::kNone;
    s.exchange.ack(false);
  } else if (AsyncApplication* async = c_.server_.app().async(); async != nullptr) {
    async->disconnected(s.exchange);
  }
  s.file = Exchange::FileSlice{};
}

void H2Connection::serve_ops() {
  for (auto& [id, s] : streams_) {
    if (s->dispatched && !s->app_done) serve_op(*s);
  }
}

void H2Connection::serve_op(Stream& s) {
  const Exchange::Op op = s.exchange.take_op();
  if (op == Exchange::Op::kNone) return;
  const bool gone = s.closed || session_ == nullptr;
  auto take_output = [&s] {
    std::string& out = s.exchange.out();
    if (s.pending() == 0) {
      s.out.swap(out);
      s.out_pos = 0;
    } else {
      s.out.append(out);
    }
    out.clear();
  };
  switch (op) {
    case Exchange::Op::kNone:
      return;
    case Exchange::Op::kFlush:
      if (gone) {
        s.exchange.out().clear();
        s.exchange.ack(false);
        return;
      }
      take_output();
      submit_early_hints(s);
      if (s.exchange.committed()) submit_head(s);  // else a flush of hints only
      resume(s);
      s.waiting = Stream::Waiting::kFlush;
      settle_wait(s);
      return;
    case Exchange::Op::kSendFile:
      if (gone) {
        s.exchange.out().clear();
        s.exchange.ack(false);
        return;
      }
      take_output();
      s.file = s.exchange.file();
      submit_head(s);
      resume(s);
      s.waiting = Stream::Waiting::kFile;
      settle_wait(s);
      return;
    case Exchange::Op::kReadBody:
      if (gone) {
        s.exchange.ack(false);
        return;
      }
      take_held_body(s);
      // The app has read all it was given: the client may send more.
      if (s.unconsumed > 0) {
        nghttp2_session_consume(session_, s.id, s.unconsumed);
        s.unconsumed = 0;
      }
      s.waiting = Stream::Waiting::kBody;
      settle_wait(s);
      return;
    case Exchange::Op::kFinish:
      s.app_done = true;
      s.pooled.reset();
      release_window(s);
      if (!gone) {
        take_output();
        s.out_eof = true;
        submit_head(s);
        resume(s);
      }
      if (s.closed) finished(s);
      return;
    case Exchange::Op::kAbort:
      s.app_done = true;
      s.pooled.reset();
      release_window(s);
      if (!gone) nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_INTERNAL_ERROR);
      if (s.closed) finished(s);
      return;
  }
}

void H2Connection::release_window(Stream& s) {
  // What the app will never read: the client may send the rest (or others).
  if (s.unconsumed > 0 && session_ != nullptr) {
    nghttp2_session_consume(session_, s.id, s.unconsumed);
    s.unconsumed = 0;
  }
}

void H2Connection::finished(Stream& s) {
  if (!s.counted) return;
  s.counted = false;
  c_.server_.request_finished(s.exchange);
}

void H2Connection::collect() {
  for (auto it = streams_.begin(); it != streams_.end();) {
    Stream& s = *it->second;
    const bool released = s.closed && (!s.dispatched || s.app_done) &&
                          s.exchange.wakes_in_flight() == 0;
    if (!released) {
      ++it;
      continue;
    }
    finished(s);
    // A body the app never read: the connection's window reopens.
    if (s.unconsumed > 0 && session_ != nullptr) {
      nghttp2_session_consume_connection(session_, s.unconsumed);
    }
    s.exchange.drop_body();
    it = streams_.erase(it);
  }
}

}  // namespace greenfork::worker::http2
