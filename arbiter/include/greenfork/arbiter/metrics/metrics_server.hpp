// The metrics endpoint's HTTP/1.1 server (--metrics-bind): runs on
// arbiterd's own loop, so every answer is built from the supervisor's
// state on its thread and /healthz answering proves the loop turns.
// Hardened for an address a network may reach: one request per connection
// (Connection: close), heads up to kMaxRequestHead bytes, a deadline for
// the whole exchange, at most kMaxConnections at once (more are closed at
// accept), GET and HEAD only (405 otherwise), no request bodies.
//
//   auto server = MetricsServer::open(io, "127.0.0.1:9100",
//                                     [&](const HttpRequestHead& h) { return endpoint.handle(h); });
//   if (!server.ok()) return server.status();  // "metrics_bind 127.0.0.1:9100: Address already in use"
//   (*server)->start();
#pragma once

#include <asio/awaitable.hpp>
#include <asio/basic_socket_acceptor.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "greenfork/arbiter/metrics/http_request.hpp"
#include "greenfork/status.hpp"

namespace greenfork::arbiter {

class MetricsServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequestHead&)>;
  static constexpr unsigned kMaxConnections = 32;
  static constexpr std::chrono::seconds kDeadline{10};

  // Binds `bind` (HOST:PORT, [V6]:PORT or unix:PATH).
  static StatusOr<std::unique_ptr<MetricsServer>> open(asio::io_context& io, const std::string& bind,
                                                       Handler handler);
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void start();
  // Closes the listening socket (and removes a unix socket's file unless
  // told not to: after a binary upgrade it is the new master's).
  void stop(bool unlink_unix_path = true);
  // What it listens on, the port resolved ("127.0.0.1:40123").
  const std::string& address() const { return address_; }

 private:
  using Socket = asio::generic::stream_protocol::socket;
  MetricsServer(asio::io_context& io, int fd, std::string address, std::string unix_path, Handler handler);
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(Socket socket);

  asio::io_context& io_;
  asio::basic_socket_acceptor<asio::generic::stream_protocol> acceptor_;
  std::string address_;
  std::string unix_path_;  // to unlink on stop
  Handler handler_;
  unsigned open_ = 0;
  // Lets a session outlive nothing: sessions check it before touching `this`.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace greenfork::arbiter
