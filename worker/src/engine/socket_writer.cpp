#include "engine/socket_writer.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace greenfork::worker {

namespace {

constexpr size_t kSendfileMax = size_t{1} << 30;
constexpr uint64_t kFilePiece = 64 * 1024;

}  // namespace

Outbox::Send SocketWriter::pump() {
  if (!socket_.is_open()) return Outbox::Send::kFailed;
  bool progressed = false;
  const Outbox::Send result = outbox_.send(transport(), progressed);
  if (result == Outbox::Send::kBlocked) {
    deadline_.writing(progressed);
  } else {
    deadline_.clear();
  }
  return result;
}

void SocketWriter::watch_writable() {
  if (watching_ || !socket_.is_open()) return;
  watching_ = true;
  socket_.async_wait(asio::socket_base::wait_write, [this](const asio::error_code&) {
    watching_ = false;
    wake_.set();
  });
}

asio::awaitable<bool> SocketWriter::drain() {
  for (;;) {
    const Outbox::Send result = pump();
    if (result != Outbox::Send::kBlocked) co_return result == Outbox::Send::kDone;
    watch_writable();
    co_await wake_.wait();
  }
}

asio::awaitable<bool> SocketWriter::write_all(std::string_view data) {
  outbox_.append(data);
  co_return co_await drain();
}

bool SocketWriter::read_piece(const Exchange::FileSlice& file, off_t& offset, uint64_t& left) {
  std::string piece(static_cast<size_t>(std::min(left, kFilePiece)), '\0');
  ssize_t n;
  do {
    n = ::pread(file.fd, piece.data(), piece.size(), offset);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return false;
  piece.resize(static_cast<size_t>(n));
  offset += n;
  left -= static_cast<uint64_t>(n);
  outbox_.append(piece);
  return true;
}

asio::awaitable<bool> SocketWriter::send_file(const Exchange::FileSlice& file) {
  if (!co_await drain()) co_return false;
  off_t offset = file.offset;
  uint64_t left = file.count;
  if (tls_ != nullptr) {
    while (left > 0) {
      if (!read_piece(file, offset, left)) co_return false;
      if (!co_await drain()) co_return false;
    }
    co_return true;
  }
  bool ok = true;
  while (left > 0 && ok && socket_.is_open()) {
    const ssize_t n = ::sendfile(socket_.native_handle(), file.fd, &offset,
                                 static_cast<size_t>(std::min<uint64_t>(left, kSendfileMax)));
    if (n > 0) {
      left -= static_cast<uint64_t>(n);
      deadline_.clear();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      deadline_.writing(false);
      watch_writable();
      co_await wake_.wait();
      continue;
    }
    ok = false;  // error, or the file is shorter than promised
  }
  deadline_.clear();
  co_return ok && left == 0;
}

bool SocketWriter::hand_over(std::string& bytes) {
  if (!socket_.is_open()) return false;
  // The app runs on the I/O thread: it waits here only while the client has
  // left more than the bound unread.
  if (!outbox_.send_blocking(transport(), Outbox::kBound, write_timeout_)) {
    return false;
  }
  outbox_.append(bytes);
  return pump() != Outbox::Send::kFailed;
}

bool SocketWriter::hand_over(std::string& head, std::string_view body) {
  if (!socket_.is_open()) return false;
  if (!outbox_.send_blocking(transport(), Outbox::kBound, write_timeout_)) return false;
  if (tls_ != nullptr || !outbox_.empty()) {
    outbox_.append(head);
    outbox_.append(body);
    return pump() != Outbox::Send::kFailed;
  }
  // Nothing queued: one writev of the head and the app's bytes, and only
  // what the socket does not take now is copied.
  iovec iov[2] = {{head.data(), head.size()}, {const_cast<char*>(body.data()), body.size()}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  ssize_t n;
  do {
    n = ::sendmsg(socket_.native_handle(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (n < 0 && errno == EINTR);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return false;
  size_t sent = n > 0 ? static_cast<size_t>(n) : 0;
  if (sent < head.size()) {
    head.erase(0, sent);
    outbox_.append(head);
    sent = 0;
  } else {
    sent -= head.size();
  }
  head.clear();
  outbox_.append(body.substr(sent));
  if (outbox_.empty()) {
    deadline_.clear();
  } else {
    deadline_.writing(n > 0);
  }
  return true;
}

bool SocketWriter::send_file_now(const Exchange::FileSlice& file) {
  if (!socket_.is_open()) return false;
  if (!outbox_.send_blocking(transport(), 0, write_timeout_)) return false;
  off_t offset = file.offset;
  if (tls_ != nullptr) {
    uint64_t left = file.count;
    while (left > 0) {
      if (!read_piece(file, offset, left)) return false;
      if (!outbox_.send_blocking(transport(), 0, write_timeout_)) return false;
    }
    return true;
  }
  // A short file ends in a 0 return: a failure, as the length was promised.
  return write_blocking(socket_.native_handle(), write_timeout_, file.count, [&](uint64_t left) {
    return ::sendfile(socket_.native_handle(), file.fd, &offset,
                      static_cast<size_t>(std::min<uint64_t>(left, kSendfileMax)));
  });
}

}  // namespace greenfork::worker
