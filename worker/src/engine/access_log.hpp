// AccessLog: Gunicorn's access log (--access-logfile, --access-logformat)
// with its atoms: h l u t r s m U q H B b f a T M D L p, {header}i,
// {header}o, {var}e. The format is compiled once; lines are appended to a
// buffered stream on the I/O thread and flushed at most every second.
// Lines written by Python (write_line) take the same lock.
#pragma once

#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "greenfork/status.hpp"
#include "greenfork/worker/app.hpp"

namespace greenfork::worker {

class Exchange;

class AccessLog {
 public:
  static constexpr const char* kDefaultFormat =
      R"(%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s")";
  // --access-logformat json: one JSON object per line, every atom a field
  // under its letter (h l u t r m U q H b f a p as strings, s B T M D L as
  // numbers), "i" and "o" objects with all request / response headers.
  static constexpr const char* kJsonFormat = "json";

  // path "-" = stdout. Errors name the file.
  static StatusOr<std::unique_ptr<AccessLog>> open(const std::string& path,
                                                    const std::string& format);
  // Lines handed to `sink` (without their newline) instead of a file:
  // Gunicorn's access logging through Python's gunicorn.access logger.
  using LineSink = std::function<void(std::string_view line)>;
  static std::unique_ptr<AccessLog> to_sink(const std::string& format, LineSink sink);
  ~AccessLog();

  void log(const Exchange& exchange);
  // One request served by something other than the engine (a framework's
  // own HTTP server, worker/frameworks/), written from the same facts. Not
  // thread-safe against log() of another thread: one writer thread.
  struct Record {
    const Request* request = nullptr;
    int status = 0;
    uint64_t body_bytes = 0;
    const std::vector<Header>* response_headers = nullptr;
    int64_t micros = 0;
  };
  void log(const Record& record);
  // One line from elsewhere (Python's gunicorn.access logger); any thread.
  void write_line(std::string_view line);
  void flush();
  Status reopen();

  struct Atom {
    char kind = 0;      // 0: literal text; else the atom letter ('i', 'o', 'e' with a name)
    std::string text;   // literal text, or the header/variable name
  };
  // Exposed for tests: the compiled form of a format string.
  static std::vector<Atom> compile(const std::string& format);

 private:
  AccessLog(std::string path, std::vector<Atom> atoms, FILE* file);
  std::string path_;
  std::vector<Atom> atoms_;
  FILE* file_;  // nullptr with a sink
  LineSink sink_;
  std::string line_;
  bool json_ = false;
  // The I/O thread's lines and write_line()'s share the stream.
  std::mutex mu_;
};

}  // namespace greenfork::worker
