// The loop: signals, the notify socket, the periodic tick, reaping, stopping.
#include "greenfork/arbiter/supervisor.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>
#include <cerrno>
#include <chrono>
#include <csignal>

#include <spdlog/spdlog.h>

#include "greenfork/sd_notify.hpp"
#include "greenfork/signals.hpp"

namespace greenfork::arbiter {
namespace {

constexpr auto kTick = std::chrono::milliseconds(50);
constexpr auto kNoThrow = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace

Supervisor::Supervisor(asio::io_context& io, ProcessOps& ops, ArbiterOptions options)
    : io_(io),
      ops_(ops),
      options_(std::move(options)),
      signals_(io),
      tick_(io),
      notify_resume_(io),
      manager_(ops_, events_, options_) {}

Supervisor::~Supervisor() = default;

ArbiterExit Supervisor::run() {
  if (!start()) return exit_;
  io_.run();
  return exit_;
}

bool Supervisor::start() {
  started_at_ = now();
  add_signals();
  auto sock = NotifySocket::open(NotifySocket::default_parent_dir());
  if (!sock.ok()) {
    spdlog::error("{}", sock.status().message());
    exit_.code = 1;
    return false;
  }
  notify_.emplace(std::move(*sock));
  manager_.set_notify_address(notify_->address());
  bool other_users = false;
  for (const auto& p : manager_.pools()) other_users = other_users || !p->config.user.empty();
  if (::geteuid() == 0 && other_users) {
    // Workers running as other users must reach the socket; the sender
    // pid check and the per-tick budget still guard it.
    Status s = notify_->allow_other_users();
    if (!s.ok()) spdlog::warn("{}", s.message());
  }
  // The descriptor asio watches is a CLOEXEC duplicate: both owners close their own.
  notify_watch_ = std::make_unique<asio::posix::stream_descriptor>(
      io_, ::fcntl(notify_->fd(), F_DUPFD_CLOEXEC, 3));
  spdlog::info("arbiterd {} starting (pid {}){}", ::getpid(), ::getpid(),
               options_.config.name.empty() ? "" : " [" + options_.config.name + "]");
  for (auto& p : manager_.pools()) {
    std::string cmd;
    for (const auto& a : p->config.command) cmd += (cmd.empty() ? "" : " ") + a;
    std::string binds;
    for (const auto& b : p->sockets.specs) binds += (binds.empty() ? "" : ", ") + b;
    spdlog::info("pool [{}]: {} worker(s) of `{}` listening at {}", p->config.name, p->desired, cmd,
                 binds.empty() ? "(no sockets)" : binds);
  }
  if (!start_metrics()) return false;
  manage_pools();
  // The loop's three sources, each a coroutine loop (as gworker's are).
  asio::co_spawn(io_, signal_loop(), asio::detached);
  asio::co_spawn(io_, notify_loop(), asio::detached);
  asio::co_spawn(io_, tick_loop(), asio::detached);
  return true;
}

bool Supervisor::start_metrics() {
  events_.subscribe([this](const SupervisorEvent& e) { recent_events_.add(e); });
  if (options_.config.metrics_bind.empty()) return true;
  metrics_endpoint_ = std::make_unique<MetricsEndpoint>(*this, recent_events_);
  if (bind_metrics()) return true;
  // A new master of a binary upgrade: the old one holds the address until
  // it hands over; take it then (retry_metrics_bind).
  if (!options_.upgrade_parent_notify.empty()) {
    asio::co_spawn(io_, retry_metrics_bind(), asio::detached);
    return true;
  }
  exit_.code = 1;
  exit_.reason = metrics_bind_error_;
  return false;
}

bool Supervisor::bind_metrics() {
  auto server = MetricsServer::open(io_, options_.config.metrics_bind,
                                    [this](const HttpRequestHead& h) { return metrics_endpoint_->handle(h); });
  if (!server.ok()) {
    if (metrics_bind_error_ != server.status().message()) spdlog::error("{}", server.status().message());
    metrics_bind_error_ = server.status().message();
    return false;
  }
  metrics_server_ = std::move(*server);
  metrics_server_->start();
  spdlog::info("Serving metrics at http://{}/metrics", metrics_server_->address());
  return true;
}

asio::awaitable<void> Supervisor::retry_metrics_bind() {
  asio::steady_timer retry(io_);
  while (!shutdown_.finished() && !metrics_server_) {
    retry.expires_after(std::chrono::seconds(1));
    auto [ec] = co_await retry.async_wait(kNoThrow);
    if (ec || shutdown_.finished()) co_return;
    bind_metrics();
  }
}

void Supervisor::add_signals() {
  for (int s : {SIGHUP, SIGTTIN, SIGTTOU, SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH,
                SIGCHLD}) {
    signals_.add(s);
  }
  ::signal(SIGPIPE, SIG_IGN);
}

asio::awaitable<void> Supervisor::signal_loop() {
  // The handler asio installs only records the signal; this runs on the loop.
  while (!shutdown_.finished()) {
    auto [ec, signo] = co_await signals_.async_wait(kNoThrow);
    if (ec) co_return;
    on_signal(signo);
  }
}

void Supervisor::on_signal(int signo) {
  if (signo != SIGCHLD) spdlog::info("Handling signal: {}", signal_name(signo));
  switch (signo) {
    case SIGCHLD: handle_chld(); break;
    case SIGHUP: handle_hup(); break;
    case SIGTTIN: handle_ttin(); break;
    case SIGTTOU: handle_ttou(); break;
    case SIGWINCH: handle_winch(); break;
    case SIGTERM: handle_term(); break;
    case SIGINT:
    case SIGQUIT: handle_quit(); break;
    case SIGUSR1: handle_usr1(); break;
    case SIGUSR2: handle_usr2(); break;
    default: break;
  }
  manage_pools();
}

void Supervisor::handle_chld() { reap_workers(); }

void Supervisor::handle_hup() { reload_from_signal(); }

void Supervisor::handle_ttin() {
  for (auto& p : manager_.pools()) {
    if (p->removed) continue;
    if (p->desired + 1 > p->config.max_workers) {
      spdlog::warn("pool [{}]: already at max_workers {}", p->config.name, p->config.max_workers);
      continue;
    }
    scale_by_signal(*p, p->desired + 1);
  }
}

void Supervisor::handle_ttou() {
  for (auto& p : manager_.pools()) {
    if (p->removed) continue;
    if (p->desired <= 1) {
      spdlog::info("pool [{}]: TTOU ignored, never below 1 worker", p->config.name);
      continue;
    }
    scale_by_signal(*p, p->desired - 1);
  }
}

void Supervisor::scale_by_signal(WorkerPool& pool, unsigned target) {
  ScaleCommand c;
  c.pool = pool.config.name;
  c.count = target;
  scale(c, [](Status o, ScaleResult) {
    if (!o.ok()) spdlog::warn("{}", o.message());
  });
}

void Supervisor::handle_winch() {
  for (auto& p : manager_.pools()) {
    if (p->state == PoolState::kFailed) continue;
    p->state = PoolState::kStopped;
    p->state_reason = "stopped by SIGWINCH";
    manager_.stop_workers(*p);
  }
}

void Supervisor::handle_term() { begin_stop(true, 0); }

void Supervisor::handle_quit() { begin_stop(false, 0); }

void Supervisor::handle_usr1() { reopen_logs(); }

void Supervisor::handle_usr2() {
  Status o = start_upgrade();
  if (!o.ok()) spdlog::error("upgrade: {}", o.message());
}

asio::awaitable<void> Supervisor::notify_loop() {
  while (!shutdown_.finished()) {
    if (notify_budget_ == 0) {
      // Spent for this tick: the datagrams wait in the socket (a full queue
      // makes their senders wait) until on_tick() gives a new budget.
      notify_resume_.expires_at(asio::steady_timer::time_point::max());
      (void)co_await notify_resume_.async_wait(kNoThrow);  // cancelled by on_tick()
      continue;
    }
    auto [ec] = co_await notify_watch_->async_wait(asio::posix::stream_descriptor::wait_read, kNoThrow);
    if (ec) co_return;
    read_notify();
    manage_pools();
  }
}

void Supervisor::read_notify() {
  if (!notify_) return;
  while (notify_budget_ > 0) {
    std::optional<NotifyDatagram> d = notify_->receive();
    if (!d) break;
    --notify_budget_;
    NotifyMessage m = parse_notify_message(d->text);
    if (upgrade_.is_new_master(d->pid)) {
      if (m.ready) upgrade_ready();
      continue;
    }
    auto [pool, w] = manager_.find_worker(d->pid);
    if (w == nullptr && d->pid > 0) {
      // A process of a worker's group (a wrapper's child) speaks for it.
      pid_t pgid = ::getpgid(d->pid);
      if (pgid > 0) std::tie(pool, w) = manager_.find_worker(pgid);
    }
    if (w == nullptr) {
      spdlog::debug("notify from unknown pid {}: {}", d->pid, d->text);
      continue;
    }
    manager_.apply_notify(*pool, *w, m);
  }
}

asio::awaitable<void> Supervisor::tick_loop() {
  while (!shutdown_.finished()) {
    tick_.expires_after(kTick);
    auto [ec] = co_await tick_.async_wait(kNoThrow);
    if (ec || shutdown_.finished()) co_return;
    on_tick();
  }
}

void Supervisor::on_tick() {
  notify_budget_ = kNotifyPerTick;
  notify_resume_.cancel();  // a notify loop that spent its budget reads again
  // Also reap here: a SIGCHLD merged with another may have been missed.
  reap_workers();
  check_liveness();
  check_upgrade_deadline();
  if (shutdown_.stopping()) {
    check_stopped();
    return;
  }
  check_scaling();
  collect_removed_pools();
  manage_pools();
}

void Supervisor::reap_workers() {
  // A worker's last datagrams (its STATUS= reason) were sent before it
  // exited: read them before its exit is handled.
  read_notify();
  while (auto r = ops_.reap()) {
    if (handle_upgrade_exit(r->pid, r->status)) continue;
    auto [pool, w] = manager_.find_worker(r->pid);
    if (w == nullptr) {
      spdlog::debug("reaped pid {} ({})", r->pid, describe_wait_status(r->status));
      continue;
    }
    handle_exit(*pool, *w, r->status);
  }
  if (shutdown_.stopping()) check_stopped();
}

void Supervisor::handle_exit(WorkerPool& pool, Worker& w, int status) {
  bool reload_new = reloads_.is_new(pool, w);
  PoolManager::Exit exit = manager_.worker_exited(pool, w.pid, status, reload_new, shutdown_.stopping());
  if (shutdown_.stopping()) return;
  switch (exit.action) {
    case ExitAction::kExpected:
    case ExitAction::kRespawn: break;  // manage_pool starts the replacement
    case ExitAction::kFailPool: fail_pool(pool, exit.reason); break;
    case ExitAction::kRollback: rollback(pool, exit.reason); break;
  }
}

void Supervisor::begin_stop(bool graceful, int exit_code) {
  Seconds graceful_wait{0};
  for (auto& p : manager_.pools()) graceful_wait = std::max(graceful_wait, Seconds(p->config.graceful_timeout_seconds));
  Shutdown::Begin begun = shutdown_.begin(graceful, graceful_wait, now());
  if (begun == Shutdown::Begin::kIgnored) return;
  if (begun == Shutdown::Begin::kFirst) {
    exit_.code = exit_code;
    spdlog::info("{} stop: {} workers", graceful ? "Graceful" : "Fast", graceful ? "TERM" : "QUIT");
    notify_systemd("STOPPING=1");
    events_.publish(SupervisorEvent::Kind::kArbiterStopping, "", 0, 0, graceful ? "graceful" : "fast");
    Status stopping = Status::error(StatusCode::kUnavailable, "arbiterd is stopping");
    for (auto& sw : scale_waiters_) sw.done(stopping, sw.result);
    scale_waiters_.clear();
    reloads_.fail_waiters(stopping);
    upgrade_.fail_waiters(stopping);
    // Stop accepting at once: the workers close their copies as they
    // drain, and a new client is refused instead of left in the backlog.
    for (auto& p : manager_.pools()) close_listeners(*p, /*for_good=*/true);
  }
  for (auto& p : manager_.pools()) {
    for (auto& w : p->workers) {
      if (graceful) {
        if (is_active(w->state)) manager_.stop_worker(*p, *w, true);
      } else {
        w->state = WorkerState::kStopping;
        (void)ops_.kill_group(w->pid, SIGQUIT);
      }
      w->kill_at = shutdown_.deadline();
    }
  }
  check_stopped();
}

void Supervisor::check_stopped() {
  bool any = false;
  for (auto& p : manager_.pools()) any = any || !p->workers.empty();
  switch (shutdown_.check(any, now())) {
    case Shutdown::Step::kWait:
    case Shutdown::Step::kDone: return;
    case Shutdown::Step::kKillAll:
      for (auto& p : manager_.pools()) {
        for (auto& w : p->workers) {
          spdlog::warn("Worker (pid: {}) slot {} still running after the stop timeout: SIGKILL", w->pid, w->slot);
          (void)ops_.kill_group(w->pid, SIGKILL);
        }
      }
      return;
    case Shutdown::Step::kFinish: break;
  }
  spdlog::info("Shutting down: {}", exit_.handed_over ? "handed over to the new master" : "master");
  signals_.cancel();
  tick_.cancel();
  notify_resume_.cancel();
  if (notify_watch_) notify_watch_->cancel();
  // Handed over: a unix socket file is the new master's now.
  if (metrics_server_) metrics_server_->stop(!exit_.handed_over);
  io_.stop();
}

void Supervisor::notify_systemd(const std::string& state) {
  if (options_.systemd_notify_socket.empty()) return;
  Status s = sd_notify_to(options_.systemd_notify_socket, state);
  if (!s.ok()) spdlog::warn("{}", s.message());
}

}  // namespace greenfork::arbiter
