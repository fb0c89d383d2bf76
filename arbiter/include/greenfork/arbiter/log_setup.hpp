// arbiterd's error log (spdlog): --error-logfile ("-" = stderr) and
// --log-level; reopen_log() after USR1 so logrotate can move the file.
//
//   Status s = setup_log(config.error_logfile, config.log_level);
#pragma once

#include <string>

#include "greenfork/status.hpp"

namespace greenfork::arbiter {

Status setup_log(const std::string& logfile, const std::string& level);
// Reopens the file given to setup_log (no-op for stderr).
void reopen_log();

}  // namespace greenfork::arbiter
