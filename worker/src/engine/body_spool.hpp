// BodySpool: a request body the app has not read yet. Bytes are kept in
// memory up to a limit; past it the whole body moves to an unlinked
// temporary file (nginx's client_body_buffer_size and client_body_temp),
// so a worker buffering many large uploads holds at most `limit` bytes of
// each in memory.
//
//   spool.reset(64 * 1024, "/tmp");
//   spool.append(bytes);             // I/O thread, while the body arrives
//   size_t n = spool.read(dst, max); // app thread, once it owns the body
//
// A body of known length may also be read straight into the spool's own
// memory (room()/commit(): no copy through the parser's buffer).
//
// Not thread-safe: the Exchange hand-off protocol decides who touches it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "greenfork/status.hpp"
#include "greenfork/unique_fd.hpp"

namespace greenfork::worker {

class BodySpool {
 public:
  BodySpool() = default;
  ~BodySpool();
  BodySpool(const BodySpool&) = delete;
  BodySpool& operator=(const BodySpool&) = delete;

  // Empties the spool (closing its file). memory_limit 0: never spill
  // (a streamed body, pulled in small steps by the app).
  void reset(uint64_t memory_limit = 0, const std::string* dir = nullptr);
  // Takes `bytes` (left empty). Fails when the temporary file cannot be
  // created or written (the spool is then unusable until reset()).
  Status append(std::string& bytes);
  // Room for `want` more bytes kept in memory, for a read straight into
  // it; nullptr when the spool has spilled or the bytes would pass the
  // memory limit (append() then spills). commit(n): n bytes were put there.
  char* room(size_t want);
  void commit(size_t n) { raw_len_ += n; }
  // Up to `max` unread bytes; 0 when everything was read. Throws
  // std::runtime_error when the temporary file cannot be read.
  size_t read(char* dst, size_t max);
  bool has_unread() const { return unread() != 0; }
  uint64_t unread() const {
    return (mem_.size() - mem_pos_) + (raw_len_ - raw_pos_) + (file_size_ - file_pos_);
  }
  bool spilled() const { return fd_.valid(); }
  // Gives back memory grown past `keep` bytes; true when it did.
  bool release_memory(size_t keep);

 private:
  Status spill();
  Status write_file(const char* data, size_t len);

  uint64_t limit_ = 0;
  const std::string* dir_ = nullptr;
  std::string mem_;  // append()ed blocks, taken without a copy when empty
  size_t mem_pos_ = 0;
  // room()'s memory, not zero-filled: once in use, it follows mem_'s bytes
  // and append() copies there.
  std::unique_ptr<char[]> raw_;
  size_t raw_cap_ = 0;
  size_t raw_len_ = 0;
  size_t raw_pos_ = 0;
  UniqueFd fd_;
  uint64_t file_size_ = 0;
  uint64_t file_pos_ = 0;
};

}  // namespace greenfork::worker
