#include "options.hpp"

#include <CLI/CLI.hpp>


#include "greenfork/worker/proxy/address_allow_list.hpp"
#include "greenfork/worker_settings.hpp"
#include "statsd.hpp"

namespace greenfork::worker {

namespace {

namespace settings = greenfork::worker_settings;

// The ranges arbiterd also checks before it forks a worker.
CLI::Range range(const settings::NumericRange& r) {
  if (!r.whole) return CLI::Range(r.min, r.max);
  return CLI::Range(static_cast<uint64_t>(r.min), static_cast<uint64_t>(r.max));
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    while (!item.empty() && item.front() == ' ') item.erase(0, 1);
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

bool check_allow_list(const char* flag, const std::vector<std::string>& entries,
                      std::string& error) {
  proxy::AddressAllowList list;
  if (proxy::AddressAllowList::parse(entries, list, error)) return true;
  error = std::string(flag) + ": " + error;
  return false;
}

}  // namespace

int parse_options(int argc, char** argv, Options& o, std::string& error) {
  CLI::App cli{"gworker: greenfork's HTTP/1.1 worker (WSGI and native apps)", "gworker"};
  cli.set_version_flag("--version", std::string("gworker (greenfork) ") + GF_VERSION);
  cli.add_option("APP", o.app, "module:variable, module:factory(args) or native:/path/lib.so[?args]")
      ->required();
  cli.add_option("-b,--bind", o.bind,
                 "Address to listen on when not given sockets (LISTEN_FDS); repeatable");
  cli.add_option("-k,--worker-class", o.worker_class,
                 "sync (1 app thread), gthread, asgi (an asyncio loop; "
                 "uvicorn.workers.UvicornWorker means asgi), gevent or eventlet (WSGI on green threads), "
                 "tornado or aiohttp (the framework's own HTTP server; gaiohttp and Gunicorn's class names "
                 "mean these)")
      ->check(CLI::IsMember(settings::choices(settings::kWorkerClasses)))
      ->capture_default_str();
  cli.add_option("--threads", o.threads, "App threads for gthread")
      ->check(range(settings::kThreads))
      ->capture_default_str();
  cli.add_option("--worker-connections", o.worker_connections,
                 "Open connections above which accepting pauses")
      ->check(range(settings::kWorkerConnections))
      ->capture_default_str();
  cli.add_option("--keep-alive", o.keep_alive, "Seconds an idle keep-alive connection is kept")
      ->check(range(settings::kKeepAlive))
      ->capture_default_str();
  cli.add_option("-t,--timeout", o.timeout, "Heartbeat timeout arbiterd applies (seconds)")
      ->check(range(settings::kTimeout))
      ->capture_default_str();
  cli.add_option("--graceful-timeout", o.graceful_timeout,
                 "Seconds in-flight requests get after TERM")
      ->check(range(settings::kGracefulTimeout))
      ->capture_default_str();
  cli.add_option("--max-requests", o.max_requests, "Drain and exit 0 after this many (0 = never)")
      ->capture_default_str();
  cli.add_option("--max-requests-jitter", o.max_requests_jitter,
                 "Random 0..N added to --max-requests")
      ->capture_default_str();
  cli.add_option("--limit-request-line", o.limits.request_line,
                 "Longest request line, bytes (0 = unlimited); 414 above")
      ->check(range(settings::kLimitRequestLine))
      ->capture_default_str();
  cli.add_option("--limit-request-fields", o.limits.fields, "Most header fields; 431 above")
      ->check(range(settings::kLimitRequestFields))
      ->capture_default_str();
  cli.add_option("--limit-request-field_size,--limit-request-field-size", o.limits.field_size,
                 "Longest header line, bytes (0 = unlimited); 431 above")
      ->capture_default_str();
  cli.add_option("--limit-request-body", o.limits.body,
                 "Largest request body, bytes (0 = unlimited); 413 above")
      ->capture_default_str();
  cli.add_option("--header-timeout", o.header_timeout, "Seconds to receive a whole request head")
      ->check(range(settings::kHeaderTimeout))
      ->capture_default_str();
  cli.add_option("--body-timeout", o.body_timeout, "Idle seconds allowed while reading a body")
      ->check(range(settings::kBodyTimeout))
      ->capture_default_str();
  cli.add_option("--write-timeout", o.write_timeout, "Idle seconds allowed while writing")
      ->check(range(settings::kWriteTimeout))
      ->capture_default_str();
  bool no_request_buffering = false;
  cli.add_flag("--no-request-buffering", no_request_buffering,
               "Hand requests to the app before their body is read (for apps that stream "
               "uploads); by default the whole body is read first");
  cli.add_option("--body-buffer-size", o.body_buffer_size,
                 "Bytes of a buffered request body kept in memory; the rest goes to an "
                 "unlinked temporary file")
      ->check(range(settings::kBodyBufferSize))
      ->capture_default_str();
  cli.add_option("--worker-tmp-dir", o.worker_tmp_dir,
                 "Directory for request body temporary files (default: $TMPDIR or /tmp)");
  cli.add_option("--access-logfile", o.access_logfile, "Access log file ('-' = stdout)");
  cli.add_option("--access-logformat", o.access_logformat, "Gunicorn access log format");
  cli.add_option("--error-logfile,--log-file", o.error_logfile, "Error log file ('-' = stderr)")
      ->capture_default_str();
  cli.add_flag("--log-syslog", o.syslog, "Send the error log to syslog too");
  cli.add_option("--log-syslog-to", o.syslog_addr, "udp://HOST:PORT, tcp://HOST:PORT or unix://PATH[#dgram]")
      ->capture_default_str();
  cli.add_option("--log-syslog-prefix", o.syslog_prefix, "Syslog tag gunicorn.PREFIX.error (default: the APP)");
  cli.add_option("--log-syslog-facility", o.syslog_facility, "Syslog facility")->capture_default_str();
  cli.add_option("--log-format", o.log_format, "Error log lines: text (Gunicorn's) or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  cli.add_option("--log-level", o.log_level, "debug, info, warning, error, critical")
      ->check(CLI::IsMember(settings::choices(settings::kLogLevels)))
      ->capture_default_str();
  std::string forwarded = "127.0.0.1,::1";
  cli.add_option("--forwarded-allow-ips", forwarded,
                 "Peers whose X-Forwarded-* headers are believed: addresses and CIDR "
                 "ranges, comma-separated ('*' = all)")
      ->capture_default_str();
  // Gunicorn's nargs='?' with const 'auto': the flag alone means auto (and,
  // as there, a value right after it is taken as its value).
  cli.add_option("--proxy-protocol", o.proxy_protocol,
                 "Read a PROXY protocol header (v1, v2, or auto: either) before each "
                 "connection's first byte (default off; the flag alone: auto)")
      ->expected(0, 1)
      ->default_str("auto")
      ->check(CLI::IsMember(settings::choices(settings::kProxyProtocols)));
  std::string proxy_allow = "127.0.0.1,::1";
  cli.add_option("--proxy-allow-from", proxy_allow,
                 "Peers allowed to send a PROXY header: addresses and CIDR ranges, "
                 "comma-separated ('*' = all)")
      ->capture_default_str();
  cli.add_option("--protocol", o.protocol,
                 "What the listeners speak: http, or uwsgi (the uwsgi binary protocol of "
                 "nginx's uwsgi_pass)")
      ->check(CLI::IsMember(settings::choices(settings::kProtocols)))
      ->capture_default_str();
  std::string uwsgi_allow = "127.0.0.1,::1";
  cli.add_option("--uwsgi-allow-from", uwsgi_allow,
                 "With --protocol uwsgi, peers allowed to send requests: addresses and CIDR "
                 "ranges, comma-separated ('*' = all)")
      ->capture_default_str();
  CLI::Option* http_protocols = cli.add_option("--http-protocols", o.http_protocols,
                 "HTTP versions served, a comma list of h1 and h2 (default: h1 on plain "
                 "listeners, h1,h2 over TLS; h2 on plain listeners is h2c with prior knowledge)");
  // TLS (Gunicorn's names): every listener speaks TLS when --certfile is given.
  cli.add_option("--certfile", o.tls.certfile, "PEM certificate (chain): serve TLS on every listener");
  cli.add_option("--keyfile", o.tls.keyfile, "PEM private key (default: in --certfile)");
  cli.add_option("--ca-certs", o.tls.ca_certs, "PEM CA certificates client certificates are verified against");
  std::string cert_reqs = "0";
  cli.add_option("--cert-reqs", cert_reqs, "Client certificates: 0/none, 1/optional, 2/required")
      ->capture_default_str();
  cli.add_option("--ciphers", o.tls.ciphers, "OpenSSL cipher list for TLS 1.2 (default: OpenSSL's)");
  std::string ssl_version = "TLS_SERVER";
  cli.add_option("--ssl-version", ssl_version,
                 "TLS, TLS_SERVER, SSLv23 (1.2 and up), TLSv1_2 or TLSv1_3 (only that version)")
      ->capture_default_str();
  bool handshake_on_connect = false;
  cli.add_flag("--do-handshake-on-connect", handshake_on_connect,
               "Accepted: the handshake always runs right after accept, on the I/O thread");
  bool suppress_ragged_eofs = false;
  cli.add_flag("--suppress-ragged-eofs", suppress_ragged_eofs,
               "A client closing without close_notify ends the connection as an EOF (the default)");
  cli.add_option("--chdir", o.chdir, "Directory to change to before loading the app");
  cli.add_option("--pythonpath", o.pythonpath, "Directories added to sys.path (comma-separated)")
      ->delimiter(',');
  cli.add_option("--virtualenv", o.virtualenv, "Virtualenv whose site-packages the app uses");
  cli.add_option("-e,--env", o.env, "KEY=VALUE set in the environment; repeatable");
  cli.add_flag("--reload", o.reload, "Restart when the app's code changes (development)");
  cli.add_option("--reload-extra-file", o.reload_extra_files,
                 "With --reload, also watch these files (globs, ** recursive); repeatable")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  cli.add_option("-n,--name", o.name, "A name for logs and the process title");
  cli.add_option("--backlog", o.backlog, "listen() backlog for -b")->capture_default_str();
  cli.add_option("-c,--config", o.config,
                 "Gunicorn config file (PATH or python:module) whose worker hooks gworker runs");
  cli.add_option("--log-config", o.log_config, "Python logging config file (fileConfig ini)");
  cli.add_option("--log-config-dict", o.log_config_dict,
                 "Python logging dictConfig, as JSON (the config file's logconfig_dict)");
  cli.add_option("--log-config-json", o.log_config_json, "Python logging dictConfig JSON file");
  cli.add_option("--statsd-host", o.statsd_host, "statsd address: HOST:PORT or unix:PATH");
  cli.add_option("--statsd-prefix", o.statsd_prefix, "Prefix of the statsd metric names");
  cli.add_option("--dogstatsd-tags", o.dogstatsd_tags,
                 "Datadog tags for every metric: comma-separated key:value");
  cli.add_option("--asgi-loop", o.asgi_loop, "-k asgi's event loop: auto (uvloop when installed), "
                 "asyncio or uvloop")
      ->check(CLI::IsMember(settings::choices(settings::kAsgiLoops)))
      ->capture_default_str();
  cli.add_option("--lifespan,--asgi-lifespan", o.lifespan,
                 "-k asgi's lifespan protocol: auto (used when the app supports it), on, off")
      ->check(CLI::IsMember(settings::choices(settings::kLifespans)))
      ->capture_default_str();
  cli.add_option("--root-path", o.root_path, "-k asgi: the scope's root_path (the app's mount point)");
  cli.add_option("--ws-max-size", o.ws_max_size, "-k asgi: largest WebSocket message (bytes); larger: 1009")
      ->check(range(settings::kWsMaxSize))
      ->capture_default_str();
  cli.add_option("--ws-ping-interval", o.ws_ping_interval, "-k asgi: seconds between keepalive pings (0: none)")
      ->check(range(settings::kWsPingInterval))
      ->capture_default_str();
  cli.add_option("--ws-ping-timeout", o.ws_ping_timeout, "-k asgi: seconds a pong may take")
      ->check(range(settings::kWsPingTimeout))
      ->capture_default_str();
  cli.add_option("--ws-per-message-deflate", o.ws_per_message_deflate,
                 "-k asgi: permessage-deflate when the client offers it: true or false")
      ->check(CLI::IsMember(settings::choices(settings::kBooleans)))
      ->capture_default_str();
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return cli.exit(e);  // --help, --version
    error = e.what();
    return 2;
  }
  o.forwarded_allow_ips = split_commas(forwarded);
  o.proxy_allow_from = split_commas(proxy_allow);
  o.uwsgi_allow_from = split_commas(uwsgi_allow);
  if (!check_allow_list("--forwarded-allow-ips", o.forwarded_allow_ips, error) ||
      !check_allow_list("--proxy-allow-from", o.proxy_allow_from, error) ||
      !check_allow_list("--uwsgi-allow-from", o.uwsgi_allow_from, error)) {
    return 2;
  }
  o.request_buffering = !no_request_buffering;
  if (!o.statsd_host.empty()) {
    if (Status s = StatsdClient::check_address(o.statsd_host); !s.ok()) {
      error = s.message();
      return 2;
    }
  }
  o.worker_class = settings::canonical_worker_class(o.worker_class);
  if (o.green() && o.app.rfind("native:", 0) == 0) {
    error = "-k " + o.worker_class + " runs Python WSGI apps on green threads; '" + o.app +
            "' needs -k sync or -k gthread";
    return 2;
  }
  for (const std::string& kv : o.env) {
    if (kv.find('=') == std::string::npos || kv.front() == '=') {
      error = "--env expects KEY=VALUE, got '" + kv + "'";
      return 2;
    }
  }
  auto reqs = tls::parse_cert_reqs(cert_reqs);
  if (!reqs.ok()) {
    error = reqs.status().message();
    return 2;
  }
  o.tls.cert_reqs = *reqs;
  if (greenfork::Status s = tls::apply_ssl_version(ssl_version, o.tls); !s.ok()) {
    error = s.message();
    return 2;
  }
  if (o.tls.certfile.empty() && (!o.tls.keyfile.empty() || !o.tls.ca_certs.empty())) {
    error = "--keyfile and --ca-certs need --certfile";
    return 2;
  }
  settings::HttpProtocols protocols{true, o.tls.enabled()};
  if (http_protocols->count() > 0) {
    error = settings::parse_http_protocols(o.http_protocols, protocols);
    if (!error.empty()) return 2;
  }
  o.http1 = protocols.h1;
  o.http2 = protocols.h2;
  o.tls.alpn_http11 = protocols.h1;
  o.tls.alpn_h2 = protocols.h2;
  return -1;
}

}  // namespace greenfork::worker
