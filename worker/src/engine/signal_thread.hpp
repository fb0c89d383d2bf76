// SignalThread: gworker's signals, taken on a thread of their own. The I/O
// thread may be busy for a long while (a sync worker runs its app there), so
// what must happen at once on a signal — refusing new connections on TERM —
// cannot wait for it; the thread does that much and posts the rest to the
// I/O loop. Its handler runs on the signal thread, never in a signal
// handler (asio turns the signal into an event).
//
//   SignalThread signals({SIGTERM, SIGINT}, [](int signo) { ... });
//   ...
//   signals.stop();   // before the handler's captures go away
#pragma once

#include <asio/io_context.hpp>

#include <functional>
#include <initializer_list>
#include <thread>
#include <vector>

namespace greenfork::worker {

class SignalThread {
 public:
  SignalThread(std::initializer_list<int> signals, std::function<void(int)> on_signal);
  ~SignalThread();
  SignalThread(const SignalThread&) = delete;
  SignalThread& operator=(const SignalThread&) = delete;

  // Joins the thread; the signals keep their asio disposition until then.
  void stop();

 private:
  asio::io_context io_{1};
  std::thread thread_;
};

}  // namespace greenfork::worker
