// The hook host: a long-lived Python process (gf_hook_host.py, run with the
// interpreter gworker embeds) that runs a gunicorn.conf.py's master-side
// server hooks for arbiterd, which links no libpython.
//
// Each hook call is one JSON line on a socket pair; the host answers
// "done ID ok|raised" and sends "log LEVEL TEXT" lines (server.log, the
// traceback of a hook that raised) and "signal NAME" (server.reload() is
// HUP, server.reexec() USR2, server.halt() TERM) to arbiterd itself.
//
// Two ways to call:
//   - call_now(): blocking, with the bound; before the loop runs
//     (on_starting) and after it ended (on_exit).
//   - post(): on the loop. Calls are queued and sent one at a time; the loop
//     never waits. A call not answered within the bound is logged and
//     abandoned: the host is killed and started again, and the queue goes on.
// A host that dies is started again (1 s later); one that cannot even load
// the file five times in a row is given up (logged).
//
//   auto host = HookHost::start(io, {"/srv/gunicorn.conf.py", "", Seconds(30)});
//   (*host)->call_now("on_starting", "\"server\":{...},\"args\":{}");
//   (*host)->begin_async();
//   (*host)->post("pre_fork", "\"server\":{...},\"args\":{\"worker\":{...}}");
#pragma once

#include <sys/types.h>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "greenfork/arbiter/mono_time.hpp"
#include "greenfork/status.hpp"

namespace greenfork::arbiter {

struct HookHostOptions {
  std::string location;    // gunicorn.conf.py path or "python:pkg.module"
  std::string chdir;       // the host's working directory (Gunicorn's --chdir); "" keeps arbiterd's
  Seconds bound{30.0};     // how long one hook may run
  std::string script;      // "" : gf_hook_host.py next to arbiterd
};

class HookHost {
 public:
  enum class Outcome { kReturned, kRaised, kAbandoned };

  // Starts the host and waits (up to the bound) until it loaded the file.
  static StatusOr<std::unique_ptr<HookHost>> start(asio::io_context& io, HookHostOptions options);
  ~HookHost();
  HookHost(const HookHost&) = delete;
  HookHost& operator=(const HookHost&) = delete;

  // `fields` are the JSON members after "id" and "hook" (",\"server\":...").
  Outcome call_now(const std::string& hook, const std::string& fields);
  void begin_async();
  void post(const std::string& hook, const std::string& fields);
  // Stops the loop side (cancels waits); call_now() still works after it,
  // and finish_queue_now() runs what post() queued, each with the bound.
  void end_async();
  void finish_queue_now();
  pid_t pid() const { return pid_; }

 private:
  HookHost(asio::io_context& io, HookHostOptions options);
  Status spawn();
  void kill_host(bool reap);
  bool wait_ready_now();
  // Sends `line` (unless `sent`) and waits for its answer, with the bound.
  Outcome run_now(uint64_t id, const std::string& hook, const std::string& line, bool sent);
  // Reads what is there; each complete line to on_line(). False on EOF/error.
  bool drain();
  void on_line(const std::string& line);
  void send_next();
  void watch();
  void on_deadline();
  void on_host_gone(const std::string& why);
  void restart_later();

  asio::io_context& io_;
  HookHostOptions options_;
  pid_t pid_ = -1;
  int fd_ = -1;
  std::unique_ptr<asio::posix::stream_descriptor> watch_;
  asio::steady_timer deadline_;
  asio::steady_timer restart_;
  std::string input_;
  bool async_ = false;
  bool ready_ = false;
  unsigned failed_starts_ = 0;
  uint64_t next_id_ = 1;
  struct Call {
    uint64_t id;
    std::string hook;
    std::string line;
  };
  std::deque<Call> queue_;
  std::optional<Call> in_flight_;
  // Set by on_line() for call_now().
  std::optional<std::pair<uint64_t, bool>> answered_;
};

// gf_hook_host.py next to this executable.
std::string hook_host_script_path();

}  // namespace greenfork::arbiter
