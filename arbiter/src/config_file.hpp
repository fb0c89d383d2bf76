// Internal to the config loader and the CLI: the TOML file read into a
// Config before the shared checks (finish_config), and the small value
// parsers both front ends use.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "greenfork/arbiter/config.hpp"
#include "greenfork/status.hpp"

namespace greenfork::arbiter::detail {

// Names where a key came from, for messages: "f.toml:12: pools.web.command".
using WhereFn = std::function<std::string(const PoolConfig*, const std::string&)>;

struct ConfigSource {
  Config config;  // [arbiter] chdir already absolute; nothing else resolved
  WhereFn where;
};

// Parses and type-checks the file; unknown keys and wrong types are errors.
StatusOr<ConfigSource> read_config_file(const std::string& path);

// "007", "0o007", "0x1ff", "7"... -> mode bits (at most 0777).
StatusOr<mode_t> parse_umask(const std::string& text);
bool valid_log_level(const std::string& level);
// max_worker_memory: "536870912", "512K", "512M", "1G", "1.5G" (also with
// "B" or "iB": 512MB, 512MiB), powers of 1024 -> bytes, more than 0.
StatusOr<uint64_t> parse_size(const std::string& text);
// --autoscale MIN:MAX -> {min, max}: 1 <= MIN <= MAX.
StatusOr<std::pair<unsigned, unsigned>> parse_autoscale_range(const std::string& text);
// `path` if absolute, else base/path (lexically normalised).
std::string absolute_path(const std::string& base, const std::string& path);
std::string current_directory();

// An `app = ...` pool: command = [gworker, APP, worker_args...].
std::vector<std::string> gworker_command(const std::string& app,
                                         const std::vector<std::string>& worker_args);
// --print-config of a TOML file: "pools.web.workers = 3" lines, sorted.
std::string print_toml_config(const Config& config);

// Gunicorn's default bind for app pools, unless systemd passed sockets.
std::vector<std::string> default_app_binds();

}  // namespace greenfork::arbiter::detail
