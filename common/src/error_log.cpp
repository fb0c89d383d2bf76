#include "greenfork/error_log.hpp"

#include <unistd.h>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>

#include "greenfork/contract.hpp"
#include "greenfork/json_text.hpp"

namespace greenfork {

namespace {

// Gunicorn's level names (Python logging's).
const char* level_name(spdlog::level::level_enum lvl) {
  switch (lvl) {
    case spdlog::level::trace:
    case spdlog::level::debug: return "DEBUG";
    case spdlog::level::info: return "INFO";
    case spdlog::level::warn: return "WARNING";
    case spdlog::level::err: return "ERROR";
    case spdlog::level::critical: return "CRITICAL";
    default: return "INFO";
  }
}


// One line of the error log, text or JSON (error_log.hpp).
class LineFormat {
 public:
  LineFormat(LogFormat format, std::string program)
      : format_(format), program_(std::move(program)) {
    if (const char* pool = std::getenv(contract::kPool); pool != nullptr && *pool != '\0') pool_ = pool;
  }

  void format(const spdlog::details::log_msg& msg, std::string& out) const {
    // Read per line: a process forked after setup (arbiterd's guard) logs its own.
    const std::string pid = std::to_string(::getpid());
    const auto since_epoch = msg.time.time_since_epoch();
    const std::time_t secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch).count();
    struct tm parts {};
    ::localtime_r(&secs, &parts);
    const std::string_view text(msg.payload.data(), msg.payload.size());
    if (format_ == LogFormat::kText) {
      char stamp[64];
      std::strftime(stamp, sizeof stamp, "[%Y-%m-%d %H:%M:%S %z] [", &parts);
      out += stamp;
      out += pid;
      out += "] [";
      out += level_name(msg.level);
      out += "] ";
      out.append(text.data(), text.size());
      out += '\n';
      return;
    }
    char stamp[64];
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &parts);
    const long millis =
        static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000);
    char zone[8];
    std::strftime(zone, sizeof zone, "%z", &parts);  // +hhmm -> +hh:mm (RFC 3339)
    char time_text[96];
    std::snprintf(time_text, sizeof time_text, "%s.%03ld%.3s:%.2s", stamp, millis, zone, zone + 3);
    std::string_view message = text;
    std::string_view exception;
    if (auto tb = text.find("Traceback (most recent call last):"); tb != std::string_view::npos) {
      message = text.substr(0, tb);
      exception = text.substr(tb);
      while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.remove_suffix(1);
      while (!exception.empty() && exception.back() == '\n') exception.remove_suffix(1);
    }
    out += "{\"time\": ";
    append_json_string(out, time_text);
    out += ", \"level\": ";
    append_json_string(out, level_name(msg.level));
    out += ", \"pid\": " + pid + ", \"program\": ";
    append_json_string(out, program_);
    out += ", \"pool\": ";
    if (pool_.empty()) {
      out += "null";
    } else {
      append_json_string(out, pool_);
    }
    out += ", \"message\": ";
    append_json_string(out, message);
    out += ", \"exception\": ";
    if (exception.empty()) {
      out += "null";
    } else {
      append_json_string(out, exception);
    }
    out += "}\n";
  }

 private:
  LogFormat format_;
  std::string program_;
  std::string pool_;
};

// A file sink whose file can be reopened under the sink's own lock, so a
// USR1 never races a thread that is logging. It writes LineFormat's lines
// (spdlog's pattern has no Gunicorn level names nor JSON escaping).
class ReopenableFileSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  ReopenableFileSink(std::string path, FILE* file, LineFormat line)
      : path_(std::move(path)), file_(file), line_(std::move(line)) {}
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
    std::string formatted;
    line_.format(msg, formatted);
    std::fwrite(formatted.data(), 1, formatted.size(), file_);
    std::fflush(file_);
  }
  void flush_() override { std::fflush(file_); }

 private:
  std::string path_;
  FILE* file_;
  LineFormat line_;
};

std::shared_ptr<ReopenableFileSink> g_sink;

}  // namespace

std::optional<LogFormat> parse_log_format(const std::string& text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return std::nullopt;
}

Status setup_error_log(const std::string& program, const std::string& path,
                       const std::string& level, LogFormat format) {
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
  g_sink = std::make_shared<ReopenableFileSink>(path, file, LineFormat(format, program));
  auto logger = std::make_shared<spdlog::logger>(program, g_sink);
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return {};
}

Status reopen_error_log() { return g_sink ? g_sink->reopen() : Status{}; }

}  // namespace greenfork
