// EventQueue: what the I/O thread tells the asyncio loop, in batches.
//
// The I/O thread pushes (never blocking on Python, never taking the GIL);
// the first event of a batch writes the eventfd the loop watches
// (loop.add_reader), so the loop wakes once per batch however many
// requests, completions and disconnects it holds, and takes them all at
// once with take().
//
//   EventQueue q;                    // q.fd() goes to loop.add_reader()
//   q.push({LoopEvent::kSubmit, &exchange, true});   // I/O thread
//   std::vector<LoopEvent> batch; q.take(batch);      // loop thread
#pragma once

#include <mutex>
#include <vector>

#include "greenfork/status.hpp"
#include "greenfork/unique_fd.hpp"
#include "greenfork/worker/app.hpp"

namespace greenfork::asgi {

struct LoopEvent {
  enum Kind { kSubmit, kIoDone, kDisconnected, kStop, kWsConnect, kWsWake };
  Kind kind = kSubmit;
  worker::AsyncExchange* exchange = nullptr;  // null for kStop and the kWs kinds
  bool ok = true;                             // kIoDone's outcome
  worker::AsyncWebSocket* ws = nullptr;       // kWsConnect, kWsWake
};

class EventQueue {
 public:
  EventQueue() = default;
  EventQueue(const EventQueue&) = delete;
  EventQueue& operator=(const EventQueue&) = delete;

  // Creates the eventfd ("eventfd: Too many open files" on failure).
  Status open();
  int fd() const { return efd_.get(); }

  // Any thread. Wakes the loop when the queue was empty.
  void push(const LoopEvent& event);
  // Loop thread: clears the eventfd, then moves every queued event into
  // `out` (which is cleared first). An event pushed meanwhile either comes
  // with this batch or wakes the loop again.
  void take(std::vector<LoopEvent>& out);

 private:
  UniqueFd efd_;
  std::mutex mu_;
  std::vector<LoopEvent> events_;
};

}  // namespace greenfork::asgi
