// 103 Early Hints (RFC 8297): over HTTP/1.1 an informational head written
// ahead of the final response, through the same path as a flush; over
// HTTP/2 the fields are handed to the stream layer on that flush. HTTP/1.0
// has no 1xx responses (RFC 9110 15.2: a server must not send one to an
// HTTP/1.0 client), nor does the uwsgi protocol: there the call sends
// nothing, as in Gunicorn.
#include "engine/exchange.hpp"

namespace greenfork::worker {

StatusOr<bool> Exchange::frame_early_hints(std::vector<Header> headers) {
  // Checked first, whatever the protocol: a bad header is the app's bug
  // and is reported even where nothing would have been sent.
  http::AppHead hints;
  if (Status s = http::check_app_head(103, "Early Hints", std::move(headers), hints); !s.ok()) {
    return s;
  }
  if (started_ || committed_ || finished_ || uwsgi_) return false;
  if (request.http_major == 2) {
    // The stream layer sends them as a non-final HEADERS frame
    // (http2/h2_streams.cpp), on the flush that follows.
    for (Header& h : hints.headers) h2_hints_.push_back(std::move(h));
    return true;
  }
  if (request.http_major != 1 || request.http_minor < 1) return false;
  out_.append("HTTP/1.1 103 Early Hints\r\n");
  for (const Header& h : hints.headers) {
    out_.append(h.name);
    out_.append(": ");
    out_.append(h.value);
    out_.append("\r\n");
  }
  out_.append("\r\n");
  return true;
}

StatusOr<bool> Exchange::send_early_hints(std::vector<Header> headers) {
  if (aborted_ || gone_) throw ClientGone("the connection was closed");
  StatusOr<bool> framed = frame_early_hints(std::move(headers));
  if (!framed.ok() || !*framed) return framed;
  deliver(Op::kFlush);
  return true;
}

StatusOr<bool> Exchange::early_hints(std::vector<Header> headers) {
  if (aborted_ || gone_) throw ClientGone("the connection was closed");
  StatusOr<bool> framed = frame_early_hints(std::move(headers));
  if (!framed.ok() || !*framed) return framed;
  request_op(Op::kFlush, false);
  return true;
}

}  // namespace greenfork::worker
