// StatsdClient: Gunicorn's statsd metrics from gworker (--statsd-host,
// --statsd-prefix, --dogstatsd-tags), with Gunicorn's names and types:
//   gunicorn.requests:1|c|@1.0           per request
//   gunicorn.request.duration:12.3|ms    per request (milliseconds)
//   gunicorn.request.status.200:1|c|@1.0 per request
//   gunicorn.log.{critical,error,warning,exception}:1|c|@1.0  per log record
// Durations are buffered on the I/O thread and sent as few datagrams
// (several newline-separated metrics each, as statsd and dogstatsd accept)
// when a datagram is full and every flush interval; the counters are summed
// over the interval (one "gunicorn.requests:N|c|@1.0" line: a statsd
// counter's meaning is the sum). The socket is non-blocking:
// when the kernel's buffer is full the datagram is dropped, never waited for.
//
//   auto statsd = StatsdClient::open("127.0.0.1:8125", "myapp", "env:prod");
//   (*statsd)->request(200, std::chrono::microseconds(1234));
//   (*statsd)->flush();   // from a timer
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <spdlog/sinks/base_sink.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <array>
#include <string>
#include <vector>

#include "greenfork/status.hpp"

namespace greenfork::worker {

// Counts error-log records by Gunicorn's statsd level names; any thread.
class LogRecordCounter final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
 public:
  struct Counts {
    uint64_t critical = 0, error = 0, warning = 0, exception = 0;
  };
  // The counts since the last call.
  Counts take();

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  std::atomic<uint64_t> critical_{0}, error_{0}, warning_{0}, exception_{0};
};

class StatsdClient {
 public:
  // "HOST:PORT", "HOST" (port 8125), "[V6]:PORT", "unix:PATH". Errors name
  // the address.
  static StatusOr<std::unique_ptr<StatsdClient>> open(const std::string& address,
                                                      const std::string& prefix,
                                                      const std::string& tags);
  // Checks the syntax only (for the command line).
  static Status check_address(const std::string& address);
  ~StatsdClient();
  StatsdClient(const StatsdClient&) = delete;
  StatsdClient& operator=(const StatsdClient&) = delete;

  // One finished request (I/O thread).
  void request(int status, std::chrono::microseconds duration);
  // Adds the log records counted since the last flush, sends what is buffered.
  void flush();
  // flush() every `interval` on `io` (the I/O thread) until stop_flushing(),
  // which must come before `io` is destroyed.
  void flush_every(asio::io_context& io, std::chrono::milliseconds interval);
  void stop_flushing() { timer_.reset(); }
  LogRecordCounter& log_counter() { return *counter_; }
  std::shared_ptr<LogRecordCounter> log_sink() const { return counter_; }
  uint64_t dropped() const { return dropped_; }

 private:
  StatsdClient(int fd, std::string prefix, std::string tags);
  void add(std::string_view name, std::string_view value, std::string_view type);
  void add_count(std::string_view name, uint64_t count);
  void send();
  void arm(std::chrono::milliseconds interval);

  int fd_;
  std::string prefix_;  // "" or "name."
  std::string tags_;    // "" or "|#k:v,..."
  std::string buffer_;
  uint64_t dropped_ = 0;
  uint64_t requests_ = 0;  // since the last flush
  std::array<uint32_t, 1000> statuses_{};  // by status code, since the last flush
  std::vector<int> seen_statuses_;
  std::shared_ptr<LogRecordCounter> counter_;
  std::unique_ptr<asio::steady_timer> timer_;
};

}  // namespace greenfork::worker
