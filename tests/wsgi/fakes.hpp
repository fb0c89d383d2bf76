// Fakes of the engine's side of app.hpp for the gateway's unit tests.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

#include "greenfork/worker/app.hpp"

namespace greenfork::wsgi::testing {

// A body handed out in pieces of at most `step` bytes; optionally the
// client "leaves" after `fail_after` bytes.
class FakeBody : public worker::BodyReader {
 public:
  explicit FakeBody(std::string data, size_t step = 7, size_t fail_after = SIZE_MAX)
      : data_(std::move(data)), step_(step), fail_after_(fail_after) {}
  size_t read(char* dst, size_t max) override {
    ++calls;
    if (pos_ >= fail_after_) throw worker::ClientGone("client went away");
    size_t n = std::min({max, step_, data_.size() - pos_});
    std::copy_n(data_.data() + pos_, n, dst);
    pos_ += n;
    return n;
  }
  int calls = 0;

 private:
  std::string data_;
  size_t step_;
  size_t fail_after_;
  size_t pos_ = 0;
};

class FakeWriter : public worker::ResponseWriter {
 public:
  Status start(int code, std::string_view why, std::vector<worker::Header> head) override {
    ++starts;
    if (wrote) return Status::error("start after write");
    status = code;
    reason = std::string(why);
    headers = std::move(head);
    return {};
  }
  void write(const char* data, size_t len) override {
    if (gone) throw worker::ClientGone("peer reset");
    wrote = true;
    ++writes;
    body.append(data, len);
  }
  void send_file(int fd, off_t offset, uint64_t count) override {
    wrote = true;
    ++sendfiles;
    std::string buf(count, '\0');
    ssize_t n = ::pread(fd, buf.data(), count, offset);
    body.append(buf.data(), n > 0 ? static_cast<size_t>(n) : 0);
  }
  void flush() override { ++flushes; }
  void finish() override { finished = true; }
  bool committed() const override { return wrote; }
  void abort() noexcept override { aborted = true; }

  std::string header(std::string_view name) const {
    for (const auto& h : headers) {
      if (h.name.size() == name.size() &&
          std::equal(h.name.begin(), h.name.end(), name.begin(),
                     [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
        return h.value;
      }
    }
    return "";
  }

  int status = 0;
  std::string reason;
  std::vector<worker::Header> headers;
  std::string body;
  int starts = 0, writes = 0, sendfiles = 0, flushes = 0;
  bool wrote = false, finished = false, aborted = false, gone = false;
};

class FakeHost : public worker::WorkerHost {
 public:
  void request_restart(const std::string& reason) override {
    std::lock_guard lock(mu);
    restarts.push_back(reason);
  }
  void log_error(std::string_view message) override {
    std::lock_guard lock(mu);
    errors.emplace_back(message);
  }
  std::string all_errors() {
    std::lock_guard lock(mu);
    std::string out;
    for (auto& e : errors) out += e + "\n";
    return out;
  }
  std::mutex mu;
  std::vector<std::string> restarts;
  std::vector<std::string> errors;
};

inline worker::Request make_request(std::string method, std::string target,
                                    std::vector<worker::Header> headers = {}) {
  worker::Request r;
  r.method = std::move(method);
  r.target = target;
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  r.query = q == std::string::npos ? "" : target.substr(q + 1);
  r.headers = std::move(headers);
  r.remote_addr = "127.0.0.1";
  r.remote_port = 40000;
  r.server_name = "127.0.0.1";
  r.server_port = "8000";
  return r;
}

}  // namespace greenfork::wsgi::testing
