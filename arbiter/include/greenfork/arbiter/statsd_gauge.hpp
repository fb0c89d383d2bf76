// arbiterd's statsd metric, Gunicorn's: the `gunicorn.workers` gauge (the
// number of running workers), sent when it changes, to --statsd-host
// (HOST:PORT over UDP, or unix:PATH, a datagram socket), with
// --statsd-prefix and --dogstatsd-tags as Gunicorn's instrument/statsd.py
// writes them:  "PREFIX.gunicorn.workers:3|g|#tag1,tag2".
// Sending never blocks the loop (MSG_DONTWAIT; a datagram that does not fit
// is dropped, as UDP may drop it anyway).
//
//   auto gauge = StatsdGauge::open("127.0.0.1:8125", "myapp", "");
//   gauge->workers(3);   // sent
//   gauge->workers(3);   // unchanged: not sent
#pragma once

#include <sys/un.h>

#include <memory>
#include <optional>
#include <string>

#include "greenfork/status.hpp"

namespace greenfork::arbiter {

class StatsdGauge {
 public:
  static StatusOr<std::unique_ptr<StatsdGauge>> open(const std::string& host, const std::string& prefix,
                                                     const std::string& tags);
  ~StatsdGauge();
  StatsdGauge(const StatsdGauge&) = delete;
  StatsdGauge& operator=(const StatsdGauge&) = delete;

  void workers(unsigned count);
  // Gunicorn's prefix: "app" -> "app.", "app..." -> "app.", "" -> "".
  static std::string normalize_prefix(const std::string& prefix);
  // A clear error for an address Gunicorn would refuse.
  static Status check_address(const std::string& host);

 private:
  StatsdGauge(int fd, std::string prefix, std::string tags) : fd_(fd), prefix_(std::move(prefix)), tags_(std::move(tags)) {}
  int fd_;
  std::string prefix_;
  std::string tags_;
  std::optional<unsigned> last_;
  std::optional<sockaddr_un> unix_addr_;  // unix:PATH (sendto); empty: a connected UDP socket
};

}  // namespace greenfork::arbiter
