// The error log of arbiterd and gworker (Gunicorn's gunicorn.error): one
// spdlog logger, to stderr ("-" or empty) or appended to a file that USR1
// reopens by path, so logrotate can move it away. One line format for both
// programs: "[2026-11-30 12:00:00 +0000] [1234] [info] Booting worker".
//
//   if (Status s = setup_error_log("gworker", o.error_logfile, o.log_level); !s.ok()) ...
//   ... on USR1: if (Status s = reopen_error_log(); !s.ok()) spdlog::error("{}", s.message());
#pragma once

#include <string>

#include "greenfork/status.hpp"

namespace greenfork {

// Installs the default spdlog logger named `program`. level: trace, debug,
// info, warning (or warn), error, critical. Fails on an unknown level or a
// file that cannot be opened for appending, and then changes nothing.
Status setup_error_log(const std::string& program, const std::string& path,
                       const std::string& level);

// Reopens the file given to setup_error_log (no-op for stderr). On failure
// the old file stays in use.
Status reopen_error_log();

}  // namespace greenfork
