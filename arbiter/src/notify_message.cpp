#include "greenfork/arbiter/notify_message.hpp"

namespace greenfork::arbiter {

NotifyMessage parse_notify_message(std::string_view datagram) {
  NotifyMessage m;
  while (!datagram.empty()) {
    size_t nl = datagram.find('\n');
    std::string_view line = datagram.substr(0, nl);
    datagram = nl == std::string_view::npos ? std::string_view{} : datagram.substr(nl + 1);
    if (line == "READY=1") m.ready = true;
    else if (line == "WATCHDOG=1") m.watchdog = true;
    else if (line == "STOPPING=1") m.stopping = true;
    else if (line == "RELOADING=1") m.reloading = true;
    else if (line.rfind("STATUS=", 0) == 0) m.status = std::string(line.substr(7));
  }
  return m;
}

}  // namespace greenfork::arbiter
