// grpc_testworker: the smallest worker that follows the whole worker
// contract with a gRPC heartbeat. End-to-end tests of the control plane run
// it under arbiterd.
//
//   grpc_testworker [--exit-code N] [--ready-delay S] [--no-ready]
//
// * serves HTTP/1.0-style on the inherited fd 3 (LISTEN_FDS): every request
//   gets "200 OK" and the body "pid=<pid> slot=<slot> gen=<tag>\n" (tag: the
//   TESTWORKER_TAG variable), Connection: close;
//   GET /hang answers, then the worker stops beating and serving (hung);
// * heartbeats over gRPC (ARBITER_SOCKET, ARBITER_WORKER_ID,
//   ARBITER_WORKER_TOKEN) every ARBITER_HEARTBEAT_INTERVAL seconds (default
//   1), first beat = READY; without ARBITER_SOCKET it sends sd_notify READY=1;
// * TERM or a GRACEFUL_STOP command: stops accepting and exits 0;
//   INT/QUIT: exits 0 at once;
// * --exit-code N: exits N at once (3 = boot error, 4 = app failed to load);
// * --ready-delay S: waits S seconds before READY; --no-ready: never READY.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "greenfork/contract.hpp"
#include "greenfork/sd_notify.hpp"
#include "greenfork/worker/heartbeat_client.hpp"

namespace {

using greenfork::worker::HeartbeatClient;
using greenfork::worker::WorkerStats;

std::atomic<uint64_t> g_served{0};
std::atomic<bool> g_hung{false};
int g_wake[2] = {-1, -1};  // a GRACEFUL_STOP command wakes the poll loop

double env_seconds(const char* name, double fallback) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return fallback;
  char* end = nullptr;
  const double parsed = std::strtod(value, &end);
  return (*end == '\0' && parsed > 0) ? parsed : fallback;
}

// Reads until the end of the request head (or 5 s, or EOF); true if a head came.
bool read_head(int fd, std::string* head) {
  char buf[4096];
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (head->find("\r\n\r\n") == std::string::npos && head->size() < 65536) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return false;
    head->append(buf, static_cast<size_t>(n));
  }
  return true;
}

void serve_one(int listen_fd) {
  const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) return;  // another worker took it (EAGAIN) or the peer left
  std::string head;
  if (read_head(fd, &head)) {
    const char* slot = std::getenv(greenfork::contract::kWorkerId);
    const char* tag = std::getenv("TESTWORKER_TAG");
    const std::string body = "pid=" + std::to_string(::getpid()) + " slot=" +
                             (slot ? slot : "-") + " gen=" + (tag ? tag : "-") + "\n";
    const std::string response = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
                                 body;
    ssize_t off = 0;
    while (off < static_cast<ssize_t>(response.size())) {
      const ssize_t n = ::write(fd, response.data() + off, response.size() - static_cast<size_t>(off));
      if (n <= 0) break;
      off += n;
    }
    ++g_served;
    if (head.rfind("GET /hang", 0) == 0) g_hung = true;
  }
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  double ready_delay = 0;
  bool never_ready = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--exit-code" && i + 1 < argc) {
      std::fprintf(stderr, "grpc_testworker: exiting %s as asked\n", argv[i + 1]);
      return std::atoi(argv[i + 1]);
    } else if (arg == "--ready-delay" && i + 1 < argc) {
      ready_delay = std::atof(argv[++i]);
    } else if (arg == "--no-ready") {
      never_ready = true;
    } else {
      std::fprintf(stderr, "grpc_testworker: unknown argument %s\n", arg.c_str());
      return 2;
    }
  }
  const char* listen_fds = std::getenv(greenfork::contract::kListenFds);
  if (listen_fds == nullptr || std::atoi(listen_fds) < 1) {
    std::fprintf(stderr, "grpc_testworker: no LISTEN_FDS: run me under arbiterd\n");
    return greenfork::contract::kExitBootError;
  }
  const int listen_fd = greenfork::contract::kListenFdsStart;
  // Every worker polls the shared listener; whoever loses the race to
  // accept() must not block in it.
  ::fcntl(listen_fd, F_SETFL, ::fcntl(listen_fd, F_GETFL) | O_NONBLOCK);

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  for (int sig : {SIGTERM, SIGINT, SIGQUIT, SIGUSR1, SIGHUP}) sigaddset(&stop_signals, sig);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);  // before gRPC starts threads
  const int sig_fd = ::signalfd(-1, &stop_signals, SFD_CLOEXEC);
  if (::pipe2(g_wake, O_CLOEXEC) != 0) return greenfork::contract::kExitBootError;

  if (ready_delay > 0) std::this_thread::sleep_for(std::chrono::duration<double>(ready_delay));

  std::unique_ptr<HeartbeatClient> heartbeat;
  std::thread beater;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  if (!never_ready) {
    if (std::getenv(greenfork::contract::kArbiterSocket) != nullptr) {
      auto client = HeartbeatClient::from_environment();
      if (!client.ok()) {
        std::fprintf(stderr, "grpc_testworker: %s\n", client.status().message().c_str());
        return greenfork::contract::kExitBootError;
      }
      heartbeat = std::move(*client);
      heartbeat->on_command([](greenfork::worker::WorkerCommandKind kind) {
        if (kind == greenfork::worker::WorkerCommandKind::kGracefulStop) {
          [[maybe_unused]] auto n = ::write(g_wake[1], "s", 1);
        }
      });
      if (auto ready = heartbeat->ready({}); !ready.ok()) {
        std::fprintf(stderr, "grpc_testworker: %s\n", ready.message().c_str());
        return greenfork::contract::kExitBootError;
      }
      const double interval = env_seconds(greenfork::contract::kHeartbeatInterval, 1.0);
      beater = std::thread([&, interval] {
        std::unique_lock lock(mu);
        while (!stopping) {
          cv.wait_for(lock, std::chrono::duration<double>(interval));
          if (stopping || g_hung) continue;
          WorkerStats stats;
          stats.requests_served = g_served;
          heartbeat->beat(stats);
        }
      });
    } else {
      greenfork::sd_notify("READY=1");
    }
  }

  for (;;) {
    if (g_hung) {
      std::fprintf(stderr, "grpc_testworker: hanging as asked (pid %d)\n", ::getpid());
      for (;;) ::pause();  // only ABRT/KILL (unblocked) end this
    }
    pollfd fds[3] = {{listen_fd, POLLIN, 0}, {sig_fd, POLLIN, 0}, {g_wake[0], POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0) continue;
    if (fds[1].revents & POLLIN) {
      signalfd_siginfo info{};
      if (::read(sig_fd, &info, sizeof info) == sizeof info) {
        if (info.ssi_signo == SIGUSR1 || info.ssi_signo == SIGHUP) continue;
        break;  // TERM: nothing in flight (one request at a time); INT/QUIT: now
      }
    }
    if (fds[2].revents & POLLIN) break;  // GRACEFUL_STOP from arbiterd
    if (fds[0].revents & POLLIN) serve_one(listen_fd);
  }
  {
    std::lock_guard lock(mu);
    stopping = true;
  }
  cv.notify_all();
  if (beater.joinable()) beater.join();
  if (heartbeat) heartbeat->close();
  return 0;
}
