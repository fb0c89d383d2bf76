// Connection's WebSocket path (async apps only): the upgrade request goes
// to the app as an AsyncWebSocket (ASGI websocket.connect); the app's
// decision is answered here (101 and a WsSession over the socket or its TLS
// stream, 403 when it closed first, 500 when it failed), then the session
// serves the connection until it closes and the app is done with it.
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "engine/connection.hpp"
#include "http2/h2_connection.hpp"
#include "engine/ws_bridge.hpp"
#include "http/response_head.hpp"
#include "websocket/handshake.hpp"
#include "websocket/permessage_deflate.hpp"
#include "websocket/session.hpp"

namespace greenfork::worker {

namespace {

// Messages waiting for the app's receive() before the socket is no longer
// read, and bytes waiting to be written before the app's send() waits.
constexpr size_t kMaxInbox = 64;
constexpr size_t kSendBound = 256 * 1024;

// error_response() with extra header lines after the status line.
std::string refusal(int status, std::string_view reason, const std::vector<Header>& headers) {
  std::string response = http::error_response(status, reason);
  std::string extra;
  for (const Header& h : headers) extra += h.name + ": " + h.value + "\r\n";
  response.insert(response.find("\r\n") + 2, extra);
  return response;
}

// The status, header lines and body size of a response we wrote (for the
// access log).
void describe_response(std::string_view response, int& status, std::vector<Header>& headers,
                       uint64_t& body_bytes) {
  status = response.size() > 12 ? std::atoi(std::string(response.substr(9, 3)).c_str()) : 0;
  const size_t end = response.find("\r\n\r\n");
  body_bytes = end == std::string_view::npos ? 0 : response.size() - end - 4;
  size_t at = response.find("\r\n");
  while (at != std::string_view::npos && at < end) {
    const size_t next = response.find("\r\n", at + 2);
    const std::string_view line = response.substr(at + 2, next - at - 2);
    const size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      const size_t value = line.find_first_not_of(' ', colon + 1);
      headers.push_back(Header{std::string(line.substr(0, colon)),
                               std::string(value == std::string_view::npos ? "" : line.substr(value))});
    }
    at = next;
  }
}

// The app's websocket.http.response (instead of accepting): its status,
// headers and body, with Content-Length, and the connection closes.
std::string denial(WsBridge::Decision& decision, WorkerHost& host) {
  std::string response;
  if (decision.status < 200) {
    host.log_error("websocket.http.response.start: status " + std::to_string(decision.status) +
                   " is not a final status (200-999)");
    return http::error_response(500, "the application's websocket.http.response was invalid");
  }
  StatusOr<http::AppHead> head = http::check_app_head(decision.status, "", std::move(decision.headers));
  if (!head.ok()) {
    host.log_error("websocket.http.response.start refused: " + head.status().message());
    return http::error_response(500, "the application's websocket.http.response was invalid");
  }
  if (http::status_has_no_body(decision.status)) decision.body.clear();
  http::serialize_head(*head, http::Framing::kContentLength, decision.body.size(), false, false, response);
  response += decision.body;
  return response;
}

}  // namespace

void Connection::going_away() {
  if (ws_session_) ws_session_->close(websocket::close_code::kGoingAway);
  if (h2_ != nullptr) h2_->going_away();
}

asio::awaitable<void> Connection::serve_websocket() {
  const EngineConfig& config = server_.config();
  websocket::UpgradeCheck check = websocket::check_upgrade_request(parser_.head());
  state_ = State::kWrite;
  deadline_.clear();
  if (!check.ok()) {
    if (co_await writer_.write_all(refusal(check.status, check.reason, check.headers))) {
      co_await linger();
    }
    co_return;
  }
  std::optional<websocket::DeflateAgreement> deflate;
  if (config.ws_per_message_deflate) {
    deflate = websocket::negotiate_permessage_deflate(check.request.extensions,
                                                      websocket::DeflateConfig{});
  }
  request_started_ = Clock::now();
  fill_request(parser_.head());
  exchange_.request.url_scheme = exchange_.request.url_scheme == "https" ? "wss" : "ws";
  exchange_.request.body = nullptr;
  auto bridge = std::make_shared<WsBridge>(server_.io(), *server_.app().async(), exchange_.request,
                                           check.request.subprotocols, kMaxInbox, kSendBound);
  state_ = State::kWebSocket;
  server_.app().async()->ws_connect(*bridge);
  // The client may leave before the app decides: the app hears
  // websocket.disconnect (1006) at once, as with uvicorn, and no 101 goes out.
  bool gone = false;
  bool watched = false;  // the client is gone, or sent bytes early: not watched further
  while (bridge->decision.kind == WsBridge::Decision::kNone) {
    if (!watched && !peer_watch_ && !closed_) {
      peer_watch_ = true;
      socket_.async_wait(asio::socket_base::wait_read, [this, bridge](const asio::error_code&) {
        peer_watch_ = false;
        peer_readable_ = true;
        bridge->event.set();
        wake_.set();  // serve() waits on it for this handler
      });
    }
    co_await bridge->event.wait();
    if (peer_readable_) {
      peer_readable_ = false;
      watched = true;
      if (peer_closed()) {
        gone = true;
        bridge->end(websocket::close_code::kAbnormal);
      }
    }
  }
  if (peer_watch_) socket_.cancel();  // the session reads the socket now

  std::string response;
  switch (bridge->decision.kind) {
    case WsBridge::Decision::kAccept: {
      websocket::AcceptOptions accept{.subprotocol = bridge->decision.subprotocol,
                                      .extensions = deflate ? deflate->response : "",
                                      .headers = std::move(bridge->decision.headers)};
      StatusOr<std::string> head = websocket::build_accept_response(check.request, accept);
      if (head.ok()) {
        response = std::move(*head);
      } else {
        server_.host().log_error("websocket.accept refused: " + head.status().message());
        response = http::error_response(500, "the application's websocket.accept was invalid");
      }
      break;
    }
    case WsBridge::Decision::kDeny:
      response = denial(bridge->decision, server_.host());
      break;
    case WsBridge::Decision::kFail:
      response = http::error_response(500, "the application failed");
      break;
    default:  // closed before accepting (or returned without a word)
      response = http::error_response(403, "the application refused the WebSocket connection");
      break;
  }
  const bool upgraded = response.rfind("HTTP/1.1 101", 0) == 0;
  // The app answered: one request for --max-requests (the one that reaches
  // it starts the drain, which closes open WebSockets with 1001, as TERM),
  // logged when the connection ends (uvicorn's and Gunicorn's access line:
  // 101 and the session's duration); not a request in flight meanwhile.
  server_.request_started(false);
  {
    int status = 0;
    std::vector<Header> headers;
    uint64_t body_bytes = 0;
    describe_response(response, status, headers, body_bytes);
    exchange_.note_response(status, std::move(headers), body_bytes);
  }
  const bool written = !gone && co_await writer_.write_all(response);
  if (upgraded && written && !closed_) {
    websocket::WsSessionOptions options;
    options.max_message_size = config.ws_max_size;
    options.deflate = deflate;
    options.ping_interval = config.ws_ping_interval;
    options.ping_timeout = config.ws_ping_timeout;
    options.write_timeout = config.write_timeout;
    std::string already_read(input_.unread());
    input_.consume(already_read.size());
    // wss://: the TLS stream goes with the socket (the writer no longer
    // uses either).
    writer_.use_tls(nullptr);
    ws_session_ = websocket::WsSession::create(std::move(socket_), *bridge, options,
                                               std::move(already_read), std::move(tls_));
    bridge->attach(ws_session_);
    if (server_.stopping().load()) ws_session_->close(websocket::close_code::kGoingAway);
    co_await ws_session_->run();
  } else if (written && !upgraded) {
    co_await linger();
  }
  // The app hears websocket.disconnect (1006 when it never opened).
  bridge->end(websocket::close_code::kAbnormal);
  while (!bridge->app_done) co_await bridge->event.wait();
  server_.request_finished(exchange_, false);
}

}  // namespace greenfork::worker
