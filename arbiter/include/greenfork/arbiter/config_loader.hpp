// arbiterd's TOML config file (toml++), validated into a Config.
//
//   StatusOr<Config> c = load_config_file("greenfork.toml");
//   if (!c.ok()) { std::cerr << c.status().message() << "\n"; return 2; }
//   // "greenfork.toml:7: pools.web.workers: expected an integer, got a string"
//
// The file (every key optional except a command or app per pool):
//
//   [arbiter]
//   name = "shop"                 # process titles "arbiterd: master [shop]"
//   pid = "/run/greenfork.pid"
//   chdir = "/srv/shop"
//   error_logfile = "-"           # "-": stderr
//   log_level = "info"            # debug, info, warning, error, critical
//   backlog = 2048
//   umask = 0o007                 # integer (TOML octal) or string "007"
//   control_socket = "/run/greenfork.sock"
//   control_bind = "127.0.0.1:9901"
//   control_token_file = "/etc/greenfork/token"   # required with control_bind
//
//   [pools.web]
//   command = ["/usr/bin/python3", "worker.py"]   # or: app = "myproject.wsgi:application"
//   worker_args = ["--threads", "4"]              # extra gworker flags, app pools only
//   workers = 4
//   max_workers = 64
//   bind = ["127.0.0.1:8000", "unix:/run/web.sock"]   # or one string
//   env = { DJANGO_SETTINGS_MODULE = "shop.settings" }
//   cwd = "web"             user = "www-data"    group = "www-data"
//   timeout = 30            graceful_timeout = 30    boot_timeout = 60
//   heartbeat = "auto"      # auto, grpc, notify, none
//   max_request_age = 0     # seconds, 0 = off
//   max_surge = 1           max_unavailable = 0
//   backoff_initial = 0.1   backoff_max = 30     backoff_healthy = 10
//
// Paths: a relative [arbiter] chdir is relative to the config file's
// folder; a relative pool cwd is relative to the arbiter chdir (or the
// file's folder). Both come out absolute. command[0] is resolved like
// execvp (a name with '/' relative to the pool's cwd, else searched on PATH)
// and comes out as an absolute path, so the spawner can use execv.
// `app = "..."` means command = [<arbiterd's folder>/gworker, APP, worker_args...].
// A pool without bind under systemd socket activation gets every socket
// systemd passed (systemd_listen_specs()).
//
// Every problem is one line naming the file, the line and the key; the
// first one found is returned.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

#include "greenfork/arbiter/config.hpp"
#include "greenfork/status.hpp"

namespace greenfork::arbiter {

StatusOr<Config> load_config_file(const std::string& path);

// Checks that hold for configs from flags and from files alike, and
// resolves commands and paths in place (see above): workers <= max_workers,
// every bind parses, no address bound by two pools, unique pool names,
// commands exist and are executable. `where(pool, key)` names the source of
// a key in messages ("file.toml:12: pools.web.command" or "--workers").
Status finish_config(Config& config,
                     const std::function<std::string(const PoolConfig*, const std::string&)>& where);

// The bearer token of a TCP control address, trailing whitespace removed.
// Refused: a file readable or writable by group or others (mode & 077), and
// a token shorter than kMinControlTokenBytes.
inline constexpr std::size_t kMinControlTokenBytes = 16;
StatusOr<std::string> read_control_token(const std::string& path);

// "<folder of /proc/self/exe>/gworker".
std::string gworker_path();

// execvp's search, checked at load time: a name with '/' is taken relative
// to `cwd` (empty: the current directory), otherwise each $PATH entry is
// tried. Returns an absolute path to an executable regular file. Errors:
// "command 'x' not found on PATH", "/a/b: not executable".
StatusOr<std::string> locate_executable(const std::string& name, const std::string& cwd);

}  // namespace greenfork::arbiter
