// The error log to syslog as well (Gunicorn's --log-syslog): each line as
// Python's logging.handlers.SysLogHandler sends Gunicorn's records,
//   <PRI>gunicorn.PREFIX.error: [PID] message\0
// PRI = facility * 8 + severity (debug 7, info 6, warning 4, error 3,
// critical 2); to udp://HOST[:PORT] (514), tcp://HOST[:PORT] or
// unix://PATH[#dgram] (without #dgram a datagram socket, else a stream one).
// Sending never blocks a logging thread: a datagram that does not fit is
// dropped, a stream that broke is reconnected at most every 5 s.
//
//   if (Status s = check_syslog(addr, "local0"); !s.ok()) ...   // at config time
//   add_syslog({addr, "local0", "gunicorn.myapp.error"});      // after setup_error_log
#pragma once

#include <string>

#include "greenfork/status.hpp"

namespace greenfork {

struct SyslogOptions {
  std::string address = "udp://localhost:514";
  std::string facility = "user";
  std::string tag;  // "gunicorn.PREFIX.error"
};

// A clear error for an address or facility Gunicorn would refuse.
Status check_syslog(const std::string& address, const std::string& facility);

// Adds the syslog sink to the default logger (setup_error_log's). Fails when
// the address cannot be resolved or a stream socket cannot connect.
Status add_syslog(const SyslogOptions& options);

// Gunicorn's tag: "gunicorn." + (prefix with ':' as '.') + ".error".
std::string syslog_tag(const std::string& prefix);

}  // namespace greenfork
