// The error log (Gunicorn's gunicorn.error): spdlog, to stderr ("-") or a
// file that USR1 reopens (logrotate moves it, we reopen the path).
#pragma once

#include <string>

#include "greenfork/status.hpp"

namespace greenfork::worker {

// Installs the default spdlog logger. level: debug|info|warning|error|critical.
Status setup_error_log(const std::string& path, const std::string& level);
// Reopens the file (no-op for stderr).
Status reopen_error_log();

}  // namespace greenfork::worker
