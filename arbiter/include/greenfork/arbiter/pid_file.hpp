// --pid FILE: written at start, removed at exit only if it still names us
// (after a binary upgrade it names the new master).
#pragma once

#include <sys/types.h>

#include <string>

#include "greenfork/status.hpp"

namespace greenfork::arbiter {

class PidFile {
 public:
  PidFile() = default;
  // Writes atomically (temp file + rename). An existing file naming a live
  // process other than `allowed_owner` is an error.
  static StatusOr<PidFile> create(const std::string& path, pid_t allowed_owner = 0);
  PidFile(PidFile&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  PidFile& operator=(PidFile&& other) noexcept;
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  ~PidFile() { remove(); }

  // Unlinks the file if it still contains our pid. Idempotent.
  void remove();
  // Forget the file without removing it (a new master owns it now).
  void release() { path_.clear(); }
  const std::string& path() const { return path_; }

 private:
  explicit PidFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// The pid in a pid file, or 0.
pid_t read_pid_file(const std::string& path);

}  // namespace greenfork::arbiter
