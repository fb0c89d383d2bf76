// The worker contract's names, in one place (see DESIGN.md, "The worker
// contract"). Every component that reads or writes one of these variables
// or exit codes uses these constants.
#pragma once

namespace greenfork::contract {

// systemd socket passing: fds start at 3.
inline constexpr int kListenFdsStart = 3;
inline constexpr const char* kListenFds = "LISTEN_FDS";
inline constexpr const char* kListenFdNames = "LISTEN_FDNAMES";
inline constexpr const char* kListenPid = "LISTEN_PID";
inline constexpr const char* kNotifySocket = "NOTIFY_SOCKET";

// arbiterd -> worker.
inline constexpr const char* kArbiterSocket = "ARBITER_SOCKET";
inline constexpr const char* kWorkerId = "ARBITER_WORKER_ID";
inline constexpr const char* kWorkerToken = "ARBITER_WORKER_TOKEN";
inline constexpr const char* kPool = "ARBITER_POOL";
// Heartbeat period the worker must keep, in seconds (timeout / 2).
inline constexpr const char* kHeartbeatInterval = "ARBITER_HEARTBEAT_INTERVAL";
// TLS session ticket keys (160 hex digits: OpenSSL's 80 bytes of key name,
// HMAC and AES keys), random once per arbiterd and the same for all its
// workers, so that a session resumes on any worker (as nginx's workers share
// their master's keys); the worker removes it from its environment.
inline constexpr const char* kTlsTicketKeys = "ARBITER_TLS_TICKET_KEYS";

// sd_notify fields a worker may add to its READY=1/WATCHDOG=1 datagrams
// (systemd's X_ prefix marks fields of one's own): what gctl status shows,
// and the age a pool's max_request_age is checked against. Decimal values;
// the age in seconds, fractions allowed, 0 when nothing is in flight.
inline constexpr const char* kNotifyRequestsServed = "X_REQUESTS_SERVED";
inline constexpr const char* kNotifyRequestsInFlight = "X_REQUESTS_IN_FLIGHT";
inline constexpr const char* kNotifyOldestRequestAge = "X_OLDEST_REQUEST_AGE";
// Metrics fields (RequestCounters, request_counters.hpp): requests per
// status class "1xx,2xx,3xx,4xx,5xx", the latency histogram's
// non-cumulative bucket counts (kDurationBounds, then +Inf), the sum of
// latencies in seconds, and the open client connections.
inline constexpr const char* kNotifyRequestsByClass = "X_REQUESTS_BY_CLASS";
inline constexpr const char* kNotifyDurationBuckets = "X_DURATION_BUCKETS";
inline constexpr const char* kNotifyDurationSum = "X_DURATION_SUM";
inline constexpr const char* kNotifyConnections = "X_CONNECTIONS";
// Requests in flight integrated over time since the worker started, in
// request-seconds (fractions allowed): its change over an interval divided
// by the interval is the average number of requests in flight, which an
// autoscaler reads (a sync worker runs its app on the I/O thread, so the
// in-flight count at beat time is always 0 there).
inline constexpr const char* kNotifyRequestSeconds = "X_REQUEST_SECONDS";

// Gunicorn's WEB_CONCURRENCY: the default worker count.
inline constexpr const char* kWebConcurrency = "WEB_CONCURRENCY";

// Exit codes with a meaning to arbiterd: never respawned in a loop.
inline constexpr int kExitBootError = 3;
inline constexpr int kExitAppLoadError = 4;

// Binary upgrade (USR2): the old master execs the new one with
//   GREENFORK_UPGRADE_FDS="127.0.0.1:8000=3;unix:/run/app.sock=4" (bind spec
//   = inherited listening fd, CLOEXEC cleared),
//   GREENFORK_UPGRADE_PARENT=<old master pid>, and
//   GREENFORK_UPGRADE_NOTIFY=<old master's notify socket>, told READY=1 by
//   the new master once its workers are ready.
inline constexpr const char* kUpgradeFds = "GREENFORK_UPGRADE_FDS";
inline constexpr const char* kUpgradeParent = "GREENFORK_UPGRADE_PARENT";
inline constexpr const char* kUpgradeNotify = "GREENFORK_UPGRADE_NOTIFY";

}  // namespace greenfork::contract
