// --reload: a background thread polls, about once a second, the mtimes of
// the source files of every imported module (plus files named at start,
// e.g. the one with the syntax error), and asks the engine for a restart
// (drain and exit 0; arbiterd starts a fresh worker) at the first change.
// --reload-extra-file patterns (Gunicorn's, globs with ** as in glob.glob
// recursive) are expanded again at each poll, so a file created later that
// matches is watched from then on.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "greenfork/worker/app.hpp"

namespace greenfork::wsgi {

class Reloader {
 public:
  Reloader(worker::WorkerHost& host, std::vector<std::string> extra_files,
           std::chrono::milliseconds interval = std::chrono::seconds(1));
  ~Reloader();
  Reloader(const Reloader&) = delete;
  Reloader& operator=(const Reloader&) = delete;

  // Before start(): globs whose matches are watched too.
  void watch_patterns(std::vector<std::string> patterns) { patterns_ = std::move(patterns); }
  // The interpreter must be running; the calling thread may hold the GIL.
  void start();
  // Joins the thread; call before the interpreter is finalized.
  void stop();

 private:
  void run();
  std::vector<std::string> watched_files();
  // The first changed file, or "".
  std::string scan(const std::vector<std::string>& files);

  worker::WorkerHost& host_;
  std::vector<std::string> extra_files_;
  std::vector<std::string> patterns_;
  std::chrono::milliseconds interval_;
  std::unordered_map<std::string, int64_t> mtimes_;  // ns; -1 = missing
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace greenfork::wsgi
