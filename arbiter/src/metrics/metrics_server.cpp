#include "greenfork/arbiter/metrics/metrics_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <spdlog/spdlog.h>

#include "greenfork/listen_address.hpp"

namespace greenfork::arbiter {
namespace {

constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

// "127.0.0.1:40123" / "[::1]:40123" of a bound TCP socket.
std::string bound_address(int fd, const ListenAddress& a) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return a.to_string();
  char host[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
    return std::string(host) + ":" + std::to_string(ntohs(in->sin_port));
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
  ::inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
  return "[" + std::string(host) + "]:" + std::to_string(ntohs(in6->sin6_port));
}

}  // namespace

StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::open(asio::io_context& io, const std::string& bind,
                                                             Handler handler) {
  StatusOr<ListenAddress> a = parse_listen_address(bind);
  if (!a.ok()) return Status::error(StatusCode::kInvalidArgument, "metrics_bind: " + a.status().message());
  if (a->kind == ListenAddress::kFd) {
    return Status::error(StatusCode::kInvalidArgument, "metrics_bind: must be HOST:PORT or unix:PATH");
  }
  // Owner and group only for a unix socket (0660).
  StatusOr<int> fd = bind_listener(*a, 64, 0117);
  if (!fd.ok()) return Status::error(StatusCode::kUnavailable, "metrics_bind: " + fd.status().message());
  std::string address = a->kind == ListenAddress::kTcp ? bound_address(*fd, *a) : a->to_string();
  std::string unix_path = a->kind == ListenAddress::kUnix ? a->path : "";
  return std::unique_ptr<MetricsServer>(
      new MetricsServer(io, *fd, std::move(address), std::move(unix_path), std::move(handler)));
}

MetricsServer::MetricsServer(asio::io_context& io, int fd, std::string address, std::string unix_path,
                             Handler handler)
    : io_(io), acceptor_(io), address_(std::move(address)), unix_path_(std::move(unix_path)),
      handler_(std::move(handler)) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  const int protocol = ss.ss_family == AF_UNIX ? 0 : IPPROTO_TCP;
  acceptor_.assign(asio::generic::stream_protocol(ss.ss_family, protocol), fd);
}

MetricsServer::~MetricsServer() {
  *alive_ = false;
  stop();
}

void MetricsServer::start() { asio::co_spawn(io_, accept_loop(), asio::detached); }

void MetricsServer::stop(bool unlink_unix_path) {
  if (!acceptor_.is_open()) return;
  asio::error_code ignored;
  acceptor_.close(ignored);
  if (unlink_unix_path && !unix_path_.empty()) ::unlink(unix_path_.c_str());
  unix_path_.clear();
}

asio::awaitable<void> MetricsServer::accept_loop() {
  const std::shared_ptr<bool> alive = alive_;
  for (;;) {
    auto [ec, socket] = co_await acceptor_.async_accept(kNoThrow);
    if (!*alive || !acceptor_.is_open()) co_return;
    if (ec) {
      // EMFILE and friends: wait a little rather than spin.
      spdlog::warn("metrics: accept: {}", ec.message());
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      (void)co_await pause.async_wait(kNoThrow);
      if (!*alive) co_return;
      continue;
    }
    if (open_ >= kMaxConnections) {
      asio::error_code ignored;
      socket.close(ignored);  // over the cap: refuse rather than queue
      continue;
    }
    asio::co_spawn(io_, serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> MetricsServer::serve(Socket socket) {
  const std::shared_ptr<bool> alive = alive_;
  ++open_;
  // The whole exchange has one deadline: a slow or silent client is cut off.
  asio::steady_timer deadline(io_, kDeadline);
  deadline.async_wait([&socket](const asio::error_code& ec) {
    if (ec) return;  // cancelled: the session ended first
    asio::error_code ignored;
    socket.close(ignored);
  });
  std::string buffer;
  HttpRequestHead head;
  HeadParse parsed = HeadParse::kNeedMore;
  char chunk[2048];
  while (parsed == HeadParse::kNeedMore) {
    auto [ec, n] = co_await socket.async_read_some(asio::buffer(chunk), kNoThrow);
    if (ec) break;
    buffer.append(chunk, n);
    parsed = parse_request_head(buffer, &head);
  }
  if (*alive && parsed != HeadParse::kNeedMore) {
    HttpResponse response;
    bool with_body = true;
    if (parsed == HeadParse::kBad) {
      response = {400, "text/plain; charset=utf-8", "bad request\n", ""};
    } else if (parsed == HeadParse::kTooLarge) {
      response = {431, "text/plain; charset=utf-8", "request head too large\n", ""};
    } else if (head.method != "GET" && head.method != "HEAD") {
      response = {405, "text/plain; charset=utf-8", "only GET and HEAD\n", "GET, HEAD"};
    } else {
      response = handler_(head);
      with_body = head.method == "GET";
    }
    const std::string out = serialize_response(response, with_body);
    (void)co_await asio::async_write(socket, asio::buffer(out), kNoThrow);
    asio::error_code ignored;
    socket.shutdown(asio::socket_base::shutdown_send, ignored);
  }
  deadline.cancel();
  asio::error_code ignored;
  socket.close(ignored);
  if (*alive) --open_;
}

}  // namespace greenfork::arbiter
