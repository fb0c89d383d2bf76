// Event: a wake-up for coroutines on the I/O thread. set() before wait()
// is remembered, so a wake-up is never lost; several waiters are all woken.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

namespace greenfork::worker {

class Event {
 public:
  explicit Event(const asio::any_io_executor& executor) : timer_(executor) {}

  asio::awaitable<void> wait() {
    if (!set_) {
      timer_.expires_at(asio::steady_timer::time_point::max());
      (void)co_await timer_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    }
    set_ = false;
  }
  void set() {
    set_ = true;
    timer_.cancel();
  }

 private:
  asio::steady_timer timer_;
  bool set_ = false;
};

}  // namespace greenfork::worker
