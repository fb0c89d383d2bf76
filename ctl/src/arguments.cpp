#include "greenfork/ctl/arguments.hpp"

#include <CLI/CLI.hpp>

#include <cstdint>
#include <cstdlib>
#include <map>

#include "greenfork/signals.hpp"

namespace greenfork::ctl {
namespace {

const std::map<std::string, Command>& command_names() {
  static const std::map<std::string, Command> names = {
      {"status", Command::kStatus},       {"scale", Command::kScale},
      {"reload", Command::kReload},       {"stop", Command::kStop},
      {"reopen-logs", Command::kReopenLogs}, {"signal", Command::kSignal},
      {"upgrade", Command::kUpgrade},     {"watch", Command::kWatch},
      {"top", Command::kTop},
      {"help", Command::kHelp},
  };
  return names;
}

// "-1" is a scale target, not an option.
bool looks_like_option(const std::string& arg) {
  return arg.size() > 1 && arg[0] == '-' && !(arg[1] >= '0' && arg[1] <= '9');
}

StatusOr<double> parse_timeout(const std::string& text) {
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || !(value > 0) || value > 86400 * 365) {
    return Status::error("--timeout: '" + text + "' is not a positive number of seconds");
  }
  return value;
}

Status parse_scale(const std::vector<std::string>& positional, Invocation& inv) {
  std::string spec;
  if (positional.size() == 1) {
    const std::string& arg = positional[0];
    const auto eq = arg.find('=');
    if (eq != std::string::npos && eq > 0) {  // api=8
      inv.pool = arg.substr(0, eq);
      spec = arg.substr(eq + 1);
    } else {
      spec = arg;
    }
  } else if (positional.size() == 2) {
    inv.pool = positional[0];
    spec = positional[1];
  } else if (positional.empty()) {
    return Status::error("scale: missing target (+N, -N, =N or N)");
  } else {
    return Status::error("scale: too many arguments (expected [POOL] +N|-N|=N|N)");
  }
  auto parsed = parse_scale_spec(spec);
  if (!parsed.ok()) return parsed.status();
  inv.scale = *parsed;
  return {};
}

Status check_count(const std::string& command, const std::vector<std::string>& positional,
                   size_t min, size_t max, const char* shape) {
  if (positional.size() < min || positional.size() > max) {
    return Status::error(command + ": expected " + shape);
  }
  return {};
}

Status parse_top_options(const std::string& delay, const std::string& sort, const std::string& frames,
                         Invocation& inv) {
  if (!delay.empty()) {
    char* end = nullptr;
    const double v = std::strtod(delay.c_str(), &end);
    if (*end != '\0' || !(v >= 0.1) || v > 3600) {
      return Status::error("top: -d '" + delay + "' is not a number of seconds from 0.1 to 3600");
    }
    inv.top.delay_seconds = v;
  }
  if (!sort.empty()) {
    static const char* const kColumns[] = {"cpu", "rss", "rps", "inflight", "served", "pid", "slot"};
    bool known = false;
    for (const char* c : kColumns) known = known || sort == c;
    if (!known) return Status::error("top: -s '" + sort + "': sort by cpu, rss, rps, inflight, served, pid or slot");
    inv.top.sort = sort;
  }
  if (!frames.empty()) {
    char* end = nullptr;
    const long n = std::strtol(frames.c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > 1000000) return Status::error("top: -n '" + frames + "' is not a frame count");
    inv.top.frames = static_cast<unsigned>(n);
  }
  return {};
}

Status parse_command_args(const std::string& name, const std::vector<std::string>& positional,
                          const std::vector<std::string>& flags, Invocation& inv) {
  auto allow_flags = [&](std::initializer_list<const char*> allowed) -> Status {
    for (const auto& flag : flags) {
      bool ok = false;
      for (const char* a : allowed) ok = ok || flag == a;
      if (!ok) return Status::error(name + ": unknown option " + flag);
    }
    return {};
  };
  auto has = [&](const char* flag) {
    for (const auto& f : flags) if (f == flag) return true;
    return false;
  };
  switch (inv.command) {
    case Command::kHelp:
    case Command::kVersion:
      return {};
    case Command::kStatus:
    case Command::kReopenLogs:
      if (Status s = allow_flags({}); !s.ok()) return s;
      return check_count(name, positional, 0, 0, "no arguments");
    case Command::kScale:
      if (Status s = allow_flags({"--wait"}); !s.ok()) return s;
      inv.wait = has("--wait");
      return parse_scale(positional, inv);
    case Command::kReload:
      if (Status s = allow_flags({"--wait"}); !s.ok()) return s;
      inv.wait = has("--wait");
      if (Status s = check_count(name, positional, 0, 1, "[POOL]"); !s.ok()) return s;
      if (!positional.empty()) inv.pool = positional[0];
      return {};
    case Command::kStop:
      if (Status s = allow_flags({"--graceful", "--fast"}); !s.ok()) return s;
      if (has("--graceful") && has("--fast")) {
        return Status::error("stop: --graceful and --fast exclude each other");
      }
      inv.graceful = !has("--fast");
      return check_count(name, positional, 0, 0, "no arguments besides --graceful or --fast");
    case Command::kSignal: {
      if (Status s = allow_flags({}); !s.ok()) return s;
      if (Status s = check_count(name, positional, 2, 2, "POOL SIGNAL"); !s.ok()) return s;
      inv.pool = positional[0];
      inv.signal = positional[1];
      if (!parse_signal(inv.signal)) {
        return Status::error("signal: unknown signal '" + inv.signal + "'");
      }
      return {};
    }
    case Command::kUpgrade:
      if (Status s = allow_flags({"--wait"}); !s.ok()) return s;
      inv.wait = has("--wait");
      return check_count(name, positional, 0, 0, "no arguments besides --wait");
    case Command::kTop:
      if (Status s = allow_flags({}); !s.ok()) return s;
      return check_count(name, positional, 0, 0, "no arguments besides -d, -s and -n");
    case Command::kWatch:
      if (Status s = allow_flags({}); !s.ok()) return s;
      if (Status s = check_count(name, positional, 0, 1, "[POOL]"); !s.ok()) return s;
      if (!positional.empty()) inv.pool = positional[0];
      return {};
  }
  return {};
}

}  // namespace

StatusOr<Invocation> parse_arguments(const std::vector<std::string>& args) {
  Invocation inv;
  CLI::App app("gctl", "gctl");
  // Global options may come before or after the command (each subcommand
  // falls through to them); a repeated option keeps its last value.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_help_flag();  // --help is ours: it prints usage_text() whatever else is given
  bool wants_help = false;
  bool wants_version = false;
  std::string timeout;
  app.add_flag("-h,--help", wants_help);
  app.add_flag("-V,--version", wants_version);
  CLI::Option* socket = app.add_option("--socket", inv.socket);
  CLI::Option* token_file = app.add_option("--token-file", inv.token_file);
  CLI::Option* timeout_option = app.add_option("--timeout", timeout);
  app.add_flag("--json", inv.json);
  app.require_subcommand(0, 1);

  struct CommandLine {
    std::vector<std::string> positional;
    std::vector<std::string> flags;  // as given: "--wait"
  };
  std::string top_delay, top_sort, top_frames;  // top's -d, -s, -n
  std::map<const CLI::App*, CommandLine> given;
  for (const auto& [name, command] : command_names()) {
    CLI::App* sub = app.add_subcommand(name);
    sub->fallthrough();
    sub->set_help_flag();
    CommandLine& line = given[sub];
    sub->add_option("ARGS", line.positional);
    if (command == Command::kTop) {
      sub->add_option("-d,--delay", top_delay);
      sub->add_option("-s,--sort", top_sort);
      sub->add_option("-n,--frames", top_frames);
    }
    for (const char* flag : {"--wait", "--graceful", "--fast"}) {
      sub->add_flag_function(flag, [&line, flag](std::int64_t) { line.flags.emplace_back(flag); });
    }
  }

  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::ExtrasError&) {
    std::vector<std::string> extras = app.remaining();
    for (const auto& [sub, line] : given) {
      for (const std::string& extra : sub->remaining()) extras.push_back(extra);
    }
    const std::string first = extras.empty() ? "?" : extras.front();
    if (looks_like_option(first)) return Status::error("unknown option " + first);
    return Status::error("unknown command '" + first + "'");
  } catch (const CLI::ArgumentMismatch& e) {
    const std::string what = e.what();
    return Status::error(what.substr(0, what.find(':')) + ": missing value");
  } catch (const CLI::ParseError& e) {
    return Status::error(e.what());
  }
  if (wants_help) {
    inv.command = Command::kHelp;
    return inv;
  }
  if (wants_version) {
    inv.command = Command::kVersion;
    return inv;
  }
  if (socket->count() > 0 && inv.socket.empty()) return Status::error("--socket: empty address");
  if (token_file->count() > 0 && inv.token_file.empty()) return Status::error("--token-file: empty path");
  if (timeout_option->count() > 0) {
    auto seconds = parse_timeout(timeout);
    if (!seconds.ok()) return seconds.status();
    inv.timeout_seconds = *seconds;
  }
  const std::vector<CLI::App*> chosen = app.get_subcommands();
  if (chosen.empty()) return Status::error("missing command");
  const std::string name = chosen.front()->get_name();
  inv.command = command_names().at(name);
  const CommandLine& line = given.at(chosen.front());
  if (Status s = parse_command_args(name, line.positional, line.flags, inv); !s.ok()) return s;
  if (inv.command == Command::kTop) {
    if (Status s = parse_top_options(top_delay, top_sort, top_frames, inv); !s.ok()) return s;
  }
  return inv;
}

const char* usage_text() {
  return R"(usage: gctl [--socket ADDR] [--token-file F] [--json] [--timeout S] COMMAND

Operate a running arbiterd over its gRPC control socket.

Commands:
  status                      pools and workers (a table; --json for scripts)
  scale [POOL] +N|-N|=N|N     change a pool's worker count (also POOL=N);
        [--wait]              POOL may be left out when there is one pool;
                              --wait returns when the new workers are READY
  reload [POOL] [--wait]      rolling restart of one pool or all; --wait
                              returns when done (exit 1 if rolled back)
  stop [--graceful|--fast]    stop arbiterd (graceful by default)
  reopen-logs                 reopen arbiterd's log files, USR1 to workers
  signal POOL SIG             send SIG (HUP, USR1, SIGTERM, 15...) to a pool
  upgrade [--wait]            re-exec arbiterd from disk (binary upgrade);
                              --wait returns when the new master serves
  watch [POOL]                print events as they happen, until Ctrl-C
  top [-d S] [-s COL] [-n N]  live view of pools and workers (req/s, in flight,
                              RSS, CPU), every S seconds (1), sorted by COL
                              (cpu, rss, rps, inflight, served, pid, slot;
                              cpu), until q or Ctrl-C; -n: N frames, then exit.
                              Plain text when stdout is not a terminal

Options:
  --socket ADDR      unix socket path, unix:/path, or HOST:PORT (TCP).
                     Default: $ARBITER_SOCKET, else $XDG_RUNTIME_DIR/arbiterd.sock,
                     /run/arbiterd.sock as root, /tmp/arbiterd-UID.sock otherwise
  --token-file F     bearer token for a TCP address (required there)
  --json             machine-readable output (see below)
  --timeout S        give up after S seconds (default 10; 300 with --wait;
                     watch: stop watching after S seconds)
  --version, --help

JSON output (stable field names, those of proto/greenfork/v1/greenfork.proto;
enums as their names, every field present; 64-bit counters -- restarts,
requests_served, rss_bytes, reloads -- are JSON numbers, unlike proto3's
JSON mapping, which quotes them):
  status        {"pid","version","uptime_seconds","name","pools":[{"name",
                 "command","desired","running","ready","state","state_reason",
                 "restarts","binds","heartbeat","max_workers","workers":[{"slot",
                 "pid","state","uptime_seconds","last_heartbeat_age_seconds",
                 "requests_served","requests_in_flight","rss_bytes",
                 "generation","status_text","cpu_seconds","requests_per_second",
                 "connections","oldest_request_age_seconds"}],"reloads"}]}
  scale         {"pool","previous","desired"}
  reload        {"pools","completed"}
  signal        {"workers_signalled"}
  upgrade       {"new_master_pid"}
  stop, reopen-logs   {}
  watch         one JSON object per line: {"kind","unix_time","pool","slot",
                 "pid","detail","reason"}

Exit status: 0 success; 1 arbiterd refused or failed the command (the
message on stderr says why); 2 bad arguments (nothing was sent);
3 arbiterd could not be reached.
)";
}

}  // namespace greenfork::ctl
