// Errors as values: Status carries what failed ("bind 0.0.0.0:80"), why
// ("Permission denied") and a code; StatusOr<T> is a value or a Status.
// The codes are gRPC's (same names and numbers): arbiterd's control plane
// answers with them, gctl turns them into its exit status.
//
//   StatusOr<int> fd = open_listener(addr);
//   if (!fd.ok()) return fd.status();  // "bind 127.0.0.1:80: Permission denied"
//   use(*fd);
//   return Status::error(StatusCode::kNotFound, "unknown pool 'api'");
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace greenfork {

enum class StatusCode {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,  // an error without a more precise code (Status::error(message))
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// "NOT_FOUND", as gRPC spells it.
const char* status_code_name(StatusCode code);

class Status {
 public:
  Status() = default;  // OK
  static Status ok_status() { return {}; }
  static Status error(std::string message) { return Status(StatusCode::kUnknown, std::move(message)); }
  // `code` is not kOk (kUnknown is used for it).
  static Status error(StatusCode code, std::string message) {
    return Status(code == StatusCode::kOk ? StatusCode::kUnknown : code, std::move(message));
  }
  // "<operation>: <strerror(err)>".
  static Status from_errno(const std::string& operation, int err = errno);

  bool ok() const { return code_ == StatusCode::kOk; }
  explicit operator bool() const { return ok(); }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Prefixes context: Status::error("x").with_context("load") -> "load: x".
  Status with_context(const std::string& context) const;

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}
  StatusCode code_ = StatusCode::kOk;
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
