// Connection's uwsgi protocol (--protocol uwsgi): what nginx's uwsgi_pass
// sends — one request packet (worker/uwsgi/), then CONTENT_LENGTH bytes of
// body — is served as any request (every app kind sees the same Request),
// and answered with an HTTP/1.1 status line, headers and a body that runs
// to the connection's close (no chunked framing: nginx relays the bytes).
// One request per connection, as with nginx's default (no upstream
// keepalive). A packet that is malformed, cut or from a peer outside
// --uwsgi-allow-from closes the connection unanswered, logged.
#include <spdlog/spdlog.h>

#include "engine/connection.hpp"
#include "greenfork/worker/uwsgi/uwsgi_parser.hpp"

namespace greenfork::worker {

namespace {

uwsgi::UwsgiLimits uwsgi_limits(const http::ParserLimits& l) {
  uwsgi::UwsgiLimits limits;
  // The header fields plus the CGI variables nginx's uwsgi_params sends.
  limits.vars = (l.fields != 0 ? l.fields : 32768) + 32;
  limits.var_size = l.field_size != 0 ? l.field_size : 65535;
  limits.request_line = l.request_line;
  return limits;
}

}  // namespace

asio::awaitable<void> Connection::serve_uwsgi(const Exchange::Context& context) {
  const EngineConfig& config = server_.config();
  // A unix socket's peer has no address to check: it is a local proxy.
  if (!listener_.unix_socket && !server_.uwsgi_allow_from().allows(peer_)) {
    spdlog::info("Closing uwsgi connection from {}: not in --uwsgi-allow-from", peer_);
    co_return;
  }
  // 1. The packet, under --header-timeout.
  state_ = State::kHead;
  deadline_.reading_head();
  const uwsgi::UwsgiLimits limits = uwsgi_limits(config.limits);
  uwsgi::UwsgiParser parser(limits);
  uwsgi::UwsgiParse parsed;
  for (;;) {
    parsed = parser.parse(input_.unread());
    if (parsed.status == uwsgi::UwsgiParse::kComplete) break;
    if (parsed.status == uwsgi::UwsgiParse::kError) {
      spdlog::info("Closing uwsgi connection from {}: {}", peer_, parser.error());
      co_return;
    }
    if (!co_await read_more()) {
      spdlog::debug("uwsgi connection from {} closed or timed out before its packet ended", peer_);
      co_return;
    }
  }
  input_.consume(parsed.consumed);
  StatusOr<uwsgi::UwsgiRequest> request = uwsgi::to_request(parser.vars(), limits);
  if (!request.ok()) {
    spdlog::info("Closing uwsgi connection from {}: {}", peer_, request.status().message());
    co_return;
  }
  const uint64_t length = request->content_length.value_or(0);
  if (config.limits.body != 0 && length > config.limits.body) {
    state_ = State::kWrite;
    co_await send_error(413, "request body too large");
    co_return;
  }

  // 2. The request, as the HTTP/1.1 path builds it, then what the packet
  // says of the client (nginx's REMOTE_ADDR beats any X-Forwarded-For).
  state_ = State::kBusy;
  deadline_.clear();
  request_started_ = Clock::now();
  exchange_.reset(context, false);
  exchange_.set_uwsgi(true);
  http::RequestHead head;
  head.method = std::move(request->method);
  head.target = std::move(request->target);
  head.http_major = request->http_major;
  head.http_minor = request->http_minor;
  head.headers = std::move(request->headers);
  head.keep_alive = false;
  head.content_length = request->content_length;
  fill_request(head);
  Request& r = exchange_.request;
  if (!request->remote_addr.empty()) r.remote_addr = request->remote_addr;
  if (request->remote_port) r.remote_port = *request->remote_port;
  if (!request->server_name.empty()) r.server_name = request->server_name;
  if (!request->server_port.empty()) r.server_port = request->server_port;
  if (request->scheme) r.url_scheme = *request->scheme;

  // 3. The body, read whole before the app runs (nginx has buffered it).
  exchange_.spool_body(config.body_buffer_size, &config.worker_tmp_dir);
  uint64_t left = length;
  while (left > 0) {
    if (input_.empty()) {
      state_ = State::kBody;
      deadline_.reading_body();
      const bool more = co_await read_more();
      deadline_.clear();
      state_ = State::kBusy;
      if (!more) {
        spdlog::debug("uwsgi connection from {} closed or timed out in its body", peer_);
        co_return;
      }
    }
    const std::string_view unread = input_.unread();
    const size_t n = static_cast<size_t>(std::min<uint64_t>(left, unread.size()));
    std::string bytes(unread.substr(0, n));
    input_.consume(n);
    left -= n;
    if (Status s = exchange_.add_body(bytes); !s.ok()) {
      server_.host().log_error(s.message());
      state_ = State::kWrite;
      co_await send_error(503, "the request body could not be buffered");
      co_return;
    }
  }
  exchange_.set_body_done();
  const bool run_inline = server_.app_inline() && server_.pooled_requests() == 0;
  exchange_.set_inline(run_inline);

  // 4. The app, then the response; the connection closes after it.
  const bool ok = run_inline ? run_app_inline() : co_await run_app_pooled();
  if (ok) co_await writer_.drain();
  exchange_.drop_body();
  ++requests_;
  server_.request_finished(exchange_);
}

}  // namespace greenfork::worker
