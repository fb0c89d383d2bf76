// The settings table (settings.hpp): one row per setting, Gunicorn 26.1's in
// its order of sections, then greenfork's own.
#include "greenfork/arbiter/settings.hpp"

#include <map>

namespace greenfork::arbiter::settings {
namespace {

namespace ws = worker_settings;
using T = Type;
using P = Process;
using S = Status;

constexpr const char* kMasterHook =
    "runs in arbiterd's hook host (a Python process), which arbiterd does not wait for; see docs/server-hooks.md";
constexpr const char* kWorkerHook =
    "runs in each gworker's interpreter (arbiterd passes the file as gworker --config); see docs/gunicorn-worker-side.md";
constexpr const char* kDirty = "dirty arbiters are not supported: run the task as its own pool (-c FILE.toml)";
constexpr const char* kHttp2 = "not configurable: gworker's HTTP/2 (--http-protocols) has fixed limits: 100 concurrent streams, a 256 KiB stream window, 16 KiB frames, a header list bounded by --limit-request-fields and --limit-request-field_size";
constexpr const char* kAsgi = "not supported yet by gworker's -k asgi";
constexpr const char* kStrict = "not configurable: gworker parses HTTP/1.1 strictly (RFC 9112) and refuses what this would permit";

const std::vector<Setting> kTable = {
    // Config File
    {"config", "-c,--config", T::kString, "./gunicorn.conf.py", P::kArbiter, S::kAccepted, "", nullptr, true},
    {"wsgi_app", "", T::kString, "None", P::kWorker, S::kNote, "the APP when none is given on the command line", nullptr, true},
    // Control
    {"control_socket", "--control-socket", T::kString, "$XDG_RUNTIME_DIR/arbiterd.sock (/run/arbiterd.sock as root)", P::kArbiter, S::kNote,
     "greenfork's gRPC control socket (gctl), not gunicornc's protocol", nullptr, true},
    {"control_socket_disable", "--no-control-socket", T::kBool, "False", P::kArbiter, S::kRefused,
     "arbiterd always serves its control socket (gctl uses it); it is a unix socket of mode 0600", nullptr, true},
    {"control_socket_mode", "--control-socket-mode", T::kInt, "384", P::kArbiter, S::kRefused,
     "the control socket is always mode 0600; for other users use --control-bind with --control-token-file", nullptr, true},
    // Debugging
    {"check_config", "--check-config", T::kBool, "False", P::kArbiter, S::kAccepted, "", nullptr, true},
    {"print_config", "--print-config", T::kBool, "False", P::kArbiter, S::kAccepted, "", nullptr, true},
    {"reload", "--reload", T::kBool, "False", P::kWorker, S::kAccepted, "", nullptr, true},
    {"reload_engine", "--reload-engine", T::kString, "auto", P::kWorker, S::kNote,
     "auto, poll or inotify are accepted; gworker's reloader picks how it watches", nullptr, true},
    {"reload_extra_files", "--reload-extra-file", T::kList, "[]", P::kWorker, S::kAccepted, "", nullptr, true},
    {"spew", "--spew", T::kBool, "False", P::kWorker, S::kRefused,
     "not supported: trace with a debugger or py-spy instead", nullptr, true},
    // Dirty Arbiter Hooks, Dirty Arbiters
    {"dirty_post_fork", "", T::kCallable, "(function)", P::kNone, S::kRefused, kDirty, nullptr, true},
    {"dirty_worker_exit", "", T::kCallable, "(function)", P::kNone, S::kRefused, kDirty, nullptr, true},
    {"dirty_worker_init", "", T::kCallable, "(function)", P::kNone, S::kRefused, kDirty, nullptr, true},
    {"on_dirty_starting", "", T::kCallable, "(function)", P::kNone, S::kRefused, kDirty, nullptr, true},
    {"dirty_apps", "--dirty-app", T::kList, "[]", P::kNone, S::kRefused, kDirty, nullptr, true},
    {"dirty_graceful_timeout", "--dirty-graceful-timeout", T::kInt, "30", P::kNone, S::kRefused, kDirty, nullptr, true},
    {"dirty_threads", "--dirty-threads", T::kInt, "1", P::kNone, S::kRefused, kDirty, nullptr, true},
    {"dirty_timeout", "--dirty-timeout", T::kInt, "300", P::kNone, S::kRefused, kDirty, nullptr, true},
    {"dirty_workers", "--dirty-workers", T::kInt, "0", P::kNone, S::kRefused, kDirty, nullptr, true},
    // HTTP/2
    {"http2_cleartext", "--http2-cleartext", T::kString, "off", P::kNone, S::kRefused, kHttp2, nullptr, true},
    {"http2_initial_window_size", "--http2-initial-window-size", T::kInt, "65535", P::kNone, S::kRefused, kHttp2, nullptr, true},
    {"http2_max_concurrent_streams", "--http2-max-concurrent-streams", T::kInt, "100", P::kNone, S::kRefused, kHttp2, nullptr, true},
    {"http2_max_frame_size", "--http2-max-frame-size", T::kInt, "16384", P::kNone, S::kRefused, kHttp2, nullptr, true},
    {"http2_max_header_list_size", "--http2-max-header-list-size", T::kInt, "65536", P::kNone, S::kRefused, kHttp2, nullptr, true},
    {"http_protocols", "--http-protocols", T::kString, "h1", P::kWorker, S::kAccepted, "", nullptr, true},
    // Logging
    {"access_log_format", "--access-logformat", T::kString, "%(h)s %(l)s %(u)s %(t)s \"%(r)s\" %(s)s %(b)s \"%(f)s\" \"%(a)s\"",
     P::kWorker, S::kAccepted, "", nullptr, true},
    {"accesslog", "--access-logfile", T::kString, "None", P::kWorker, S::kAccepted, "", nullptr, true},
    {"capture_output", "--capture-output", T::kBool, "False", P::kBoth, S::kNote,
     "with a file --error-logfile, arbiterd points its stdout/stderr at it and every worker inherits them", nullptr, true},
    {"disable_redirect_access_to_syslog", "--disable-redirect-access-to-syslog", T::kBool, "False", P::kBoth, S::kNote,
     "accepted; access lines never go to syslog here (as if it were always given): only the error logs do", nullptr,
     true},
    {"dogstatsd_tags", "--dogstatsd-tags", T::kString, "", P::kBoth, S::kAccepted, "", nullptr, true},
    {"enable_backlog_metric", "--enable-backlog-metric", T::kBool, "False", P::kNone, S::kRefused,
     "not sent to statsd: every listener's accept queue is greenfork_listen_queue in /metrics (--metrics-bind)", nullptr,
     true},
    {"enable_stdio_inheritance", "-R,--enable-stdio-inheritance", T::kBool, "False", P::kArbiter, S::kAccepted,
     "", nullptr, true},
    {"errorlog", "--error-logfile,--log-file", T::kString, "-", P::kBoth, S::kAccepted, "", nullptr, true},
    {"logconfig", "--log-config", T::kString, "None", P::kWorker, S::kNote,
     "applied in each gworker's interpreter (Python loggers); gworker's own lines stay in --error-logfile", nullptr, true},
    {"logconfig_dict", "", T::kDict, "{}", P::kWorker, S::kNote,
     "read by each gworker from the config file it is given (--config) and applied in its interpreter", nullptr, true},
    {"logconfig_json", "--log-config-json", T::kString, "None", P::kWorker, S::kNote,
     "applied in each gworker's interpreter (Python loggers); gworker's own lines stay in --error-logfile", nullptr, true},
    {"logger_class", "--logger-class", T::kString, "gunicorn.glogging.Logger", P::kNone, S::kRefused,
     "custom logger classes are not supported: greenfork writes Gunicorn's log formats itself", nullptr, true},
    {"loglevel", "--log-level", T::kString, "info", P::kBoth, S::kAccepted, "", nullptr, true},
    {"statsd_host", "--statsd-host", T::kString, "None", P::kBoth, S::kNote,
     "HOST:PORT (UDP) or unix:PATH; arbiterd sends gunicorn.workers (docs/logging.md)", nullptr, true},
    {"statsd_prefix", "--statsd-prefix", T::kString, "", P::kBoth, S::kAccepted, "", nullptr, true},
    {"syslog", "--log-syslog", T::kBool, "False", P::kBoth, S::kAccepted, "", nullptr, true},
    {"syslog_addr", "--log-syslog-to", T::kString, "udp://localhost:514", P::kBoth, S::kAccepted, "", nullptr, true},
    {"syslog_facility", "--log-syslog-facility", T::kString, "user", P::kBoth, S::kAccepted, "", nullptr, true},
    {"syslog_prefix", "--log-syslog-prefix", T::kString, "None", P::kBoth, S::kNote,
     "the tag is gunicorn.PREFIX.error; PREFIX defaults to -n's NAME, else the APP (':' as '.'), else arbiterd",
     nullptr, true},
    // Process Naming
    {"default_proc_name", "", T::kString, "gunicorn", P::kArbiter, S::kNote,
     "accepted and unused: processes are titled 'arbiterd: master [NAME]' with -n's NAME", nullptr, true},
    {"proc_name", "-n,--name", T::kString, "None", P::kBoth, S::kAccepted, "", nullptr, true},
    // SSL
    {"ca_certs", "--ca-certs", T::kString, "None", P::kWorker, S::kAccepted, "", nullptr, true},
    {"cert_reqs", "--cert-reqs", T::kInt, "0", P::kWorker, S::kNote,
     "0/none, 1/optional or 2/required (needs --ca-certs); a verified client certificate's subject reaches "
     "the app as SSL_CLIENT_S_DN", nullptr, true},
    {"certfile", "--certfile", T::kString, "None", P::kWorker, S::kNote,
     "every listener serves TLS; the files are checked before anything starts and re-read on reload", nullptr,
     true},
    {"ciphers", "--ciphers", T::kString, "None", P::kWorker, S::kAccepted, "", nullptr, true},
    {"do_handshake_on_connect", "--do-handshake-on-connect", T::kBool, "False", P::kWorker, S::kNote,
     "accepted with no effect: the handshake always runs right after accept, on the I/O thread under "
     "--header-timeout, never on an app thread", nullptr, true},
    {"keyfile", "--keyfile", T::kString, "None", P::kWorker, S::kAccepted, "", nullptr, true},
    {"ssl_version", "--ssl-version", T::kString, "2", P::kWorker, S::kNote,
     "TLS, TLS_SERVER, SSLv23 (2, 17): TLS 1.2 and up; TLSv1_2 (5) or TLSv1_3: only that version; TLS 1.0 "
     "and 1.1 are refused", nullptr, true},
    {"suppress_ragged_eofs", "--suppress-ragged-eofs", T::kBool, "True", P::kWorker, S::kNote,
     "always on: a client closing without close_notify ends its connection as an EOF would (False is "
     "ignored)", nullptr, true},
    // Security
    {"limit_request_field_size", "--limit-request-field_size,--limit-request-field-size", T::kInt, "8190", P::kWorker,
     S::kAccepted, "", &ws::kLimitRequestFieldSize, true},
    {"limit_request_fields", "--limit-request-fields", T::kInt, "100", P::kWorker, S::kAccepted, "",
     &ws::kLimitRequestFields, true},
    {"limit_request_line", "--limit-request-line", T::kInt, "4094", P::kWorker, S::kAccepted, "", &ws::kLimitRequestLine,
     true},
    // Server Hooks
    {"child_exit", "", T::kCallable, "(function)", P::kArbiter, S::kNote, kMasterHook, nullptr, true},
    {"nworkers_changed", "", T::kCallable, "(function)", P::kArbiter, S::kNote, kMasterHook, nullptr, true},
    {"on_exit", "", T::kCallable, "(function)", P::kArbiter, S::kNote, kMasterHook, nullptr, true},
    {"on_reload", "", T::kCallable, "(function)", P::kArbiter, S::kNote, kMasterHook, nullptr, true},
    {"on_starting", "", T::kCallable, "(function)", P::kArbiter, S::kNote, kMasterHook, nullptr, true},
    {"post_fork", "", T::kCallable, "(function)", P::kWorker, S::kNote, kWorkerHook, nullptr, true},
    {"post_request", "", T::kCallable, "(function)", P::kWorker, S::kNote, kWorkerHook, nullptr, true},
    {"post_worker_init", "", T::kCallable, "(function)", P::kWorker, S::kNote, kWorkerHook, nullptr, true},
    {"pre_exec", "", T::kCallable, "(function)", P::kArbiter, S::kNote, kMasterHook, nullptr, true},
    {"pre_fork", "", T::kCallable, "(function)", P::kArbiter, S::kNote, kMasterHook, nullptr, true},
    {"pre_request", "", T::kCallable, "(function)", P::kWorker, S::kNote, kWorkerHook, nullptr, true},
    {"ssl_context", "", T::kCallable, "(function)", P::kWorker, S::kNote,
     "runs in each gworker's interpreter at boot (with --certfile): the ssl.SSLContext it returns is the one "
     "served with; gworker's ALPN and session settings are applied on top; sni_callback is not supported",
     nullptr, true},
    {"when_ready", "", T::kCallable, "(function)", P::kArbiter, S::kNote, kMasterHook, nullptr, true},
    {"worker_abort", "", T::kCallable, "(function)", P::kWorker, S::kNote, kWorkerHook, nullptr, true},
    {"worker_exit", "", T::kCallable, "(function)", P::kWorker, S::kNote, kWorkerHook, nullptr, true},
    {"worker_int", "", T::kCallable, "(function)", P::kWorker, S::kNote, kWorkerHook, nullptr, true},
    // Server Mechanics
    {"casefold_http_method", "--casefold-http-method", T::kBool, "False", P::kWorker, S::kRefused, kStrict, nullptr, true},
    {"chdir", "--chdir", T::kString, "(the current directory)", P::kBoth, S::kAccepted, "", nullptr, true},
    {"daemon", "-D,--daemon", T::kBool, "False", P::kArbiter, S::kAccepted, "", nullptr, true},
    {"forwarded_allow_ips", "--forwarded-allow-ips", T::kString, "127.0.0.1,::1", P::kWorker, S::kAccepted, "", nullptr,
     true},
    {"forwarder_headers", "--forwarder-headers", T::kString, "SCRIPT_NAME,PATH_INFO", P::kWorker, S::kRefused,
     "not supported yet: gworker takes SCRIPT_NAME and PATH_INFO from the request only", nullptr, true},
    {"group", "-g,--group", T::kString, "0", P::kArbiter, S::kNote,
     "a group name or a numeric gid; workers run as it when arbiterd runs as root", nullptr, true},
    {"header_map", "--header-map", T::kString, "drop", P::kWorker, S::kRefused,
     "not configurable yet: gworker drops headers whose name has '_' (Gunicorn's default, drop)", nullptr, true},
    {"initgroups", "--initgroups", T::kBool, "False", P::kArbiter, S::kAccepted, "", nullptr, true},
    {"paste", "--paste,--paster", T::kString, "None", P::kBoth, S::kNote,
     "the app of [app:main] (or FILE#name) of a PasteDeploy ini, loaded in gworker; its [loggers] are not applied",
     nullptr, true},
    {"permit_obsolete_folding", "--permit-obsolete-folding", T::kBool, "False", P::kWorker, S::kRefused, kStrict, nullptr,
     true},
    {"permit_unconventional_http_method", "--permit-unconventional-http-method", T::kBool, "False", P::kWorker,
     S::kRefused, kStrict, nullptr, true},
    {"permit_unconventional_http_version", "--permit-unconventional-http-version", T::kBool, "False", P::kWorker,
     S::kRefused, kStrict, nullptr, true},
    {"pidfile", "-p,--pid", T::kString, "None", P::kArbiter, S::kAccepted, "", nullptr, true},
    {"preload_app", "--preload", T::kBool, "False", P::kWorker, S::kNote,
     "accepted with no effect: each gworker embeds its own interpreter and loads the app itself, so there is no "
     "master copy to share; an app that fails to load still stops arbiterd (a pool failure, exit 4)",
     nullptr, true},
    {"protocol", "--protocol", T::kString, "http", P::kWorker, S::kAccepted, "", nullptr, true},
    {"proxy_allow_ips", "--proxy-allow-from", T::kString, "127.0.0.1,::1", P::kWorker, S::kAccepted, "", nullptr,
     true},
    {"proxy_protocol", "--proxy-protocol", T::kString, "off", P::kWorker, S::kAccepted, "", nullptr, true},
    {"pythonpath", "--pythonpath", T::kString, "None", P::kWorker, S::kAccepted, "", nullptr, true},
    {"raw_env", "-e,--env", T::kList, "[]", P::kBoth, S::kAccepted, "", nullptr, true},
    {"raw_paste_global_conf", "--paste-global", T::kList, "[]", P::kBoth, S::kAccepted, "", nullptr, true},
    {"reuse_port", "--reuse-port", T::kBool, "False", P::kArbiter, S::kAccepted, "", nullptr, true},
    {"root_path", "--root-path", T::kString, "", P::kWorker, S::kNote,
     "the ASGI scope's root_path (-k asgi); WSGI apps take SCRIPT_NAME from the environment or the proxy", nullptr,
     true},
    {"secure_scheme_headers", "", T::kDict, "{'X-FORWARDED-PROTOCOL': 'ssl', 'X-FORWARDED-PROTO': 'https', "
     "'X-FORWARDED-SSL': 'on'}", P::kWorker, S::kRefused, "not configurable yet: gworker's scheme headers are fixed",
     nullptr, true},
    {"sendfile", "--no-sendfile", T::kBool, "None", P::kWorker, S::kRefused,
     "not configurable: gworker writes file responses itself", nullptr, true},
    {"strip_header_spaces", "--strip-header-spaces", T::kBool, "False", P::kWorker, S::kRefused, kStrict, nullptr, true},
    {"tmp_upload_dir", "", T::kString, "None", P::kWorker, S::kRefused,
     "use --worker-tmp-dir: gworker spills request bodies past --body-buffer-size there", nullptr, true},
    {"umask", "-m,--umask", T::kString, "0", P::kArbiter, S::kNote,
     "octal or decimal; applied to the unix socket files arbiterd creates", nullptr, true},
    {"user", "-u,--user", T::kString, "0", P::kArbiter, S::kNote,
     "a user name or a numeric uid with a passwd entry; workers run as it when arbiterd runs as root", nullptr, true},
    {"uwsgi_allow_ips", "--uwsgi-allow-from", T::kString, "127.0.0.1,::1", P::kWorker, S::kAccepted, "", nullptr, true},
    {"worker_tmp_dir", "--worker-tmp-dir", T::kString, "None", P::kWorker, S::kNote,
     "where gworker spills request bodies past --body-buffer-size; workers prove liveness over the notify "
     "socket, not by touching a file here",
     nullptr, true},
    // Server Socket
    {"backlog", "--backlog", T::kInt, "2048", P::kArbiter, S::kAccepted, "", nullptr, true},
    {"bind", "-b,--bind", T::kList, "['127.0.0.1:8000']", P::kArbiter, S::kAccepted, "", nullptr, true},
    // Worker Processes
    {"asgi_disconnect_grace_period", "--asgi-disconnect-grace-period", T::kInt, "3", P::kNone, S::kRefused, kAsgi,
     nullptr, true},
    {"asgi_lifespan", "--asgi-lifespan", T::kString, "auto", P::kWorker, S::kAccepted, "", nullptr, true},
    {"asgi_loop", "--asgi-loop", T::kString, "auto", P::kWorker, S::kNote,
     "auto, asyncio or uvloop (auto: uvloop when installed); Gunicorn's tokio is not offered", nullptr, true},
    {"graceful_timeout", "--graceful-timeout", T::kNumber, "30", P::kBoth, S::kAccepted, "", &ws::kGracefulTimeout, true},
    {"http_parser", "--http-parser", T::kString, "auto", P::kWorker, S::kRefused,
     "not configurable: gworker always parses with llhttp in strict mode", nullptr, true},
    {"keepalive", "--keep-alive", T::kNumber, "2", P::kWorker, S::kAccepted, "", &ws::kKeepAlive, true},
    {"max_requests", "--max-requests", T::kInt, "0", P::kWorker, S::kAccepted, "", &ws::kMaxRequests, true},
    {"max_requests_jitter", "--max-requests-jitter", T::kInt, "0", P::kWorker, S::kAccepted, "",
     &ws::kMaxRequestsJitter, true},
    {"threads", "--threads", T::kInt, "1", P::kWorker, S::kAccepted, "", &ws::kThreads, true},
    {"timeout", "-t,--timeout", T::kNumber, "30", P::kBoth, S::kAccepted, "", &ws::kTimeout, true},
    {"worker_class", "-k,--worker-class", T::kString, "sync", P::kWorker, S::kNote,
     "sync, gthread or asgi (uvicorn.workers.UvicornWorker, uvicorn.workers.UvicornH11Worker and "
     "uvicorn_worker.UvicornWorker mean asgi), gevent or eventlet (gunicorn.workers.ggevent.GeventWorker, "
     "gunicorn.workers.geventlet.EventletWorker, egg:gunicorn#gevent and egg:gunicorn#eventlet mean "
     "them), tornado or aiohttp (gaiohttp, aiohttp.GunicornWebWorker, aiohttp.worker.GunicornWebWorker, "
     "gunicorn.workers.gtornado.TornadoWorker; the framework's own HTTP server); other classes are refused",
     nullptr, true},
    {"worker_connections", "--worker-connections", T::kInt, "1000", P::kWorker, S::kAccepted, "",
     &ws::kWorkerConnections, true},
    {"workers", "-w,--workers", T::kInt, "1", P::kArbiter, S::kAccepted, "", nullptr, true},
    // greenfork's own
    {"boot_timeout", "--boot-timeout", T::kNumber, "60", P::kArbiter, S::kAccepted, "", nullptr, false},
    {"heartbeat", "--heartbeat", T::kString, "auto", P::kArbiter, S::kAccepted, "", nullptr, false},
    {"max_request_age", "--max-request-age", T::kNumber, "0", P::kArbiter, S::kAccepted, "", nullptr, false},
    {"max_surge", "--max-surge", T::kInt, "1", P::kArbiter, S::kAccepted, "", nullptr, false},
    {"max_unavailable", "--max-unavailable", T::kInt, "0", P::kArbiter, S::kAccepted, "", nullptr, false},
    {"max_worker_memory", "--max-worker-memory", T::kString, "None", P::kArbiter, S::kAccepted, "", nullptr, false},
    {"autoscale", "--autoscale", T::kString, "None", P::kArbiter, S::kAccepted, "", nullptr, false},
    {"autoscale_cooldown", "--autoscale-cooldown", T::kNumber, "30", P::kArbiter, S::kAccepted, "", nullptr, false},
    {"control_bind", "--control-bind", T::kString, "None", P::kArbiter, S::kAccepted, "", nullptr, false},
    {"control_token_file", "--control-token-file", T::kString, "None", P::kArbiter, S::kAccepted, "", nullptr, false},
    {"metrics_bind", "--metrics-bind", T::kString, "None", P::kArbiter, S::kAccepted, "", nullptr, false},
    {"header_timeout", "--header-timeout", T::kNumber, "10", P::kWorker, S::kAccepted, "", &ws::kHeaderTimeout, false},
    {"body_timeout", "--body-timeout", T::kNumber, "30", P::kWorker, S::kAccepted, "", &ws::kBodyTimeout, false},
    {"write_timeout", "--write-timeout", T::kNumber, "30", P::kWorker, S::kAccepted, "", &ws::kWriteTimeout, false},
    {"no_request_buffering", "--no-request-buffering", T::kBool, "False", P::kWorker, S::kAccepted, "", nullptr, false},
    {"body_buffer_size", "--body-buffer-size", T::kInt, "1048576", P::kWorker, S::kAccepted, "", &ws::kBodyBufferSize,
     false},
    {"log_format", "--log-format", T::kString, "text", P::kBoth, S::kAccepted, "", nullptr, false},
    {"ws_max_size", "--ws-max-size", T::kInt, "16777216", P::kWorker, S::kAccepted, "", &ws::kWsMaxSize, false},
    {"ws_ping_interval", "--ws-ping-interval", T::kNumber, "20", P::kWorker, S::kAccepted, "", &ws::kWsPingInterval,
     false},
    {"ws_ping_timeout", "--ws-ping-timeout", T::kNumber, "20", P::kWorker, S::kAccepted, "", &ws::kWsPingTimeout,
     false},
    {"ws_per_message_deflate", "--ws-per-message-deflate", T::kString, "True", P::kWorker, S::kAccepted, "", nullptr,
     false},
};

std::vector<std::string> split_flags(const char* flags) {
  std::vector<std::string> out;
  std::string s = flags;
  std::size_t start = 0;
  while (start < s.size()) {
    std::size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

}  // namespace

const std::vector<Setting>& all() { return kTable; }

const Setting* by_name(const std::string& name) {
  static const std::map<std::string, const Setting*> index = [] {
    std::map<std::string, const Setting*> m;
    for (const Setting& s : kTable) m[s.name] = &s;
    return m;
  }();
  auto it = index.find(name);
  return it == index.end() ? nullptr : it->second;
}

const Setting* by_flag(const std::string& flag) {
  static const std::map<std::string, const Setting*> index = [] {
    std::map<std::string, const Setting*> m;
    for (const Setting& s : kTable) {
      for (const std::string& f : split_flags(s.flags)) m[f] = &s;
    }
    return m;
  }();
  auto it = index.find(flag);
  return it == index.end() ? nullptr : it->second;
}

std::string long_flag(const Setting& s) {
  for (const std::string& f : split_flags(s.flags)) {
    if (f.rfind("--", 0) == 0) return f;
  }
  return "";
}

std::string display(const Setting& s) {
  std::string out;
  for (const std::string& f : split_flags(s.flags)) {
    if (f.rfind("--limit-request-field-size", 0) == 0 || f == "--log-file" || f == "--paster") continue;
    out += (out.empty() ? "" : "/") + f;
  }
  return out.empty() ? s.name : out;
}

std::string refusal(const Setting& s) {
  const std::string flag = long_flag(s);
  return (flag.empty() ? std::string(s.name) : flag + " (" + s.name + ")") + ": " + s.note;
}

const char* to_string(Type t) {
  switch (t) {
    case Type::kBool: return "bool";
    case Type::kInt: return "int";
    case Type::kNumber: return "number";
    case Type::kString: return "string";
    case Type::kList: return "list";
    case Type::kDict: return "dict";
    case Type::kCallable: return "callable";
  }
  return "?";
}

const char* to_string(Process p) {
  switch (p) {
    case Process::kArbiter: return "arbiterd";
    case Process::kWorker: return "gworker";
    case Process::kBoth: return "both";
    case Process::kNone: return "-";
  }
  return "?";
}

const char* to_string(Status s) {
  switch (s) {
    case Status::kAccepted: return "accepted";
    case Status::kNote: return "accepted-with-note";
    case Status::kRefused: return "refused";
  }
  return "?";
}

}  // namespace greenfork::arbiter::settings
