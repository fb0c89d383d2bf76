#include "greenfork/arbiter/control_server.hpp"

#include <chrono>
#include <cstdlib>
#include <optional>

#include <grpcpp/grpcpp.h>
#include <grpcpp/server_posix.h>

#include "call_registry.hpp"
#include "control_acceptor.hpp"
#include "control_service.hpp"
#include "greenfork/control_address.hpp"
#include "unix_control_socket.hpp"
#include "worker_beat_reactor.hpp"

namespace greenfork::arbiter {

class ControlServer::Impl {
 public:
  ~Impl() { shutdown(); }

  void shutdown() {
    if (stopped_) return;
    stopped_ = true;
    // Streams and waiting calls end first, so Shutdown() has nothing to wait for.
    registry_->close_and_abort_all();
    if (tcp_acceptor_) tcp_acceptor_->stop();
    if (unix_acceptor_) unix_acceptor_->stop();
    const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(2);
    if (tcp_server_) tcp_server_->Shutdown(deadline);
    if (unix_server_) unix_server_->Shutdown(deadline);
    if (socket_) {
      socket_->remove_if_ours();
      socket_->discard_temporary();
    }
  }

  std::shared_ptr<CallRegistry> registry_ = std::make_shared<CallRegistry>();
  std::unique_ptr<ControlService> unix_control_, tcp_control_;
  std::unique_ptr<WorkerService> unix_worker_, tcp_worker_;
  std::unique_ptr<grpc::Server> unix_server_, tcp_server_;
  std::unique_ptr<ControlAcceptor> unix_acceptor_, tcp_acceptor_;
  std::optional<UnixControlSocket> socket_;
  std::string unix_path_;
  int tcp_port_ = 0;
  bool stopped_ = false;
};

namespace {

// The servers have no listening port of their own: a ControlAcceptor
// accepts and hands connections over. On TCP, a connection with no call for
// a while is closed, so idle and unauthenticated clients give their slot
// back (on the unix socket, workers' heartbeat streams are calls anyway).
std::unique_ptr<grpc::Server> build(grpc::Service* control, grpc::Service* worker,
                                    std::optional<std::chrono::milliseconds> idle_timeout) {
  grpc::ServerBuilder builder;
  if (idle_timeout) {
    builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, static_cast<int>(idle_timeout->count()));
  }
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 16);
  builder.RegisterService(control);
  builder.RegisterService(worker);
  return builder.BuildAndStart();
}

void serve(ControlAcceptor& acceptor, grpc::Server* server) {
  acceptor.start([server](int fd) { grpc::AddInsecureChannelFromFd(server, fd); });
}

// gRPC names a connection added from an fd "fd:N".
std::string peer_from(const ControlAcceptor& acceptor, const std::string& grpc_peer) {
  if (grpc_peer.rfind("fd:", 0) != 0) return "";
  return acceptor.peer_of(std::atoi(grpc_peer.c_str() + 3));
}

}  // namespace

StatusOr<std::unique_ptr<ControlServer>> ControlServer::start(const ControlServerOptions& options,
                                                              ControlTarget& target,
                                                              LoopExecutor& executor) {
  if (!options.tcp_bind.empty() && options.token.empty()) {
    return Status::error("control bind " + options.tcp_bind +
                         ": refusing to open a TCP control port without a token "
                         "(--control-token-file)");
  }
  auto impl = std::make_unique<Impl>();
  impl->unix_path_ = options.unix_path.empty() ? default_control_socket() : options.unix_path;

  auto socket = UnixControlSocket::prepare(impl->unix_path_, options.takeover);
  if (!socket.ok()) return socket.status();
  impl->socket_ = std::move(*socket);

  impl->unix_control_ =
      std::make_unique<ControlService>(target, executor, impl->registry_, BearerCheck(""));
  impl->unix_worker_ =
      std::make_unique<WorkerService>(target, executor, impl->registry_, BearerCheck(""));
  auto unix_fd = impl->socket_->listen_at_temporary();
  if (!unix_fd.ok()) {
    impl->socket_.reset();
    return unix_fd.status();
  }
  impl->unix_acceptor_ = ControlAcceptor::adopt(*unix_fd, "control socket " + impl->unix_path_,
                                                {options.unix_max_connections, options.unix_fd_reserve});
  impl->unix_server_ = build(impl->unix_control_.get(), impl->unix_worker_.get(), std::nullopt);
  if (!impl->unix_acceptor_ || !impl->unix_server_) {
    impl->socket_->discard_temporary();
    impl->socket_.reset();
    return Status::error("control socket " + impl->unix_path_ + ": gRPC could not start");
  }
  serve(*impl->unix_acceptor_, impl->unix_server_.get());
  if (Status published = impl->socket_->publish(); !published.ok()) {
    impl->shutdown();
    return published;
  }

  if (!options.tcp_bind.empty()) {
    auto acceptor = ControlAcceptor::listen_tcp(
        options.tcp_bind, {options.tcp_max_connections, options.fd_reserve});
    if (!acceptor.ok()) {
      impl->shutdown();
      return acceptor.status();
    }
    impl->tcp_acceptor_ = std::move(*acceptor);
    impl->tcp_port_ = impl->tcp_acceptor_->port();
    const ControlAcceptor* front = impl->tcp_acceptor_.get();
    BearerCheck auth(options.token, [front](const std::string& peer) { return peer_from(*front, peer); });
    impl->tcp_control_ = std::make_unique<ControlService>(target, executor, impl->registry_, auth);
    impl->tcp_worker_ = std::make_unique<WorkerService>(target, executor, impl->registry_, auth);
    impl->tcp_server_ = build(impl->tcp_control_.get(), impl->tcp_worker_.get(), options.tcp_idle_timeout);
    if (!impl->tcp_server_) {
      impl->shutdown();
      return Status::error("control bind " + options.tcp_bind + ": gRPC could not start");
    }
    serve(*impl->tcp_acceptor_, impl->tcp_server_.get());
  }
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(impl)));
}

ControlServer::ControlServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ControlServer::~ControlServer() = default;

void ControlServer::shutdown() { impl_->shutdown(); }
const std::string& ControlServer::unix_path() const { return impl_->unix_path_; }
int ControlServer::tcp_port() const { return impl_->tcp_port_; }

}  // namespace greenfork::arbiter
