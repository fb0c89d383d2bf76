#include "greenfork/status.hpp"

#include <cstring>

namespace greenfork {

Status Status::from_errno(const std::string& operation, int err) {
  return Status(operation + ": " + std::strerror(err));
}

Status Status::with_context(const std::string& context) const {
  if (ok()) return *this;
  return Status(context + ": " + message_);
}

}  // namespace greenfork
