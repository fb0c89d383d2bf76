// arbiterd's command line (CLI11), three ways to say what to run:
//
//   arbiterd [OPTIONS] -- COMMAND [ARGS...]     any executable, one pool "main"
//   arbiterd [OPTIONS] APP                      Gunicorn's one-liner: runs
//        <arbiterd's folder>/gworker APP [worker flags...], default bind
//        127.0.0.1:8000 (as Gunicorn's)
//   arbiterd -c FILE.toml [arbiter OPTIONS]     several pools (config_loader.hpp)
//   arbiterd [-c gunicorn.conf.py] [OPTIONS] APP   Gunicorn's config file
//
// Settings come from the config file (-c FILE, -c python:MODULE, or
// ./gunicorn.conf.py when present and no -c), then GUNICORN_CMD_ARGS, then
// the command line; a later one replaces a setting of an earlier one. Every
// flag and file name is in the settings table (settings.hpp): a refused one
// stops arbiterd with its reason. --print-config prints the result.
//
//   int main(int argc, char** argv) {
//     CliOutcome cli = parse_cli(argc, argv);
//     if (!cli.run) return cli.exit_code;   // --help, --version, errors, --check-config
//     return run_arbiter(std::move(cli.config));
//   }
//
// parse_cli prints --help/--version on stdout and an error as one line on
// stderr ("arbiterd: <why>", exit 2; a Python config's traceback comes
// before it); --check-config prints
// "config OK: N pools" (exit 0). With -c, flags given on the command line
// override the file's [arbiter] keys; pool flags (-w, -b, ...) are an error.
//
// Worker flags, accepted only with APP and forwarded to gworker in long
// form ("--threads 4"): -k/--worker-class sync|gthread, --threads,
// --keep-alive, --max-requests, --max-requests-jitter, --access-logfile,
// --access-logformat, --pythonpath, --forwarded-allow-ips,
// --limit-request-line, --limit-request-fields, --limit-request-field_size,
// --reload, --worker-connections; and, also used by arbiterd itself,
// --timeout, --graceful-timeout, --log-level, --error-logfile, --chdir
// (forwarded as an absolute path). -e K=V becomes the pool's environment.
#pragma once

#include <string>
#include <vector>

#include "greenfork/arbiter/config.hpp"
#include "greenfork/status.hpp"

namespace greenfork::arbiter {

struct CliOutcome {
  bool run = false;    // false: exit now with exit_code
  int exit_code = 0;
  Config config;       // valid when run
  // argv[1..], for config_from_args() on reload (HUP re-reads the file).
  std::vector<std::string> args;
};

CliOutcome parse_cli(int argc, char** argv);

// The same parse without printing: the Config, or the error parse_cli
// would print. For HUP: `config_from_args(cli.args)` re-reads the file with
// the same command-line overrides.
StatusOr<Config> config_from_args(const std::vector<std::string>& args);

inline constexpr const char* kVersionText = "arbiterd (greenfork) 0.1.0";

}  // namespace greenfork::arbiter
