#include "engine/signal_thread.hpp"

#include <asio/executor_work_guard.hpp>
#include <asio/signal_set.hpp>

#include <memory>

namespace greenfork::worker {

namespace {

// Waits for the next signal, forever (until the io_context stops).
void arm(asio::signal_set& set, const std::function<void(int)>& on_signal) {
  set.async_wait([&set, &on_signal](const asio::error_code& ec, int signo) {
    if (ec) return;
    on_signal(signo);
    arm(set, on_signal);
  });
}

}  // namespace

SignalThread::SignalThread(std::initializer_list<int> signals,
                           std::function<void(int)> on_signal) {
  // Registered here, before the thread runs, so that no signal sent after
  // the constructor returns is missed.
  auto set = std::make_unique<asio::signal_set>(io_);
  for (int signo : signals) set->add(signo);
  thread_ = std::thread([this, set = std::move(set), on_signal = std::move(on_signal)]() mutable {
    arm(*set, on_signal);
    io_.run();
    set.reset();  // on this thread, which owned it
  });
}

SignalThread::~SignalThread() { stop(); }

void SignalThread::stop() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
}

}  // namespace greenfork::worker
