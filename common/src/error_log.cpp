#include "greenfork/error_log.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <mutex>

namespace greenfork {

namespace {

constexpr const char* kPattern = "[%Y-%m-%d %H:%M:%S %z] [%P] [%l] %v";

// A file sink whose file can be reopened under the sink's own lock, so a
// USR1 never races a thread that is logging.
class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  ReopenableFileSink(std::string path, FILE* file) : path_(std::move(path)), file_(file) {}
  ReopenableFileSink(const ReopenableFileSink&) = delete;
  ReopenableFileSink& operator=(const ReopenableFileSink&) = delete;
  ~ReopenableFileSink() override {
    if (file_ != stderr) std::fclose(file_);
  }

  Status reopen() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (file_ == stderr) return {};
    FILE* file = std::fopen(path_.c_str(), "ae");
    if (file == nullptr) return Status::from_errno("reopen error log " + path_);
    std::fclose(file_);
    file_ = file;
    return {};
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    std::fwrite(formatted.data(), 1, formatted.size(), file_);
    std::fflush(file_);
  }
  void flush_() override { std::fflush(file_); }

 private:
  std::string path_;
  FILE* file_;
};

std::shared_ptr<ReopenableFileSink> g_sink;

}  // namespace

Status setup_error_log(const std::string& program, const std::string& path,
                       const std::string& level) {
  const std::string name = level == "warning" ? "warn" : level;
  const spdlog::level::level_enum lvl = spdlog::level::from_str(name);
  if (lvl == spdlog::level::off && name != "off") {
    return Status::error("unknown log level '" + level + "'");
  }
  FILE* file = stderr;
  if (!path.empty() && path != "-") {
    file = std::fopen(path.c_str(), "ae");
    if (file == nullptr) return Status::from_errno("open error log " + path);
  }
  g_sink = std::make_shared<ReopenableFileSink>(path, file);
  auto logger = std::make_shared<spdlog::logger>(program, g_sink);
  logger->set_pattern(kPattern);
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return {};
}

Status reopen_error_log() { return g_sink ? g_sink->reopen() : Status{}; }

}  // namespace greenfork
