// Small value parsers and path helpers shared by the TOML reader and the CLI.
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>

#include "config_file.hpp"
#include "greenfork/arbiter/config_loader.hpp"
#include "greenfork/arbiter/listener_set.hpp"

namespace greenfork::arbiter::detail {

StatusOr<mode_t> parse_umask(const std::string& text) {
  std::string digits = text;
  int base = 8;
  if (digits.rfind("0o", 0) == 0 || digits.rfind("0O", 0) == 0) {
    digits = digits.substr(2);
  } else if (digits.rfind("0x", 0) == 0 || digits.rfind("0X", 0) == 0) {
    digits = digits.substr(2);
    base = 16;
  }
  if (digits.empty()) return Status::error("umask '" + text + "' is not a number");
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(digits.c_str(), &end, base);
  if (errno != 0 || end == nullptr || *end != '\0' || v < 0 || v > 0777) {
    return Status::error("umask '" + text + "' is not an octal mode between 000 and 777");
  }
  return static_cast<mode_t>(v);
}

bool valid_log_level(const std::string& level) {
  for (const char* l : {"trace", "debug", "info", "warning", "error", "critical"}) {
    if (level == l) return true;
  }
  return false;
}

std::string absolute_path(const std::string& base, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute()) return p.lexically_normal().string();
  std::string out = (std::filesystem::path(base) / p).lexically_normal().string();
  if (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string current_directory() {
  std::error_code ec;
  auto p = std::filesystem::current_path(ec);
  return ec ? std::string(".") : p.string();
}

std::vector<std::string> gworker_command(const std::string& app,
                                         const std::vector<std::string>& worker_args) {
  std::vector<std::string> cmd{gworker_path(), app};
  cmd.insert(cmd.end(), worker_args.begin(), worker_args.end());
  return cmd;
}

std::vector<std::string> default_app_binds() {
  if (!systemd_listen_specs().empty()) return {};
  return {"127.0.0.1:8000"};
}

}  // namespace greenfork::arbiter::detail
