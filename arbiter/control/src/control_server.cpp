#include "greenfork/arbiter/control_server.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <optional>

#include <grpcpp/grpcpp.h>

#include "call_registry.hpp"
#include "control_service.hpp"
#include "greenfork/control_address.hpp"
#include "worker_beat_reactor.hpp"
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
  std::optional<UnixControlSocket> socket_;
  std::string unix_path_;
  int tcp_port_ = 0;
  bool stopped_ = false;
};

namespace {

// Binds HOST:PORT once ourselves: gRPC only says "failed", the kernel says why.
Status check_tcp_bind(const std::string& bind) {
  const std::string context = "control bind " + bind;
  auto colon = bind.rfind(':');
  if (colon == std::string::npos || colon + 1 == bind.size()) {
    return Status::error(context + ": expected HOST:PORT");
  }
  std::string host = bind.substr(0, colon);
  const std::string port = bind.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
      rc != 0) {
    return Status::error(context + ": " + ::gai_strerror(rc));
  }
  Status result;
  int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    result = Status::from_errno(context + ": socket");
  } else {
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, found->ai_addr, found->ai_addrlen) != 0) result = Status::from_errno(context);
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return result;
}

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
    if (Status bindable = check_tcp_bind(options.tcp_bind); !bindable.ok()) {
      impl->shutdown();
      return bindable;
    }
    impl->tcp_control_ =
        std::make_unique<ControlService>(target, executor, impl->registry_, BearerCheck(options.token));
    impl->tcp_worker_ =
        std::make_unique<WorkerService>(target, executor, impl->registry_, BearerCheck(options.token));
    impl->tcp_server_ = build(options.tcp_bind, impl->tcp_control_.get(), impl->tcp_worker_.get(),
                              &impl->tcp_port_);
    if (!impl->tcp_server_ || impl->tcp_port_ == 0) {
      impl->shutdown();
      return Status::error("control bind " + options.tcp_bind + ": gRPC could not listen");
    }
  }
  return std::unique_ptr<ControlServer>(new ControlServer(std::move(impl)));
}

ControlServer::ControlServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ControlServer::~ControlServer() = default;

void ControlServer::shutdown() { impl_->shutdown(); }
const std::string& ControlServer::unix_path() const { return impl_->unix_path_; }
int ControlServer::tcp_port() const { return impl_->tcp_port_; }

}  // namespace greenfork::arbiter
