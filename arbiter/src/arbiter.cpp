#include "greenfork/arbiter/arbiter.hpp"

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include "greenfork/arbiter/supervisor.hpp"

namespace greenfork::arbiter {

Arbiter::Arbiter(asio::io_context& io, ProcessOps& ops, ArbiterOptions options)
    : impl_(std::make_unique<Supervisor>(io, ops, std::move(options))) {}
Arbiter::~Arbiter() = default;

ArbiterExit Arbiter::run() { return impl_->run(); }
ArbiterSnapshot Arbiter::status() const { return impl_->status(); }
void Arbiter::scale(const ScaleCommand& command, std::function<void(Outcome, ScaleResult)> done) {
  impl_->scale(command, std::move(done));
}
void Arbiter::reload(const std::string& pool, bool wait,
                     std::function<void(Outcome, std::vector<std::string>)> done) {
  impl_->reload(pool, wait, std::move(done));
}
Outcome Arbiter::stop(bool graceful) { return impl_->stop(graceful); }
Outcome Arbiter::reopen_logs() { return impl_->reopen_logs(); }
Outcome Arbiter::signal(const std::string& pool, const std::string& signal_name,
                        unsigned* workers_signalled) {
  return impl_->signal(pool, signal_name, workers_signalled);
}
void Arbiter::upgrade(bool wait, std::function<void(Outcome, pid_t)> done) {
  impl_->upgrade(wait, std::move(done));
}
uint64_t Arbiter::subscribe(std::function<void(const SupervisorEvent&)> listener) {
  return impl_->subscribe(std::move(listener));
}
void Arbiter::unsubscribe(uint64_t id) { impl_->unsubscribe(id); }
Outcome Arbiter::worker_beat(const HeartbeatReport& report, bool first,
                             std::function<void(WorkerCommandKind)> commands) {
  return impl_->worker_beat(report, first, std::move(commands));
}
void Arbiter::worker_stream_closed(unsigned slot) { impl_->worker_stream_closed(slot); }

void AsioLoopExecutor::post(std::function<void()> fn) { asio::post(io_, std::move(fn)); }

}  // namespace greenfork::arbiter
