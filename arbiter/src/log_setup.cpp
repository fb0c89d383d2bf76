#include "greenfork/arbiter/log_setup.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <memory>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace greenfork::arbiter {
namespace {

std::string g_logfile;
spdlog::level::level_enum g_level = spdlog::level::info;

// Gunicorn's error log line: "[2024-01-01 12:00:00 +0000] [1234] [INFO] Booting worker".
constexpr const char* kPattern = "[%Y-%m-%d %H:%M:%S %z] [%P] [%^%l%$] %v";

Status install(const std::string& logfile) {
  std::shared_ptr<spdlog::logger> logger;
  if (logfile.empty() || logfile == "-") {
    logger = std::make_shared<spdlog::logger>("arbiterd", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  } else {
    try {
      logger = std::make_shared<spdlog::logger>(
          "arbiterd", std::make_shared<spdlog::sinks::basic_file_sink_mt>(logfile, false));
    } catch (const spdlog::spdlog_ex& e) {
      return Status::error("error log " + logfile + ": " + e.what());
    }
  }
  logger->set_pattern(kPattern);
  logger->set_level(g_level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return {};
}

}  // namespace

Status setup_log(const std::string& logfile, const std::string& level) {
  std::string name = level == "warn" ? "warning" : level;
  auto lvl = spdlog::level::from_str(name);
  if (lvl == spdlog::level::off && name != "off") {
    return Status::error("unknown log level '" + level + "'");
  }
  g_level = lvl;
  g_logfile = logfile;
  return install(logfile);
}

void reopen_log() {
  if (g_logfile.empty() || g_logfile == "-") return;
  Status s = install(g_logfile);
  if (!s.ok()) spdlog::error("{}", s.message());
}

}  // namespace greenfork::arbiter
