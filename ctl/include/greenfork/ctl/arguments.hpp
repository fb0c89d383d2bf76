// gctl's command line, parsed into an Invocation before anything is sent.
// Pure: no I/O, no environment (the caller fills defaults afterwards).
//
//   parse_arguments({"--json", "scale", "api", "+2", "--wait"})
//     -> {command kScale, json, pool "api", scale {kRelative, +2}, wait}
//   parse_arguments({"scale", "x"}) -> error (exit 2, nothing sent)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "greenfork/ctl/scale_spec.hpp"
#include "greenfork/status.hpp"

namespace greenfork::ctl {

enum class Command {
  kHelp,
  kVersion,
  kStatus,
  kScale,
  kReload,
  kStop,
  kReopenLogs,
  kSignal,
  kUpgrade,
  kWatch,
  kTop,
};

// gctl top's options.
struct TopOptions {
  double delay_seconds = 1.0;          // -d
  std::string sort = "cpu";            // -s: cpu rss rps inflight served pid slot
  std::optional<unsigned> frames;      // -n: this many frames, then exit
};

struct Invocation {
  Command command = Command::kHelp;
  // Global options (accepted before or after the command).
  std::string socket;      // empty: $ARBITER_SOCKET, else the default path
  std::string token_file;  // bearer token for a TCP address
  bool json = false;
  std::optional<double> timeout_seconds;
  // Command arguments.
  std::string pool;        // scale, reload, signal, watch
  ScaleSpec scale;
  bool wait = false;       // scale, reload, upgrade
  bool graceful = true;    // stop (--fast: false)
  std::string signal;      // signal: the name as given, validated
  TopOptions top;
};

StatusOr<Invocation> parse_arguments(const std::vector<std::string>& args);

// The text of `gctl --help`.
const char* usage_text();

}  // namespace greenfork::ctl
