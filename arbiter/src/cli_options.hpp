// Internal to cli.cpp: the command line parsed by CLI11 into plain values,
// before they become a Config.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "greenfork/status.hpp"

namespace greenfork::arbiter::detail {

struct CliOptions {
  enum class Action { kRun, kHelp, kVersion };
  Action action = Action::kRun;
  std::string help_text;

  std::string app;                   // positional APP
  std::vector<std::string> command;  // after "--"
  std::string config_file;
  bool check_config = false;
  bool print_config = false;

  // Arbiter-wide; `given` lists the flags the user gave (their long names),
  // so a config file's values are only overridden by those.
  std::string name, pid_file, chdir, error_logfile, log_level, umask, log_format = "text";
  std::string control_socket, control_bind, control_token_file;
  std::string metrics_bind;
  int backlog = 2048;
  bool daemon = false, stdio_inheritance = false, capture_output = false, reuse_port = false;
  bool syslog = false, no_access_to_syslog = false, initgroups = false;
  std::string statsd_host, statsd_prefix, dogstatsd_tags;
  std::string paste;                    // --paste FILE.ini[#name]
  std::vector<std::string> paste_global;  // --paste-global K=V
  std::string syslog_addr = "udp://localhost:514", syslog_prefix, syslog_facility = "user";
  // Accepted and checked, with no effect here (settings.hpp says why).
  bool preload = false;
  std::string worker_tmp_dir, proxy_allow_from, reload_engine;

  // Pool.
  unsigned workers = 1;
  std::vector<std::string> binds, env;
  std::string user, group, heartbeat = "auto";
  double timeout = 30, graceful_timeout = 30, boot_timeout = 60, max_request_age = 0;
  unsigned max_surge = 1, max_unavailable = 0;
  std::string max_worker_memory, autoscale;  // SIZE, MIN:MAX
  double autoscale_cooldown = 30;

  // gworker flags given, in long form, ready to append to its argv.
  std::vector<std::string> worker_args;
  std::vector<std::string> worker_flags_given;  // "--threads", for messages

  std::vector<std::string> given;  // "--workers", "--bind", ...
  bool was_given(const std::string& long_name) const;
};

// CLI11 over args (argv[1..], "--" and what follows included). Errors are
// the one-line text arbiterd prints.
StatusOr<CliOptions> parse_cli_options(const std::vector<std::string>& args);

}  // namespace greenfork::arbiter::detail
