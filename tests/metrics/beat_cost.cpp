// Measures what carrying the metrics costs a worker, two ways (issue 16):
//   beat: plain per-request counters, and every beat a notify datagram with
//         the X_ fields (format + sendto), which arbiterd receives and parses;
//   shm:  per-request atomic updates of a MAP_SHARED page arbiterd would
//         read at scrape time.
// Not a test: run build/bin/metrics_beat_cost; docs/metrics.md has numbers.
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>

#include "greenfork/arbiter/metrics/worker_metrics.hpp"
#include "greenfork/arbiter/notify_message.hpp"
#include "greenfork/request_counters.hpp"

using Clock = std::chrono::steady_clock;
using greenfork::RequestCounters;

namespace {

struct SharedCounters {
  std::atomic<uint64_t> by_class[5];
  std::atomic<uint64_t> buckets[greenfork::kDurationBounds.size() + 1];
  std::atomic<uint64_t> duration_sum_ns;
};

double ns_per(Clock::duration d, long n) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count()) / static_cast<double>(n);
}

}  // namespace

int main() {
  constexpr long kRequests = 20'000'000;
  constexpr long kBeats = 200'000;
  RequestCounters plain;
  auto t0 = Clock::now();
  for (long i = 0; i < kRequests; ++i) plain.record(200 + static_cast<int>(i % 3) * 100, static_cast<double>(i % 997) * 1e-4);
  const double plain_ns = ns_per(Clock::now() - t0, kRequests);

  void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (page == MAP_FAILED) return 1;
  auto* shm = new (page) SharedCounters{};
  t0 = Clock::now();
  for (long i = 0; i < kRequests; ++i) {
    const double seconds = static_cast<double>(i % 997) * 1e-4;
    const int status = 200 + static_cast<int>(i % 3) * 100;
    shm->by_class[status / 100 - 1].fetch_add(1, std::memory_order_relaxed);
    size_t b = 0;
    while (b < greenfork::kDurationBounds.size() && seconds > greenfork::kDurationBounds[b]) ++b;
    shm->buckets[b].fetch_add(1, std::memory_order_relaxed);
    shm->duration_sum_ns.fetch_add(static_cast<uint64_t>(seconds * 1e9), std::memory_order_relaxed);
  }
  const double shm_ns = ns_per(Clock::now() - t0, kRequests);
  // One writer per page: relaxed load + store, no locked instruction.
  auto bump = [](std::atomic<uint64_t>& a, uint64_t by) {
    a.store(a.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  };
  t0 = Clock::now();
  for (long i = 0; i < kRequests; ++i) {
    const double seconds = static_cast<double>(i % 997) * 1e-4;
    const int status = 200 + static_cast<int>(i % 3) * 100;
    bump(shm->by_class[status / 100 - 1], 1);
    size_t b = 0;
    while (b < greenfork::kDurationBounds.size() && seconds > greenfork::kDurationBounds[b]) ++b;
    bump(shm->buckets[b], 1);
    bump(shm->duration_sum_ns, static_cast<uint64_t>(seconds * 1e9));
  }
  const double shm_store_ns = ns_per(Clock::now() - t0, kRequests);

  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_DGRAM, 0, fds) != 0) return 1;
  greenfork::arbiter::WorkerMetrics metrics;
  char buf[2048];
  Clock::duration send_time{}, receive_time{};
  size_t bytes = 0;
  for (long i = 0; i < kBeats; ++i) {
    auto a = Clock::now();
    const std::string beat = "WATCHDOG=1\nSTATUS=serving\nX_REQUESTS_SERVED=" + std::to_string(plain.requests()) +
                             "\nX_REQUESTS_IN_FLIGHT=3\nX_OLDEST_REQUEST_AGE=0.125\nX_CONNECTIONS=12\n" +
                             plain.notify_fields();
    if (::send(fds[0], beat.data(), beat.size(), 0) < 0) return 1;
    auto b = Clock::now();
    const ssize_t n = ::recv(fds[1], buf, sizeof buf, 0);
    if (n <= 0) return 1;
    metrics.on_beat(greenfork::arbiter::parse_notify_message(std::string_view(buf, static_cast<size_t>(n))),
                    greenfork::arbiter::MonoTime{});
    auto c = Clock::now();
    send_time += b - a;
    receive_time += c - b;
    bytes = beat.size();
  }
  std::printf("per request: plain counters %.1f ns, shared-memory atomic adds %.1f ns (+%.1f ns), "
              "single-writer relaxed stores %.1f ns\n", plain_ns, shm_ns, shm_ns - plain_ns, shm_store_ns);
  std::printf("per beat (%zu bytes): worker format+send %.0f ns, arbiterd receive+parse %.0f ns\n", bytes,
              ns_per(send_time, kBeats), ns_per(receive_time, kBeats));
  std::printf("break-even against atomic adds: shared memory is cheaper below %.0f requests per beat\n",
              ns_per(send_time, kBeats) / (shm_ns - plain_ns));
  return metrics.counters.requests() == plain.requests() ? 0 : 2;
}
