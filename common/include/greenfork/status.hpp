// Errors as values: Status carries what failed ("bind 0.0.0.0:80") and why
// ("Permission denied"); StatusOr<T> is a value or a Status.
//
//   StatusOr<int> fd = open_listener(addr);
//   if (!fd.ok()) return fd.status();  // "bind 127.0.0.1:80: Permission denied"
//   use(*fd);
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace greenfork {

class Status {
 public:
  Status() = default;  // OK
  static Status ok_status() { return {}; }
  static Status error(std::string message) { return Status(std::move(message)); }
  // "<operation>: <strerror(err)>".
  static Status from_errno(const std::string& operation, int err = errno);

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& message() const { return message_; }

  // Prefixes context: Status::error("x").with_context("load") -> "load: x".
  Status with_context(const std::string& context) const;

 private:
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

template <typename T>
class StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}           // NOLINT: implicit by design
  StatusOr(Status status) : v_(std::move(status)) {}    // NOLINT: must be an error

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace greenfork
