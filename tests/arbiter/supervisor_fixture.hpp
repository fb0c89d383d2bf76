// The Supervisor on a fake ProcessOps and a fake clock, for the
// supervisor_*_test.cpp files: start() it with pools, advance() the clock.
#pragma once

#include "greenfork/arbiter/supervisor.hpp"

#include <sys/wait.h>

#include <asio/io_context.hpp>
#include <csignal>
#include <functional>
#include <gtest/gtest.h>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

#include "fake_process_ops.hpp"

namespace greenfork::arbiter {

inline PoolConfig pool(const std::string& name, unsigned workers) {
  PoolConfig p;
  p.name = name;
  p.command = {"/bin/true", name};
  p.workers = workers;
  p.heartbeat = HeartbeatMode::kNotify;
  p.graceful_timeout_seconds = 5;
  p.boot_timeout_seconds = 10;
  return p;
}

class SupervisorTest : public ::testing::Test {
 protected:
  void start(std::vector<PoolConfig> pools, std::function<StatusOr<Config>()> reload_config = nullptr) {
    ArbiterOptions o;
    o.config.pools = std::move(pools);
    o.reload_config = std::move(reload_config);
    o.sockets = sockets;
    o.open_listeners = open_listeners;
    o.close_listeners_except = close_listeners_except;
    o.apply_logging = apply_logging;
    for (const PoolSockets& ps : sockets) ops.open_listeners.insert(ps.fds.begin(), ps.fds.end());
    sup = std::make_unique<Supervisor>(io, ops, std::move(o));
    ASSERT_TRUE(sup->start());
    sup->subscribe([this](const SupervisorEvent& e) { events.push_back(e); });
  }
  // Advances the fake clock and runs one tick, with whatever the loop has
  // ready before and after it (signals, notify datagrams): no wall clock.
  void advance(double seconds) {
    ops.clock += Seconds(seconds);
    io.poll();
    io.restart();
    sup->tick();
    io.poll();
    io.restart();
  }
  std::string token_of(pid_t pid) {
    for (auto& kv : ops.env_of(pid)) {
      if (kv.rfind("ARBITER_WORKER_TOKEN=", 0) == 0) return kv.substr(21);
    }
    return "";
  }
  unsigned slot_of(pid_t pid) {
    for (auto& kv : ops.env_of(pid)) {
      if (kv.rfind("ARBITER_WORKER_ID=", 0) == 0) return static_cast<unsigned>(std::stoul(kv.substr(18)));
    }
    return 0;
  }
  Status beat(pid_t pid, bool first = true) {
    HeartbeatReport r;
    r.slot = slot_of(pid);
    r.token = token_of(pid);
    return sup->worker_beat(r, first, nullptr);
  }
  PoolSnapshot snap(size_t i = 0) { return sup->status().pools.at(i); }
  bool has_event(SupervisorEvent::Kind k) {
    for (auto& e : events) {
      if (e.kind == k) return true;
    }
    return false;
  }

  std::vector<PoolSockets> sockets;  // given to start(), one per pool
  // A reload's listener hooks (ArbiterOptions); null: none.
  std::function<StatusOr<PoolSockets>(const std::vector<std::string>&)> open_listeners;
  std::function<void(const std::vector<std::string>&)> close_listeners_except;
  std::function<Status(const Config&)> apply_logging;  // ArbiterOptions; null: none
  asio::io_context io;
  FakeOps ops;
  std::unique_ptr<Supervisor> sup;
  std::vector<SupervisorEvent> events;
};

}  // namespace greenfork::arbiter
