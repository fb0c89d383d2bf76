// Small value parsers and path helpers shared by the TOML reader and the CLI.
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <optional>
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

StatusOr<uint64_t> parse_size(const std::string& text) {
  const std::string usage = "'" + text + "' is not a size (bytes, or a number with K, M, G or T: 512M, 1G)";
  std::size_t end = 0;
  while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) ++end;
  if (end == 0) return Status::error(usage);
  std::string number = text.substr(0, end);
  std::string unit = text.substr(end);
  for (const char* tail : {"iB", "ib", "B", "b"}) {
    const std::string t = tail;
    if (unit.size() > t.size() && unit.compare(unit.size() - t.size(), t.size(), t) == 0) {
      unit.resize(unit.size() - t.size());
      break;
    }
  }
  double scale = 1;
  if (unit == "K" || unit == "k") scale = 1024.0;
  else if (unit == "M" || unit == "m") scale = 1024.0 * 1024;
  else if (unit == "G" || unit == "g") scale = 1024.0 * 1024 * 1024;
  else if (unit == "T" || unit == "t") scale = 1024.0 * 1024 * 1024 * 1024;
  else if (!unit.empty() && unit != "B" && unit != "b") return Status::error(usage);
  char* stop = nullptr;
  errno = 0;
  const double v = std::strtod(number.c_str(), &stop);
  if (errno != 0 || stop == nullptr || *stop != '\0' || !std::isfinite(v)) return Status::error(usage);
  const double bytes = v * scale;
  if (bytes < 1) return Status::error("'" + text + "' must be more than 0 bytes");
  if (bytes > 1e18) return Status::error("'" + text + "' is too large");
  return static_cast<uint64_t>(bytes);
}

StatusOr<std::pair<unsigned, unsigned>> parse_autoscale_range(const std::string& text) {
  const std::string usage = "'" + text + "' is not MIN:MAX (worker counts, 1 <= MIN <= MAX: 1:8)";
  const std::size_t colon = text.find(':');
  if (colon == std::string::npos) return Status::error(usage);
  auto count = [](const std::string& part) -> std::optional<unsigned> {
    if (part.empty() || part.size() > 7 || part.find_first_not_of("0123456789") != std::string::npos) {
      return std::nullopt;
    }
    return static_cast<unsigned>(std::stoul(part));
  };
  auto lo = count(text.substr(0, colon));
  auto hi = count(text.substr(colon + 1));
  if (!lo || !hi || *lo < 1 || *hi < *lo) return Status::error(usage);
  return std::pair{*lo, *hi};
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
