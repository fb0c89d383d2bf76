// Server: gworker's engine. One io_context thread (the caller of run())
// owns every listener and connection; the app runs on the AppPool.
//
//   Server server(config, app, host, std::move(listeners));
//   server.on_ready([] { /* notify arbiterd */ });
//   int code = server.run();   // returns after a graceful stop
//
// Stop: begin_stop() (TERM, --max-requests, WorkerHost::request_restart)
// closes the listeners and idle connections, lets in-flight requests finish
// (answered with Connection: close) and returns from run() when the last
// connection closes or graceful_timeout passes.
// Signals come on their own thread (SignalThread): on TERM it makes the
// listeners this worker bound refuse connections at once, even while the
// I/O thread runs a sync app, and posts begin_stop().
#pragma once

#include <asio/basic_socket_acceptor.hpp>
#include <asio/generic/stream_protocol.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "engine/accept_thread.hpp"
#include "engine/app_pool.hpp"
#include "engine/body_gate.hpp"
#include "engine/event.hpp"
#include "engine/proxy_trust.hpp"
#include "greenfork/request_counters.hpp"
#include "greenfork/worker/http/request_parser.hpp"
#include "greenfork/worker/proxy/address_allow_list.hpp"
#include "greenfork/worker/proxy/proxy_header_parser.hpp"

namespace asio::ssl {
class context;
}

namespace greenfork::worker {

class Connection;
class AccessLog;

using GenericAcceptor = asio::basic_socket_acceptor<asio::generic::stream_protocol>;

struct Listener {
  int fd = -1;
  std::string name;  // "127.0.0.1:8000", "unix:/x.sock"
  std::string host;  // SERVER_NAME
  std::string port;  // SERVER_PORT ("" for unix)
  bool unix_socket = false;
  int family = 0;
  bool owned = false;  // bound by this worker (-b), not inherited
};

struct EngineConfig {
  http::ParserLimits limits;
  std::chrono::milliseconds keep_alive{2000};
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds body_timeout{30000};
  std::chrono::milliseconds write_timeout{30000};
  std::chrono::milliseconds graceful_timeout{30000};
  std::chrono::milliseconds heartbeat_interval{0};  // 0: no periodic beat
  unsigned worker_connections = 1000;
  // Clients are taken by an accept thread with EPOLLEXCLUSIVE wake-ups, one
  // at a time, so that bursts spread over the workers. Off (an inline
  // Python app, which may hold the I/O thread for long): Asio's acceptors
  // on the I/O thread, which take nobody while the app runs.
  bool exclusive_accept = true;
  // Request bodies are read whole before the app runs: up to
  // body_buffer_size bytes in memory, the rest in an unlinked file in
  // worker_tmp_dir ("": $TMPDIR or /tmp). Off: the app streams them.
  bool request_buffering = true;
  uint64_t body_buffer_size = 1024 * 1024;
  std::string worker_tmp_dir;
  unsigned app_threads = 1;
  uint64_t max_requests = 0;  // jitter already applied; 0 = never
  std::vector<std::string> forwarded_allow_ips;  // addresses, CIDR ranges, "*"
  // --proxy-protocol: each connection starts with a PROXY header (none:
  // off), accepted from the peers in proxy_allow_from only.
  std::optional<proxy::ProxyMode> proxy_protocol;
  std::vector<std::string> proxy_allow_from{"127.0.0.1", "::1"};
  // --protocol uwsgi: every connection carries one uwsgi request packet
  // (nginx's uwsgi_pass), from the peers in uwsgi_allow_from only.
  bool uwsgi = false;
  std::vector<std::string> uwsgi_allow_from{"127.0.0.1", "::1"};
  // --certfile: every listener speaks TLS with this context (after the
  // PROXY header, if any).
  std::shared_ptr<asio::ssl::context> tls;
  // --http-protocols: HTTP/1.x and HTTP/2 (h2 by ALPN over TLS, h2c with
  // prior knowledge on plain listeners).
  bool http1 = true;
  bool http2 = false;
  // WebSockets of async apps (uvicorn's --ws-* meanings).
  uint64_t ws_max_size = uint64_t{16} << 20;
  std::chrono::milliseconds ws_ping_interval{20000};  // 0: no keepalive pings
  std::chrono::milliseconds ws_ping_timeout{20000};
  bool ws_per_message_deflate = true;
};

struct EngineStats {
  uint64_t requests_served = 0;
  uint32_t in_flight = 0;
  double oldest_request_age_seconds = 0;
  double request_seconds = 0;  // in_flight integrated over time (contract::kNotifyRequestSeconds)
  bool stopping = false;
  RequestCounters counters;  // by status class, latency histogram
  uint32_t connections = 0;  // open client connections
};

class Server {
 public:
  Server(EngineConfig config, Application& app, WorkerHost& host, std::vector<Listener> listeners,
         AccessLog* access_log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Runs the I/O loop on the calling thread until stopped; returns the
  // process exit code.
  int run();
  // Not empty when the worker cannot serve (its accept set could not be
  // made): the caller exits with the boot-failure code before READY.
  const std::string& boot_error() const {
    static const std::string none;
    return accept_thread_ ? accept_thread_->error() : none;
  }
  // After run(): true when the stop was forced (app threads may still be
  // busy; the caller exits without joining them).
  bool forced() const { return forced_; }
  // Called from the I/O loop every heartbeat_interval with fresh stats.
  void on_heartbeat(std::function<void(const EngineStats&)> beat) { beat_ = std::move(beat); }
  // The counters now (I/O thread, or after run() returned: the last beat).
  EngineStats stats() const;
  void on_reopen_logs(std::function<void()> reopen) { reopen_logs_ = std::move(reopen); }
  // Called on the signal thread after INT or QUIT started the fast stop
  // (Gunicorn's worker_int hook); run() returns only after it did.
  void on_quit_signal(std::function<void(int)> quit) { quit_signal_ = std::move(quit); }
  // Called on the I/O thread for every finished request (statsd).
  void on_request_finished(std::function<void(const Exchange&)> done) { finished_ = std::move(done); }

  // Thread-safe: posts a graceful stop to the I/O thread.
  void request_stop(std::string reason);

  // ---- for connections (I/O thread) ----
  asio::io_context& io() { return io_; }
  const EngineConfig& config() const { return config_; }
  Application& app() { return app_; }
  WorkerHost& host() { return host_; }
  AppPool& pool() { return pool_; }
  bool app_inline() const { return app_inline_; }
  // Requests handed to the app threads and not yet answered.
  unsigned pooled_requests() const { return pooled_; }
  // Request-body memory read ahead by all connections (body_gate.hpp).
  BodyGate& body_gate() { return body_gate_; }
  class PooledRequest {
   public:
    explicit PooledRequest(Server& server) : server_(server) { ++server_.pooled_; }
    ~PooledRequest() { --server_.pooled_; }
    PooledRequest(const PooledRequest&) = delete;
    PooledRequest& operator=(const PooledRequest&) = delete;

   private:
    Server& server_;
  };
  const std::atomic<bool>& stopping() const { return stopping_; }
  // Responses say Connection: close: set by begin_stop(), and already by
  // the signal thread on TERM (an inline app's response then says so).
  const std::atomic<bool>& closing() const { return closing_; }
  const ProxyTrust& proxy_trust() const { return proxy_trust_; }
  const proxy::AddressAllowList& proxy_allow_from() const { return proxy_allow_from_; }
  const proxy::AddressAllowList& uwsgi_allow_from() const { return uwsgi_allow_from_; }
  void add(Connection* connection);
  // A closing connection gave back big buffers: the reaper trims malloc.
  void memory_freed() { trim_wanted_ = true; }
  void remove(Connection* connection);
  // A connection finished a response and waits for the next request: at
  // the connection limit, the accept loop may now close it for a new one.
  void connection_idle();
  // Counts a request in; the max-requests'th starts the drain, so that its
  // response already says Connection: close. A WebSocket session counts
  // with in_flight = false: an idle session is not a request in flight
  // (X_REQUESTS_IN_FLIGHT, the autoscaler's request seconds).
  void request_started(bool in_flight = true);
  void request_finished(const Exchange& exchange, bool in_flight = true);

 private:
  // Gives the accept thread a permit for one client at a time, while
  // below --worker-connections (server_accept.cpp).
  asio::awaitable<void> exclusive_accept_loop();
  void start_accept_thread();
  // Without the accept thread: one loop per listener on Asio's acceptor.
  asio::awaitable<void> accept_loop(GenericAcceptor& acceptor, const Listener& listener);
  // Held by an accept loop: leaving it (every co_return) may be the last
  // thing the drain waits for.
  struct AcceptLoopExit {
    Server& server;
    ~AcceptLoopExit() {
      --server.accept_loops_;
      server.check_done();
    }
  };
  // The accept thread took a client: a new Connection serves it.
  void start_connection(const Accepted& accepted);
  bool any_client_waiting() const;
  // After the accept thread ended (I/O thread).
  void close_listeners();
  asio::awaitable<void> reap_loop();
  // On the signal thread (SignalThread).
  void on_signal(int signo);
  // Makes the listeners this worker bound refuse connections; thread-safe.
  void stop_listening();
  asio::awaitable<void> heartbeat_loop();
  void begin_stop(const std::string& reason);
  // Closes the keep-alive connection idle the longest, if any.
  void close_oldest_idle();
  // Stopping, and nothing left that may still hold a client: no connection,
  // no accept loop that may yet complete an accept, no accepted socket
  // whose Connection has not started. Stopping the loop any earlier would
  // drop a socket the kernel already handed to this worker (a reset for a
  // client of the shared listening socket).
  bool drained() const;
  void check_done();

  EngineConfig config_;
  Application& app_;
  WorkerHost& host_;
  std::vector<Listener> listeners_;
  AccessLog* access_log_;
  ProxyTrust proxy_trust_;
  proxy::AddressAllowList proxy_allow_from_;
  proxy::AddressAllowList uwsgi_allow_from_;
  asio::io_context io_{1};
  std::vector<std::unique_ptr<GenericAcceptor>> acceptors_;
  std::unique_ptr<AcceptThread> accept_thread_;  // config_.exclusive_accept
  AppPool pool_;
  BodyGate body_gate_{BodyGate::budget_for(config_.body_buffer_size, config_.app_threads)};
  bool app_inline_ = false;
  unsigned pooled_ = 0;
  bool trim_wanted_ = false;
  bool nodelay_inherited_ = true;  // every TCP listener has TCP_NODELAY set
  std::atomic<bool> stopping_{false};
  std::atomic<bool> closing_{false};
  std::mutex listeners_mu_;
  bool listeners_open_ = true;              // begin_stop() not yet closed them
  std::atomic<bool> listeners_shut_{false};  // stop_listening() ran
  std::vector<Connection*> connections_;
  unsigned accept_loops_ = 0;    // accept_loop and the accept thread, while running
  unsigned unregistered_ = 0;    // accepted, Connection not constructed yet
  Event accept_gate_;
  Event accepted_;  // the client of the last permit was taken over
  asio::steady_timer stop_timer_;
  uint64_t served_ = 0;
  RequestCounters counters_;
  uint64_t admitted_ = 0;
  uint32_t in_flight_ = 0;
  // in_flight_ integrated over time, up to in_flight_changed_at_.
  double request_seconds_ = 0;
  std::chrono::steady_clock::time_point in_flight_changed_at_ = std::chrono::steady_clock::now();
  void count_request_seconds();
  int exit_code_ = 0;
  bool forced_ = false;  // QUIT/INT or graceful timeout: app threads are not joined
  std::function<void(const EngineStats&)> beat_;
  std::function<void()> reopen_logs_;
  std::function<void(int)> quit_signal_;
  std::function<void(const Exchange&)> finished_;
};

}  // namespace greenfork::worker
