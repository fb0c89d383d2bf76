// Gunicorn's master-side server hooks, called at arbiterd's events (run in
// the HookHost). What each one is called on:
//
//   nworkers_changed(server, N, None)  at start, before on_starting (blocking)
//   on_starting(server)      before the listeners open (blocking; if it
//                            raises, arbiterd exits 1 as Gunicorn does)
//   when_ready(server)       the listeners are open, before the first worker
//   pre_fork(server, worker) each worker spawned (the worker has its pid)
//   child_exit(server, worker)  each worker reaped
//   nworkers_changed(server, new, old)  TTIN/TTOU, gctl scale
//   on_reload(server)        each reload (HUP, gctl reload); the host reads
//                            the config file again first
//   pre_exec(server)         USR2 / gctl upgrade: the new master is started
//   on_exit(server)          arbiterd is exiting (blocking)
// The loop never waits for these between on_starting and on_exit: a hook
// that raises is logged with its traceback and arbiterd goes on.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "greenfork/arbiter/config.hpp"
#include "greenfork/arbiter/control_target.hpp"
#include "greenfork/arbiter/hook_host.hpp"

namespace greenfork::arbiter {

class MasterHooks {
 public:
  // The hooks a gunicorn.conf.py may define that run in the master.
  static bool is_master_hook(const std::string& name);
  // Does this config need a hook host at all?
  static bool wanted(const Config& config);

  MasterHooks(HookHost& host, const Config& config);

  // nworkers_changed(N, None) and on_starting: an error when on_starting raised.
  Status starting();
  // From here on the hooks are queued on the loop. `snapshot` gives the
  // server's state (the supervisor's status()).
  void running(std::function<ArbiterSnapshot()> snapshot);
  void on_event(const SupervisorEvent& e);
  // The loop ended: on_exit, waited for up to the bound.
  void exiting();

 private:
  std::string fields(const std::string& args, bool reload = false) const;
  std::string server_json() const;
  std::string worker_json(pid_t pid, unsigned slot, const std::string& pool) const;

  HookHost& host_;
  const Config& config_;
  std::function<ArbiterSnapshot()> snapshot_;
  unsigned worker_age_ = 0;           // Gunicorn's worker.age: one more per spawn
  std::map<pid_t, unsigned> ages_;
};

// JSON string literal of `text` (quotes included).
std::string json_quote(const std::string& text);

}  // namespace greenfork::arbiter
