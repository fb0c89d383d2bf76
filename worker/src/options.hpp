// gworker's command line, with Gunicorn's option names (arbiterd's
// one-liner forwards exactly these).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "greenfork/status.hpp"
#include "greenfork/worker/http/request_parser.hpp"
#include "tls/tls_context.hpp"

namespace greenfork::worker {

struct Options {
  std::string app;                     // APP: "module:var" or "native:/p.so[?args]"
  std::vector<std::string> bind;       // -b, only without LISTEN_FDS
  std::string worker_class = "sync";   // -k sync|gthread|asgi (uvicorn's class names mean asgi)
  unsigned threads = 1;                // --threads (gthread)
  unsigned worker_connections = 1000;  // --worker-connections
  double keep_alive = 2;               // --keep-alive, seconds idle between requests
  double timeout = 30;                 // --timeout: heartbeat budget (arbiterd's)
  double graceful_timeout = 30;        // --graceful-timeout
  uint64_t max_requests = 0;           // --max-requests (0 = never)
  uint64_t max_requests_jitter = 0;    // --max-requests-jitter
  http::ParserLimits limits;           // --limit-request-line/-fields/-field_size/-body
  double header_timeout = 10;          // --header-timeout: whole head deadline
  double body_timeout = 30;            // --body-timeout: idle while reading a body
  double write_timeout = 30;           // --write-timeout: idle while writing
  bool request_buffering = true;       // --no-request-buffering turns it off
  uint64_t body_buffer_size = 1 << 20; // --body-buffer-size: in memory, then a file
  std::string worker_tmp_dir;          // --worker-tmp-dir: where bodies spill
  std::string access_logfile;          // --access-logfile ("-" = stdout)
  std::string access_logformat;        // --access-logformat
  std::string error_logfile = "-";     // --error-logfile ("-" = stderr)
  std::string log_level = "info";      // --log-level
  std::string log_format = "text";     // --log-format: text or json (error_log.hpp)
  bool syslog = false;                 // --log-syslog (syslog_sink.hpp) and its settings
  std::string syslog_addr = "udp://localhost:514", syslog_prefix, syslog_facility = "user";
  std::vector<std::string> forwarded_allow_ips{"127.0.0.1", "::1"};  // addresses, CIDR, "*"
  std::string proxy_protocol = "off";  // --proxy-protocol off|v1|v2|auto (bare: auto)
  std::vector<std::string> proxy_allow_from{"127.0.0.1", "::1"};  // --proxy-allow-from
  std::string protocol = "http";       // --protocol http|uwsgi
  std::vector<std::string> uwsgi_allow_from{"127.0.0.1", "::1"};  // --uwsgi-allow-from
  std::string http_protocols;         // --http-protocols h1,h2 ("": by listener kind)
  bool http1 = true;                  // ... parsed
  bool http2 = false;
  tls::TlsSettings tls;                // --certfile, --keyfile, --ca-certs, --cert-reqs, ...
  std::string chdir;
  std::vector<std::string> pythonpath;
  std::string virtualenv;
  std::vector<std::string> env;        // -e KEY=VALUE
  bool reload = false;
  std::vector<std::string> reload_extra_files;  // --reload-extra-file (globs)
  std::string name;                    // -n/--name: process title tag
  // The Gunicorn side (python_worker.hpp): a gunicorn.conf.py for the
  // worker hooks (PATH or python:module), logging configurations, statsd.
  std::string config;                  // --config
  std::string log_config;              // --log-config (ini)
  std::string log_config_dict;         // --log-config-dict (JSON)
  std::string log_config_json;         // --log-config-json (file)
  std::string statsd_host;             // --statsd-host host:port | unix:path
  std::string statsd_prefix;           // --statsd-prefix
  std::string dogstatsd_tags;          // --dogstatsd-tags
  unsigned backlog = 2048;             // --backlog (for -b)
  std::string asgi_loop = "auto";      // --asgi-loop auto|asyncio|uvloop (-k asgi)
  std::string lifespan = "auto";       // --lifespan auto|on|off (-k asgi)
  std::string root_path;               // --root-path: the ASGI scope's root_path
  uint64_t ws_max_size = uint64_t{16} << 20;  // --ws-max-size (bytes)
  double ws_ping_interval = 20;               // --ws-ping-interval (s; 0: none)
  double ws_ping_timeout = 20;                // --ws-ping-timeout (s)
  std::string ws_per_message_deflate = "true";  // --ws-per-message-deflate true|false

  bool asgi() const { return worker_class == "asgi"; }
  // -k gevent / -k eventlet: WSGI on green threads (worker/green/).
  bool green() const { return worker_class == "gevent" || worker_class == "eventlet"; }

  unsigned app_threads() const { return worker_class == "gthread" ? threads : 1; }
};

// Parses argv. Returns the exit code to use when parsing ended the program
// (--help, --version: 0; bad flags: 2, with the reason in `error`), or -1
// to continue.
int parse_options(int argc, char** argv, Options& options, std::string& error);

}  // namespace greenfork::worker
