#include "engine/deadline.hpp"

#include "engine/server.hpp"

namespace greenfork::worker {

void Deadline::waiting_for_request(bool first, Clock::time_point now) {
  at_ = now + (first ? config_.header_timeout : config_.keep_alive);
}

void Deadline::reading_head() { at_ = Clock::now() + config_.header_timeout; }

void Deadline::reading_body() { at_ = Clock::now() + config_.body_timeout; }

void Deadline::writing(bool progressed) {
  if (progressed || at_ == Clock::time_point::max()) at_ = Clock::now() + config_.write_timeout;
}

void Deadline::lingering() { at_ = Clock::now() + kLinger; }

}  // namespace greenfork::worker
