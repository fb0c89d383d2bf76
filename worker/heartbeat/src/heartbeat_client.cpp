#include "greenfork/worker/heartbeat_client.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>

#include "greenfork/contract.hpp"
#include "heartbeat_stream.hpp"

namespace greenfork::worker {
namespace {

// "/path" and "unix:/path" are unix sockets; anything else is HOST:PORT.
std::string grpc_target(const std::string& address) {
  if (!address.empty() && address.front() == '/') return "unix:" + address;
  return address;
}

uint64_t own_rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0;
  uint64_t resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

v1::Beat to_beat(const WorkerStats& stats) {
  v1::Beat beat;
  beat.set_requests_served(stats.requests_served);
  beat.set_requests_in_flight(stats.in_flight);
  beat.set_oldest_request_age_seconds(stats.oldest_request_age_seconds);
  beat.set_rss_bytes(stats.rss_bytes != 0 ? stats.rss_bytes : own_rss_bytes());
  beat.set_status_text(stats.status_text);
  beat.set_stopping(stats.stopping);
  return beat;
}

}  // namespace

class HeartbeatClient::Impl {
 public:
  explicit Impl(HeartbeatEndpoint endpoint)
      : endpoint_(std::move(endpoint)),
        channel_(grpc::CreateChannel(grpc_target(endpoint_.address),
                                     grpc::InsecureChannelCredentials())),
        stub_(v1::Worker::NewStub(channel_)),
        stream_(std::make_unique<HeartbeatStream>(*stub_, endpoint_.address)) {}

  HeartbeatEndpoint endpoint_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Worker::Stub> stub_;
  std::unique_ptr<HeartbeatStream> stream_;  // destroyed before the stub
};

StatusOr<std::unique_ptr<HeartbeatClient>> HeartbeatClient::from_environment() {
  const char* address = std::getenv(contract::kArbiterSocket);
  const char* id = std::getenv(contract::kWorkerId);
  const char* token = std::getenv(contract::kWorkerToken);
  for (auto [name, value] : {std::pair{contract::kArbiterSocket, address},
                             std::pair{contract::kWorkerId, id},
                             std::pair{contract::kWorkerToken, token}}) {
    if (value == nullptr || *value == '\0') {
      return Status::error(std::string("heartbeat: ") + name + " is not set");
    }
  }
  char* end = nullptr;
  errno = 0;
  const unsigned long slot = std::strtoul(id, &end, 10);
  if (errno != 0 || *end != '\0' || slot > 0xffffffffUL || *id == '-') {
    return Status::error(std::string("heartbeat: ") + contract::kWorkerId + "=" + id +
                         " is not a slot number");
  }
  return connect({address, static_cast<unsigned>(slot), token});
}

StatusOr<std::unique_ptr<HeartbeatClient>> HeartbeatClient::connect(HeartbeatEndpoint endpoint) {
  if (endpoint.address.empty()) return Status::error("heartbeat: empty arbiterd address");
  return std::unique_ptr<HeartbeatClient>(
      new HeartbeatClient(std::make_unique<Impl>(std::move(endpoint))));
}

HeartbeatClient::HeartbeatClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HeartbeatClient::~HeartbeatClient() { close(); }

Status HeartbeatClient::ready(const WorkerStats& stats, double timeout_seconds) {
  v1::Beat first = to_beat(stats);
  first.set_slot(impl_->endpoint_.slot);
  first.set_token(impl_->endpoint_.token);
  return impl_->stream_->open(std::move(first), timeout_seconds);
}

void HeartbeatClient::beat(const WorkerStats& stats) { impl_->stream_->send(to_beat(stats)); }

void HeartbeatClient::on_command(std::function<void(WorkerCommandKind)> handler) {
  impl_->stream_->set_handler(std::move(handler));
}

void HeartbeatClient::close() { impl_->stream_->close(); }

bool HeartbeatClient::connected() const { return impl_->stream_->connected(); }

}  // namespace greenfork::worker
