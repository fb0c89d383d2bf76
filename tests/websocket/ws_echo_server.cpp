// A WebSocket echo server built from the protocol layer alone (no gworker):
// the engine's RequestParser reads the upgrade request, handshake.hpp checks
// it and writes the 101, permessage-deflate is negotiated, and a WsSession
// echoes. test_ws_interop.py drives it with python3-websockets, a real
// client, to show the pieces interoperate before the ASGI integration uses
// them.
//
//   ws_echo_server PORT [MAX_SIZE] [PING_INTERVAL_MS] [PING_TIMEOUT_MS]
//
// Subprotocols "chat" and "superchat" are accepted (the first one offered);
// a message "close:N" makes the server close with code N; the path
// "/headers" adds "X-Echo: 1" to the 101.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "greenfork/worker/http/request_parser.hpp"
#include "websocket/handshake.hpp"
#include "websocket/session.hpp"

namespace {

using namespace greenfork::worker;
using namespace greenfork::worker::websocket;
constexpr auto kAwait = asio::experimental::as_tuple(asio::use_awaitable);

class Echo : public WsHandler {
 public:
  std::shared_ptr<WsSession> session;
  void on_message(bool text, std::string data) override {
    if (data.rfind("close:", 0) == 0) {
      session->close(static_cast<uint16_t>(std::atoi(data.c_str() + 6)), "requested");
    } else {
      session->send(text, data);
    }
  }
  void on_closed(uint16_t code, const std::string& reason) override {
    std::fprintf(stderr, "closed %u %s\n", code, reason.c_str());
  }
};

asio::awaitable<void> serve(asio::ip::tcp::socket tcp, WsSessionOptions options) {
  http::RequestParser parser;
  std::string buffer(8192, '\0');
  std::string rest;
  for (;;) {
    auto [ec, n] = co_await tcp.async_read_some(asio::buffer(buffer), kAwait);
    if (ec) co_return;
    const http::ParseResult r = parser.feed(std::string_view(buffer).substr(0, n));
    if (r.status == http::ParseStatus::kNeedMore) continue;
    if (r.status != http::ParseStatus::kComplete) co_return;  // an upgrade has no body
    rest.assign(buffer, r.consumed, n - r.consumed);
    break;
  }
  const http::RequestHead& head = parser.head();
  UpgradeCheck check = is_websocket_upgrade(head) ? check_upgrade_request(head)
                                                  : UpgradeCheck{400, "not a WebSocket upgrade", {}, {}};
  if (!check.ok()) {
    std::string reply = "HTTP/1.1 " + std::to_string(check.status) + " Refused\r\nConnection: close\r\n";
    for (const Header& h : check.headers) reply += h.name + ": " + h.value + "\r\n";
    reply += "Content-Length: " + std::to_string(check.reason.size()) + "\r\n\r\n" + check.reason;
    co_await asio::async_write(tcp, asio::buffer(reply), kAwait);
    co_return;
  }
  AcceptOptions accept;
  for (const std::string& p : check.request.subprotocols) {
    if (p == "chat" || p == "superchat") {
      accept.subprotocol = p;
      break;
    }
  }
  options.deflate = negotiate_permessage_deflate(check.request.extensions, {});
  if (options.deflate) accept.extensions = options.deflate->response;
  if (head.target == "/headers") accept.headers.push_back({"X-Echo", "1"});
  auto response = build_accept_response(check.request, accept);
  if (!response.ok()) co_return;
  auto [ec, n] = co_await asio::async_write(tcp, asio::buffer(*response), kAwait);
  if (ec) co_return;

  Echo handler;
  const asio::ip::tcp protocol = asio::ip::tcp::v4();
  WsSession::Socket socket(tcp.get_executor(), protocol, tcp.release());
  handler.session = WsSession::create(std::move(socket), handler, options, rest);
  co_await handler.session->run();
}

asio::awaitable<void> accept_loop(asio::ip::tcp::acceptor& acceptor, WsSessionOptions options) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kAwait);
    if (ec) co_return;
    asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), options), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: ws_echo_server PORT [MAX_SIZE] [PING_INTERVAL_MS] [PING_TIMEOUT_MS]\n");
    return 2;
  }
  WsSessionOptions options;
  options.ping_interval = std::chrono::milliseconds(0);
  if (argc > 2) options.max_message_size = std::strtoull(argv[2], nullptr, 10);
  if (argc > 3) options.ping_interval = std::chrono::milliseconds(std::atoi(argv[3]));
  if (argc > 4) options.ping_timeout = std::chrono::milliseconds(std::atoi(argv[4]));
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"),
                                        static_cast<unsigned short>(std::atoi(argv[1]))});
  asio::co_spawn(io, accept_loop(acceptor, options), asio::detached);
  io.run();
  return 0;
}
