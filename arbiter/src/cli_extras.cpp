// --log-format, syslog, statsd and --paste flags (cli_extras.hpp).
#include "cli_extras.hpp"

#include <algorithm>
#include <filesystem>

#include "config_file.hpp"
#include "config_python.hpp"
#include "greenfork/arbiter/statsd_gauge.hpp"
#include "greenfork/syslog_sink.hpp"

namespace greenfork::arbiter::detail {
namespace {

std::string py_str(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

// Gunicorn's --paste FILE[#name]: the ini's app, loaded in gworker through
// gf_paste.py (next to arbiterd, put on gworker's --pythonpath), as the APP.
StatusOr<CliOptions> with_paste(const CliOptions& o) {
  if (o.paste.empty()) {
    if (!o.paste_global.empty()) return Status::error("--paste-global needs --paste FILE.ini");
    return o;
  }
  if (!o.app.empty() || !o.command.empty()) {
    return Status::error("--paste " + o.paste + " names the app: give no APP or -- COMMAND with it");
  }
  const std::string uri = detail::absolute_path(detail::current_directory(), o.paste);
  const std::string file = uri.substr(0, uri.find('#'));
  if (std::error_code ec; !std::filesystem::is_regular_file(file, ec)) {
    return Status::error("--paste: '" + file + "' not found");
  }
  std::string global = "{";
  for (const std::string& kv : o.paste_global) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) return Status::error("--paste-global: '" + kv + "' is not KEY=VALUE");
    global += (global.size() > 1 ? ", " : "") + py_str(kv.substr(0, eq)) + ": " + py_str(kv.substr(eq + 1));
  }
  global += "}";
  CliOptions p = o;
  p.app = "gf_paste:load_app(" + py_str("config:" + uri) + ", " + global + ")";
  const std::string helper_dir = std::filesystem::path(detail::config_helper_path()).parent_path().string();
  auto it = std::find(p.worker_args.begin(), p.worker_args.end(), "--pythonpath");
  if (it != p.worker_args.end() && it + 1 != p.worker_args.end()) {
    *(it + 1) += "," + helper_dir;
  } else {
    p.worker_args.insert(p.worker_args.end(), {"--pythonpath", helper_dir});
  }
  return p;
}

Status apply_logging_flags(const CliOptions& o, Config& c) {
  if (o.was_given("--log-format")) c.log_format = o.log_format;
  if (o.was_given("--log-syslog")) c.syslog = o.syslog;
  if (o.was_given("--log-syslog-to")) c.syslog_addr = o.syslog_addr;
  if (o.was_given("--log-syslog-facility")) c.syslog_facility = o.syslog_facility;
  if (o.was_given("--log-syslog-prefix")) c.syslog_prefix = o.syslog_prefix;
  if (o.was_given("--statsd-host")) {
    if (Status s = StatsdGauge::check_address(o.statsd_host); !s.ok()) return s;
    c.statsd_host = o.statsd_host;
  }
  if (o.was_given("--statsd-prefix")) c.statsd_prefix = o.statsd_prefix;
  if (o.was_given("--dogstatsd-tags")) c.dogstatsd_tags = o.dogstatsd_tags;
  if (c.syslog) {
    if (Status s = check_syslog(c.syslog_addr, c.syslog_facility); !s.ok()) {
      return Status::error("--log-syslog-to/--log-syslog-facility: " + s.message());
    }
    // Gunicorn's prefix: syslog_prefix, else proc_name (-n, else the APP).
    if (c.syslog_prefix.empty()) c.syslog_prefix = !c.name.empty() ? c.name : !o.app.empty() ? o.app : "arbiterd";
  }
  return {};
}

}  // namespace greenfork::arbiter::detail
