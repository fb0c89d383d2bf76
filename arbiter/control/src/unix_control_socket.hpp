// The control socket's file: who else is there, how it appears, when it goes.
//
// The socket is bound at a temporary name in the same directory; publish()
// sets mode 0600 and rename()s it over the real path, so the path is never
// reachable with a wider mode and, in a binary upgrade (takeover), clients
// switch from the old master to the new one atomically. On exit the path is
// removed only if it is still our inode (a new master may own it by then).
#pragma once

#include <sys/types.h>

#include <string>

#include "greenfork/status.hpp"

namespace greenfork::arbiter {

class UnixControlSocket {
 public:
  // Fails when the directory is missing, the path is too long or is not a
  // socket, or (unless takeover) a live arbiterd listens there. A stale
  // socket file is removed.
  static StatusOr<UnixControlSocket> prepare(const std::string& path, bool takeover);

  const std::string& path() const { return path_; }
  // A listening socket bound at the temporary path, created mode 0600
  // (never briefly open to other users).
  StatusOr<int> listen_at_temporary();

  // After listen_at_temporary(): chmod 0600, rename over path().
  Status publish();
  // Unlinks path() if it is still the socket we published; then forgets it.
  void remove_if_ours();
  // Unlinks the temporary path (bind failed, or never published).
  void discard_temporary();

 private:
  UnixControlSocket(std::string path, std::string temp_path)
      : path_(std::move(path)), temp_path_(std::move(temp_path)) {}

  std::string path_;
  std::string temp_path_;
  bool published_ = false;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

}  // namespace greenfork::arbiter
