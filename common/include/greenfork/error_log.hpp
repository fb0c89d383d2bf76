// The error log of arbiterd and gworker (Gunicorn's gunicorn.error): one
// spdlog logger, to stderr ("-" or empty) or appended to a file that USR1
// reopens by path, so logrotate can move it away. One line format for both
// programs, Gunicorn's (glogging.py: "%(asctime)s [%(process)d]
// [%(levelname)s]" with "[%Y-%m-%d %H:%M:%S %z]"):
//   [2026-11-30 12:00:00 +0000] [1234] [INFO] Booting worker
// or, with --log-format json, one object per line:
//   {"time": "2026-11-30T12:00:00.123+00:00", "level": "INFO", "pid": 1234,
//    "program": "gworker", "pool": "web", "message": "...", "exception": null}
// "pool" is the process's ARBITER_POOL (null in arbiterd itself);
// "exception" is the Python traceback a message carries ("Traceback (most
// recent call last):" and what follows), split off the message.
//
//   if (Status s = setup_error_log("gworker", o.error_logfile, o.log_level); !s.ok()) ...
//   ... on USR1: if (Status s = reopen_error_log(); !s.ok()) spdlog::error("{}", s.message());
#pragma once

#include <optional>
#include <string>

#include "greenfork/status.hpp"

namespace greenfork {

enum class LogFormat { kText, kJson };

// "text" or "json" (--log-format); nullopt for anything else.
std::optional<LogFormat> parse_log_format(const std::string& text);

// Installs the default spdlog logger named `program`. level: trace, debug,
// info, warning (or warn), error, critical. Fails on an unknown level or a
// file that cannot be opened for appending, and then changes nothing.
Status setup_error_log(const std::string& program, const std::string& path,
                       const std::string& level, LogFormat format = LogFormat::kText);

// Reopens the file given to setup_error_log (no-op for stderr). On failure
// the old file stays in use.
Status reopen_error_log();

}  // namespace greenfork
