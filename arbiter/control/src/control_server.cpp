#include "greenfork/arbiter/control_server.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <optional>

#include <grpcpp/grpcpp.h>
#include <grpcpp/server_posix.h>

#include <cstdlib>

#include "call_registry.hpp"
#include "control_service.hpp"
#include "greenfork/control_address.hpp"
#include "worker_beat_reactor.hpp"
#include "tcp_control_acceptor.hpp"
#include "unix_control_socket.hpp"

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
  std::unique_ptr<TcpControlAcceptor> tcp_acceptor_;
  std::optional<UnixControlSocket> socket_;
  std::string unix_path_;
  int tcp_port_ = 0;
  bool stopped_ = false;
};

namespace {

std::unique_ptr<grpc::Server> build(const std::string& uri, grpc::Service* control,
                                    grpc::Service* worker, int* selected_port) {
  grpc::ServerBuilder builder;
  // Another process on the same port must be an error, not a silent share.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddListeningPort(uri, grpc::InsecureServerCredentials(), selected_port);
  builder.RegisterService(control);
  builder.RegisterService(worker);
  return builder.BuildAndStart();
}

// The TCP server has no listening port of its own: TcpControlAcceptor
// accepts and hands connections over. A connection with no call for a while
// is closed, so idle and unauthenticated clients give their slot back.
std::unique_ptr<grpc::Server> build_tcp(grpc::Service* control, grpc::Service* worker,
                                        std::chrono::milliseconds idle_timeout) {
  grpc::ServerBuilder builder;
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS, static_cast<int>(idle_timeout.count()));
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, 16);
  builder.RegisterService(control);
  builder.RegisterService(worker);
  return builder.BuildAndStart();
}

// gRPC names a connection added from an fd "fd:N".
std::string peer_from(const TcpControlAcceptor& acceptor, const std::string& grpc_peer) {
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
  int unix_port = 0;
  {
    // The socket file is created 0600 (and chmod'ed again before it is
    // published), never briefly open to other users.
    const mode_t old_mask = ::umask(0177);
    impl->unix_server_ = build(impl->socket_->grpc_bind_uri(), impl->unix_control_.get(),
                               impl->unix_worker_.get(), &unix_port);
    ::umask(old_mask);
  }
  if (!impl->unix_server_ || unix_port == 0) {
    impl->socket_->discard_temporary();
    impl->socket_.reset();
    return Status::error("control socket " + impl->unix_path_ + ": gRPC could not listen");
  }
  if (Status published = impl->socket_->publish(); !published.ok()) {
    impl->shutdown();
    return published;
  }

  if (!options.tcp_bind.empty()) {
    auto acceptor = TcpControlAcceptor::bind(
        options.tcp_bind, {options.tcp_max_connections, options.fd_reserve});
    if (!acceptor.ok()) {
      impl->shutdown();
      return acceptor.status();
    }
    impl->tcp_acceptor_ = std::move(*acceptor);
    impl->tcp_port_ = impl->tcp_acceptor_->port();
    const TcpControlAcceptor* front = impl->tcp_acceptor_.get();
    BearerCheck auth(options.token, [front](const std::string& peer) { return peer_from(*front, peer); });
    impl->tcp_control_ = std::make_unique<ControlService>(target, executor, impl->registry_, auth);
    impl->tcp_worker_ = std::make_unique<WorkerService>(target, executor, impl->registry_, auth);
    impl->tcp_server_ = build_tcp(impl->tcp_control_.get(), impl->tcp_worker_.get(), options.tcp_idle_timeout);
    if (!impl->tcp_server_) {
      impl->shutdown();
      return Status::error("control bind " + options.tcp_bind + ": gRPC could not start");
    }
    grpc::Server* server = impl->tcp_server_.get();
    impl->tcp_acceptor_->start([server](int fd) { grpc::AddInsecureChannelFromFd(server, fd); });
  }
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(impl)));
}

ControlServer::ControlServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ControlServer::~ControlServer() = default;

void ControlServer::shutdown() { impl_->shutdown(); }
const std::string& ControlServer::unix_path() const { return impl_->unix_path_; }
int ControlServer::tcp_port() const { return impl_->tcp_port_; }

}  // namespace greenfork::arbiter
