// Internal to cli.cpp: the parsed flags (after the config layers are
// merged) turned into a Config.
#pragma once

#include "cli_options.hpp"
#include "greenfork/arbiter/config.hpp"
#include "greenfork/status.hpp"

namespace greenfork::arbiter::detail {

// One pool from the flags: a -- COMMAND, or gworker serving the APP with the
// flags both programs use forwarded to it.
StatusOr<Config> config_from_flags(const CliOptions& o);

// -c FILE.toml: the file's pools, its [arbiter] values overridden by flags.
StatusOr<Config> config_from_file(const CliOptions& o);

}  // namespace greenfork::arbiter::detail
