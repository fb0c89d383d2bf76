// arbiterd's own copies of the listening sockets: dropped while a pool
// cannot serve (failed) or once arbiterd stops, so that a client is refused
// at once instead of waiting in a backlog no worker accepts from; bound
// again when a reload brings a failed pool back.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "greenfork/arbiter/supervisor.hpp"

namespace greenfork::arbiter {

void Supervisor::close_listeners(WorkerPool& pool, bool for_good) {
  pool.listeners_closed = true;
  for (size_t i = 0; i < pool.sockets.fds.size(); ++i) {
    const std::string& spec = i < pool.sockets.specs.size() ? pool.sockets.specs[i] : "";
    int fd = pool.sockets.fds[i];
    if (std::any_of(pool.closed_listeners.begin(), pool.closed_listeners.end(),
                    [fd](const ClosedListener& c) { return c.fd == fd; })) {
      continue;
    }
    // A socket systemd passed cannot be bound again here: keep it for a reload.
    if (!for_good && spec.rfind("fd://", 0) == 0) continue;
    StatusOr<ClosedListener> closed = ops_.close_listener(fd);
    if (!closed.ok()) {
      spdlog::warn("pool [{}]: {}", pool.config.name, closed.status().message());
      continue;
    }
    pool.closed_listeners.push_back(*closed);
    if (!for_good) spdlog::info("pool [{}]: closed {} while the pool cannot serve", pool.config.name, spec);
  }
}

Status Supervisor::reopen_listeners(WorkerPool& pool) {
  while (!pool.closed_listeners.empty()) {
    Status s = ops_.reopen_listener(pool.closed_listeners.front(), options_.config.backlog);
    if (!s.ok()) return s;
    pool.closed_listeners.erase(pool.closed_listeners.begin());
  }
  if (pool.listeners_closed) spdlog::info("pool [{}]: listening again", pool.config.name);
  pool.listeners_closed = false;
  return {};
}

}  // namespace greenfork::arbiter
