// Connection's WebSocket path (async apps only): the upgrade request goes
// to the app as an AsyncWebSocket (ASGI websocket.connect); the app's
// decision is answered here (101 and a WsSession over the socket, 403 when
// it closed first, 500 when it failed), then the session serves the
// connection until it closes and the app is done with it.
#include <spdlog/spdlog.h>

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
  if (check.ok() && tls_) {
    // WsSession reads and writes the plain socket: no wss:// yet.
    check.status = 501;
    check.reason = "WebSockets over TLS (wss://) are not supported yet: terminate TLS in a reverse proxy";
    check.headers.clear();
  }
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
  while (bridge->decision.kind == WsBridge::Decision::kNone) co_await bridge->event.wait();

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
    case WsBridge::Decision::kFail:
      response = http::error_response(500, "the application failed");
      break;
    default:  // closed before accepting (or returned without a word)
      response = http::error_response(403, "the application refused the WebSocket connection");
      break;
  }
  const bool upgraded = response.rfind("HTTP/1.1 101", 0) == 0;
  const bool written = co_await writer_.write_all(response);
  if (upgraded && written && !closed_) {
    websocket::WsSessionOptions options;
    options.max_message_size = config.ws_max_size;
    options.deflate = deflate;
    options.ping_interval = config.ws_ping_interval;
    options.ping_timeout = config.ws_ping_timeout;
    options.write_timeout = config.write_timeout;
    std::string already_read(input_.unread());
    input_.consume(already_read.size());
    ws_session_ = websocket::WsSession::create(std::move(socket_), *bridge, options,
                                               std::move(already_read));
    bridge->attach(ws_session_);
    if (server_.stopping().load()) ws_session_->close(websocket::close_code::kGoingAway);
    co_await ws_session_->run();
  } else if (written && !upgraded) {
    co_await linger();
  }
  // The app hears websocket.disconnect (1006 when it never opened).
  bridge->end(websocket::close_code::kAbnormal);
  while (!bridge->app_done) co_await bridge->event.wait();
}

}  // namespace greenfork::worker
