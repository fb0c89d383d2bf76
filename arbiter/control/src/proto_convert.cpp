#include "proto_convert.hpp"

namespace greenfork::arbiter {

// StatusCode has gRPC's numbers.
static_assert(static_cast<int>(StatusCode::kNotFound) == grpc::StatusCode::NOT_FOUND);
static_assert(static_cast<int>(StatusCode::kFailedPrecondition) == grpc::StatusCode::FAILED_PRECONDITION);
static_assert(static_cast<int>(StatusCode::kUnavailable) == grpc::StatusCode::UNAVAILABLE);
static_assert(static_cast<int>(StatusCode::kUnauthenticated) == grpc::StatusCode::UNAUTHENTICATED);

grpc::StatusCode to_grpc_code(StatusCode code) { return static_cast<grpc::StatusCode>(code); }

grpc::Status to_grpc_status(const Status& outcome) {
  if (outcome.ok()) return grpc::Status::OK;
  return grpc::Status(to_grpc_code(outcome.code()), outcome.message());
}

namespace {

v1::WorkerState to_proto(WorkerState state) {
  switch (state) {
    case WorkerState::kStarting: return v1::WORKER_STATE_STARTING;
    case WorkerState::kReady: return v1::WORKER_STATE_READY;
    case WorkerState::kDraining: return v1::WORKER_STATE_DRAINING;
    case WorkerState::kStopping: return v1::WORKER_STATE_STOPPING;
  }
  return v1::WORKER_STATE_UNSPECIFIED;
}

v1::PoolState to_proto(PoolState state) {
  switch (state) {
    case PoolState::kRunning: return v1::POOL_STATE_RUNNING;
    case PoolState::kReloading: return v1::POOL_STATE_RELOADING;
    case PoolState::kStopped: return v1::POOL_STATE_STOPPED;
    case PoolState::kFailed: return v1::POOL_STATE_FAILED;
  }
  return v1::POOL_STATE_UNSPECIFIED;
}

v1::Event::Kind to_proto(SupervisorEvent::Kind kind) {
  using K = SupervisorEvent::Kind;
  switch (kind) {
    case K::kWorkerSpawned: return v1::Event::WORKER_SPAWNED;
    case K::kWorkerReady: return v1::Event::WORKER_READY;
    case K::kWorkerExited: return v1::Event::WORKER_EXITED;
    case K::kWorkerTimedOut: return v1::Event::WORKER_TIMED_OUT;
    case K::kPoolScaled: return v1::Event::POOL_SCALED;
    case K::kPoolReloading: return v1::Event::POOL_RELOADING;
    case K::kPoolReloaded: return v1::Event::POOL_RELOADED;
    case K::kPoolRolledBack: return v1::Event::POOL_ROLLED_BACK;
    case K::kPoolFailed: return v1::Event::POOL_FAILED;
    case K::kArbiterStopping: return v1::Event::ARBITER_STOPPING;
    case K::kArbiterUpgrading: return v1::Event::ARBITER_UPGRADING;
    case K::kWorkerRestarting: return v1::Event::WORKER_RESTARTING;
  }
  return v1::Event::KIND_UNSPECIFIED;
}

void fill_worker(const WorkerSnapshot& w, v1::WorkerStatus* out) {
  out->set_slot(w.slot);
  out->set_pid(w.pid);
  out->set_state(to_proto(w.state));
  out->set_uptime_seconds(w.uptime_seconds);
  out->set_last_heartbeat_age_seconds(w.last_heartbeat_age_seconds);
  out->set_requests_served(w.requests_served);
  out->set_requests_in_flight(w.requests_in_flight);
  out->set_rss_bytes(w.rss_bytes);
  out->set_cpu_seconds(w.cpu_seconds);
  out->set_requests_per_second(w.requests_per_second);
  out->set_connections(w.connections);
  out->set_oldest_request_age_seconds(w.oldest_request_age_seconds);
  out->set_generation(w.generation);
  out->set_status_text(w.status_text);
}

void fill_pool(const PoolSnapshot& p, v1::PoolStatus* out) {
  out->set_name(p.name);
  for (const auto& arg : p.command) out->add_command(arg);
  out->set_desired(p.desired);
  out->set_running(p.running);
  out->set_ready(p.ready);
  out->set_state(to_proto(p.state));
  out->set_state_reason(p.state_reason);
  out->set_restarts(p.restarts);
  out->set_reloads(p.reloads);
  for (const auto& bind : p.binds) out->add_binds(bind);
  out->set_heartbeat(p.heartbeat);
  out->set_max_workers(p.max_workers);
  for (const auto& w : p.workers) fill_worker(w, out->add_workers());
}

}  // namespace

void fill_status_reply(const ArbiterSnapshot& snapshot, v1::StatusReply* reply) {
  reply->set_pid(snapshot.pid);
  reply->set_version(snapshot.version);
  reply->set_uptime_seconds(snapshot.uptime_seconds);
  reply->set_name(snapshot.name);
  for (const auto& pool : snapshot.pools) fill_pool(pool, reply->add_pools());
}

v1::Event to_proto_event(const SupervisorEvent& event) {
  v1::Event out;
  out.set_kind(to_proto(event.kind));
  out.set_unix_time(event.unix_time);
  out.set_pool(event.pool);
  out.set_slot(event.slot);
  out.set_pid(event.pid);
  out.set_detail(event.detail);
  out.set_reason(event.reason);
  return out;
}

HeartbeatReport from_proto_beat(const v1::Beat& beat) {
  HeartbeatReport report;
  report.slot = beat.slot();
  report.token = beat.token();
  report.requests_served = beat.requests_served();
  report.requests_in_flight = beat.requests_in_flight();
  report.oldest_request_age_seconds = beat.oldest_request_age_seconds();
  report.rss_bytes = beat.rss_bytes();
  report.status_text = beat.status_text();
  report.stopping = beat.stopping();
  return report;
}

v1::WorkerCommand to_proto_command(WorkerCommandKind kind) {
  v1::WorkerCommand out;
  switch (kind) {
    case WorkerCommandKind::kGracefulStop: out.set_kind(v1::WorkerCommand::GRACEFUL_STOP); break;
    case WorkerCommandKind::kReopenLogs: out.set_kind(v1::WorkerCommand::REOPEN_LOGS); break;
  }
  return out;
}

}  // namespace greenfork::arbiter
