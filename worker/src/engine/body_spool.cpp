#include "engine/body_spool.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace greenfork::worker {

namespace {

// An unlinked read-write file in `dir`: O_TMPFILE where the filesystem has
// it, else mkstemp and unlink at once.
int open_unlinked(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  std::string pattern = dir + "/gworker-body-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd >= 0) ::unlink(name.data());
  return fd;
}

}  // namespace

BodySpool::~BodySpool() = default;

void BodySpool::reset(uint64_t memory_limit, const std::string* dir) {
  limit_ = memory_limit;
  dir_ = dir;
  mem_.clear();
  mem_pos_ = 0;
  raw_len_ = raw_pos_ = 0;
  fd_.reset();
  file_size_ = file_pos_ = 0;
}

Status BodySpool::append(std::string& bytes) {
  if (bytes.empty()) return {};
  if (!fd_ && limit_ != 0 && unread() + bytes.size() > limit_) {
    if (Status s = spill(); !s.ok()) return s;
  }
  if (fd_) {
    Status s = write_file(bytes.data(), bytes.size());
    bytes.clear();
    return s;
  }
  if (raw_len_ > 0) {  // after the bytes read into room()
    char* dst = room(bytes.size());
    if (dst == nullptr) return Status::error("request body past its memory limit");
    std::memcpy(dst, bytes.data(), bytes.size());
    commit(bytes.size());
    bytes.clear();
    return {};
  }
  if (mem_pos_ == mem_.size()) {
    mem_.clear();
    mem_pos_ = 0;
  }
  if (mem_.empty()) {
    mem_.swap(bytes);  // a block gathered by the caller: no copy (it gets our buffer)
  } else {
    mem_.append(bytes);
  }
  bytes.clear();
  return {};
}

char* BodySpool::room(size_t want) {
  if (fd_ || (limit_ != 0 && unread() + want > limit_)) return nullptr;
  if (raw_len_ + want > raw_cap_) {
    // Grown to what is asked at once (a body's whole length, known).
    const size_t keep = raw_len_ - raw_pos_;
    const size_t cap = std::max(keep + want, 2 * raw_cap_);
    auto bigger = std::make_unique_for_overwrite<char[]>(cap);
    if (keep > 0) std::memcpy(bigger.get(), raw_.get() + raw_pos_, keep);
    raw_ = std::move(bigger);
    raw_cap_ = cap;
    raw_len_ = keep;
    raw_pos_ = 0;
  }
  if (raw_len_ == 0 && mem_pos_ < mem_.size()) {
    // The bytes that came before (with the request head) go first.
    const size_t n = mem_.size() - mem_pos_;
    if (n + want > raw_cap_) {
      raw_ = std::make_unique_for_overwrite<char[]>(n + want);
      raw_cap_ = n + want;
    }
    std::memcpy(raw_.get(), mem_.data() + mem_pos_, n);
    raw_len_ = n;
    raw_pos_ = 0;
    mem_.clear();
    mem_pos_ = 0;
  }
  return raw_.get() + raw_len_;
}

Status BodySpool::spill() {
  std::string dir = dir_ != nullptr ? *dir_ : "";
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    dir = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  fd_.reset(open_unlinked(dir));
  if (!fd_) return Status::from_errno("temporary file for a request body in " + dir);
  Status s = write_file(mem_.data() + mem_pos_, mem_.size() - mem_pos_);
  if (s.ok()) s = write_file(raw_.get() + raw_pos_, raw_len_ - raw_pos_);
  std::string().swap(mem_);
  mem_pos_ = 0;
  raw_.reset();
  raw_cap_ = raw_len_ = raw_pos_ = 0;
  return s;
}

Status BodySpool::write_file(const char* data, size_t len) {
  while (len > 0) {
    const ssize_t n = ::pwrite(fd_.get(), data, len, static_cast<off_t>(file_size_));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::from_errno("writing a request body to its temporary file");
    file_size_ += static_cast<uint64_t>(n);
    data += n;
    len -= static_cast<size_t>(n);
  }
  return {};
}

size_t BodySpool::read(char* dst, size_t max) {
  if (max == 0) return 0;
  if (mem_pos_ < mem_.size()) {
    const size_t n = std::min(max, mem_.size() - mem_pos_);
    std::memcpy(dst, mem_.data() + mem_pos_, n);
    mem_pos_ += n;
    return n;
  }
  if (raw_pos_ < raw_len_) {
    const size_t n = std::min(max, raw_len_ - raw_pos_);
    std::memcpy(dst, raw_.get() + raw_pos_, n);
    raw_pos_ += n;
    return n;
  }
  if (file_pos_ >= file_size_) return 0;
  const size_t want = static_cast<size_t>(std::min<uint64_t>(max, file_size_ - file_pos_));
  for (;;) {
    const ssize_t n = ::pread(fd_.get(), dst, want, static_cast<off_t>(file_pos_));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      throw std::runtime_error(std::string("reading a buffered request body: ") +
                               (n == 0 ? "file shorter than written" : std::strerror(errno)));
    }
    file_pos_ += static_cast<uint64_t>(n);
    return static_cast<size_t>(n);
  }
}

bool BodySpool::release_memory(size_t keep) {
  bool released = false;
  if (mem_.capacity() > keep) {
    std::string().swap(mem_);
    mem_pos_ = 0;
    released = true;
  }
  if (raw_cap_ > keep) {
    raw_.reset();
    raw_cap_ = raw_len_ = raw_pos_ = 0;
    released = true;
  }
  return released;
}

}  // namespace greenfork::worker
