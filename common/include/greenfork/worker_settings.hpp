// The accepted ranges of gworker's numeric options, declared once for both
// programs: gworker's parser checks them, and arbiterd checks the same
// ranges before it forks anything, so a bad value on arbiterd's one-liner
// (`arbiterd -k gthread --threads 0 app:app`) is refused at start with the
// flag's name, instead of every worker exiting 2.
//
//   CLI::Range(worker_settings::kThreads.min, worker_settings::kThreads.max)
#pragma once

#include <iterator>
#include <string>
#include <vector>

namespace greenfork::worker_settings {

// min <= value <= max. `whole`: only digits are accepted (gworker stores the
// value in an unsigned integer of that width).
struct NumericRange {
  const char* flag;
  double min;
  double max;
  bool whole;
};

inline constexpr double kUnbounded64 = 18446744073709551615.0;  // UINT64_MAX

inline constexpr NumericRange kThreads{"--threads", 1, 1024, true};
inline constexpr NumericRange kWorkerConnections{"--worker-connections", 1, 1000000, true};
inline constexpr NumericRange kKeepAlive{"--keep-alive", 0, 3600, false};
inline constexpr NumericRange kTimeout{"--timeout", 0, 86400, false};
inline constexpr NumericRange kGracefulTimeout{"--graceful-timeout", 0, 86400, false};
inline constexpr NumericRange kMaxRequests{"--max-requests", 0, kUnbounded64, true};
inline constexpr NumericRange kMaxRequestsJitter{"--max-requests-jitter", 0, kUnbounded64, true};
inline constexpr NumericRange kLimitRequestLine{"--limit-request-line", 0, 8190, true};
inline constexpr NumericRange kLimitRequestFields{"--limit-request-fields", 0, 32768, true};
inline constexpr NumericRange kLimitRequestFieldSize{"--limit-request-field_size", 0, kUnbounded64, true};
inline constexpr NumericRange kHeaderTimeout{"--header-timeout", 0.1, 3600, false};
inline constexpr NumericRange kBodyTimeout{"--body-timeout", 0.1, 3600, false};
inline constexpr NumericRange kWriteTimeout{"--write-timeout", 0.1, 3600, false};
// -k asgi's WebSockets (uvicorn's flags; 0 disables the keepalive pings).
inline constexpr NumericRange kWsMaxSize{"--ws-max-size", 1, 1099511627776.0, true};
inline constexpr NumericRange kWsPingInterval{"--ws-ping-interval", 0, 86400, false};
inline constexpr NumericRange kWsPingTimeout{"--ws-ping-timeout", 0, 86400, false};
inline constexpr const char* kBooleans[] = {"true", "false", "True", "False", "1", "0"};
inline constexpr NumericRange kBodyBufferSize{"--body-buffer-size", 1, 1099511627776.0, true};  // 1 TiB

// gworker's -k and --log-level choices. The uvicorn worker classes people
// give Gunicorn mean -k asgi (canonical_worker_class()).
inline constexpr const char* kWorkerClasses[] = {"sync",
                                                 "gthread",
                                                 "asgi",
                                                 "uvicorn.workers.UvicornWorker",
                                                 "uvicorn.workers.UvicornH11Worker",
                                                 "uvicorn_worker.UvicornWorker",
                                                 // framework-native servers (worker/frameworks/)
                                                 "tornado",
                                                 "gunicorn.workers.gtornado.TornadoWorker",
                                                 "aiohttp",
                                                 "gaiohttp",
                                                 "aiohttp.GunicornWebWorker",
                                                 "aiohttp.worker.GunicornWebWorker",
                                                 // WSGI on green threads (worker/green/)
                                                 "gevent",
                                                 "eventlet",
                                                 "gunicorn.workers.ggevent.GeventWorker",
                                                 "gunicorn.workers.geventlet.EventletWorker",
                                                 "egg:gunicorn#gevent",
                                                 "egg:gunicorn#eventlet"};
// -k asgi's --asgi-loop and --lifespan (uvicorn's meanings).
inline constexpr const char* kAsgiLoops[] = {"auto", "asyncio", "uvloop"};
inline constexpr const char* kLifespans[] = {"auto", "on", "off"};
inline constexpr const char* kLogLevels[] = {"debug", "info", "warning", "error", "critical"};
// --proxy-protocol's values (Gunicorn 26.1); the flag alone means "auto".
inline constexpr const char* kProxyProtocols[] = {"off", "v1", "v2", "auto"};
// --protocol's values (Gunicorn 24+): what the listeners speak.
inline constexpr const char* kProtocols[] = {"http", "uwsgi"};

// --http-protocols (Gunicorn 25): a comma list of h1 and h2, in any order
// (h3 is Gunicorn's too, but not served here). Unset: h1 on plain
// listeners, h1,h2 over TLS.
struct HttpProtocols {
  bool h1 = false;
  bool h2 = false;
};
// "" when `text` is valid (and `out` set), else why not.
std::string parse_http_protocols(const std::string& text, HttpProtocols& out);

// "sync", "gthread", "asgi", "gevent", "eventlet", "tornado" or "aiohttp" for any
// name in kWorkerClasses.
inline std::string canonical_worker_class(const std::string& name) {
  if (name.rfind("uvicorn", 0) == 0) return "asgi";
  if (name == "gunicorn.workers.ggevent.GeventWorker" || name == "egg:gunicorn#gevent") return "gevent";
  if (name == "gunicorn.workers.geventlet.EventletWorker" || name == "egg:gunicorn#eventlet") return "eventlet";
  if (name == "gunicorn.workers.gtornado.TornadoWorker") return "tornado";
  if (name == "gaiohttp" || name.rfind("aiohttp.", 0) == 0) return "aiohttp";
  return name;
}

template <std::size_t N>
std::vector<std::string> choices(const char* const (&names)[N]) {
  return std::vector<std::string>(std::begin(names), std::end(names));
}

// "" when gworker accepts `value` for `range`, else why not:
// "'0' is out of range (1 to 1024)".
std::string out_of_range(const NumericRange& range, const std::string& value);

// "1 to 1024": the accepted range as text (for messages and the docs).
std::string range_text(const NumericRange& range);

// Checks gworker arguments as a pool's worker_args gives them
// (["--threads", "4", "--keep-alive=2", "-k", "gthread"]): each numeric
// option's range and the -k/--log-level choices; other arguments are
// gworker's to judge. "" or "--threads: '0' is out of range (1 to 1024)".
std::string check_worker_args(const std::vector<std::string>& args);

}  // namespace greenfork::worker_settings
