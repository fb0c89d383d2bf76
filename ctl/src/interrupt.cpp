#include "interrupt.hpp"

#include <signal.h>

#include <thread>

namespace greenfork::ctl {

void on_interrupt(void (*action)()) {
  std::thread([action] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    if (sigwait(&set, &sig) != 0) return;
    action();
  }).detach();
}

}  // namespace greenfork::ctl
