// arbiterd's configuration, as loaded from the command line (one pool) or a
// TOML file (several pools). The loader (config_loader.hpp, cli.hpp) fills
// and validates it; the supervisor only reads it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace greenfork::arbiter {

enum class HeartbeatMode {
  kAuto,    // READY=1/first gRPC beat, or 1 s after start if silent; watchdog
            // enforced once the worker has sent WATCHDOG=1 or a gRPC beat
  kGrpc,    // Worker.Heartbeat stream required
  kNotify,  // sd_notify READY=1 and WATCHDOG=1 required
  kNone,    // liveness is the process; ready at once
};

// How a pool's workers become READY. kAuto: gworker (the one-liner, or a
// pool whose command is gworker) only on its READY message; any other
// executable on READY or after 1 s of silence. kNotify: only on the
// worker's READY message (sd_notify READY=1 or its first gRPC beat).
enum class Readiness { kAuto, kNotify };

struct BackoffConfig {
  double initial_seconds = 0.1;   // delay before the 2nd fast restart
  double max_seconds = 30.0;      // cap of the exponential delay
  double healthy_seconds = 10.0;  // a worker up this long resets the delay
};

// autoscale = { min = 1, max = 8, cooldown = 30 }: the pool's worker count
// follows its load between min and max (autoscaler.hpp). Off when max is 0.
struct AutoscaleConfig {
  unsigned min = 0;
  unsigned max = 0;
  double cooldown_seconds = 30.0;  // low use this long before one worker goes
  bool enabled() const { return max > 0; }
  bool operator==(const AutoscaleConfig&) const = default;
};

struct PoolConfig {
  std::string name = "main";
  std::vector<std::string> command;  // argv; command[0] found on PATH
  unsigned workers = 1;
  unsigned max_workers = 64;
  // Addresses as the user wrote them: "HOST:PORT", "[v6]:PORT",
  // "unix:/path", "fd://N". Passed to workers as fds 3.. in this order.
  std::vector<std::string> binds;
  std::vector<std::pair<std::string, std::string>> env;
  std::string cwd;    // empty: arbiterd's working directory
  std::string user;   // empty: arbiterd's; only honoured when root
  std::string group;
  bool initgroups = false;  // with user: all of the user's groups (Gunicorn's --initgroups)
  double timeout_seconds = 30.0;          // heartbeat silence that means hung
  double graceful_timeout_seconds = 30.0;
  double boot_timeout_seconds = 60.0;     // spawn -> READY
  HeartbeatMode heartbeat = HeartbeatMode::kAuto;
  Readiness readiness = Readiness::kAuto;  // TOML: readiness = "auto" | "notify"
  double max_request_age_seconds = 0.0;   // 0: off (uWSGI's harakiri)
  unsigned max_surge = 1;                 // reload: extra workers at once
  unsigned max_unavailable = 0;           // reload: below desired at once
  BackoffConfig backoff;
  // A READY worker whose RSS passes this many bytes is replaced gracefully
  // (its successor READY first, then TERM); 0: no limit.
  uint64_t max_worker_memory_bytes = 0;
  AutoscaleConfig autoscale;
};

struct Config {
  std::string config_file;  // empty when everything came from flags
  std::vector<std::string> hooks;  // server hooks config_file (a gunicorn.conf.py) defines
  // Gunicorn settings as given (file < GUNICORN_CMD_ARGS < flags), by name:
  // what the hooks' server.cfg shows. Values as flag text; lists itemized.
  std::map<std::string, std::vector<std::string>> given_settings;
  std::string name;         // -n: process titles "arbiterd: master [name]"
  std::string pid_file;
  std::string chdir;
  std::string error_logfile = "-";  // "-": stderr
  std::string log_level = "info";
  std::string log_format = "text";  // error log lines: "text" or "json" (error_log.hpp)
  bool syslog = false;              // the error logs to syslog too (syslog_sink.hpp)
  std::string syslog_addr = "udp://localhost:514";
  std::string syslog_prefix;        // resolved: -n, else the APP, else "arbiterd"
  std::string syslog_facility = "user";
  std::string statsd_host;  // HOST:PORT or unix:PATH; empty: no statsd (statsd_gauge.hpp)
  std::string statsd_prefix;
  std::string dogstatsd_tags;
  int backlog = 2048;
  mode_t umask = 0;
  bool daemon = false;                    // -D: detach before binding
  bool enable_stdio_inheritance = false;  // -R: with -D, keep stdout/stderr
  bool capture_output = false;            // stdout/stderr into error_logfile
  bool reuse_port = false;                // SO_REUSEPORT on the listeners
  std::string control_socket;      // unix path; empty: the default path
  std::string control_bind;        // optional HOST:PORT
  std::string control_token_file;  // required with control_bind
  std::string metrics_bind;        // HOST:PORT or unix:PATH for /metrics (empty: off)
  std::vector<PoolConfig> pools;
};

const char* to_string(HeartbeatMode mode);
std::optional<HeartbeatMode> parse_heartbeat_mode(const std::string& text);

}  // namespace greenfork::arbiter
