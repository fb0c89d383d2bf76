// Internal to cli.cpp: the flags that only feed a part of arbiterd (its
// logging: --log-format, syslog, statsd) and Gunicorn's --paste.
#pragma once

#include "cli_options.hpp"
#include "greenfork/arbiter/config.hpp"
#include "greenfork/status.hpp"

namespace greenfork::arbiter::detail {

// --log-format, --log-syslog*, --statsd-host/-prefix, --dogstatsd-tags into
// `c`, checked; the syslog prefix resolved (Gunicorn's: -n, else the APP).
Status apply_logging_flags(const CliOptions& o, Config& c);

// --paste FILE.ini[#name] (and --paste-global) turned into the gworker APP
// that loads it (gf_paste.py next to arbiterd, on gworker's --pythonpath);
// `o` itself without --paste.
StatusOr<CliOptions> with_paste(const CliOptions& o);

}  // namespace greenfork::arbiter::detail
