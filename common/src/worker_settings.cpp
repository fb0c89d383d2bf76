#include "greenfork/worker_settings.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>

namespace greenfork::worker_settings {
namespace {

std::string number_text(double v) {
  if (v == kUnbounded64) return "18446744073709551615";
  if (std::floor(v) == v) return std::to_string(static_cast<long long>(v));
  std::string t = std::to_string(v);
  while (t.back() == '0') t.pop_back();
  return t;
}

const std::map<std::string, const NumericRange*>& numeric_by_flag() {
  static const std::map<std::string, const NumericRange*> table = [] {
    std::map<std::string, const NumericRange*> t;
    for (const NumericRange* r :
         {&kThreads, &kWorkerConnections, &kKeepAlive, &kTimeout, &kGracefulTimeout, &kMaxRequests,
          &kMaxRequestsJitter, &kLimitRequestLine, &kLimitRequestFields, &kLimitRequestFieldSize,
          &kHeaderTimeout, &kBodyTimeout, &kWriteTimeout, &kBodyBufferSize, &kWsMaxSize,
          &kWsPingInterval, &kWsPingTimeout}) {
      t[r->flag] = r;
    }
    t["-t"] = &kTimeout;
    t["--limit-request-field-size"] = &kLimitRequestFieldSize;
    return t;
  }();
  return table;
}

template <std::size_t N>
std::string not_one_of(const std::string& value, const char* const (&names)[N]) {
  if (std::find(std::begin(names), std::end(names), value) != std::end(names)) return "";
  std::string list;
  for (const char* n : names) list += (list.empty() ? "" : ", ") + std::string(n);
  return "'" + value + "' is not one of " + list;
}

}  // namespace

std::string range_text(const NumericRange& r) { return number_text(r.min) + " to " + number_text(r.max); }

std::string out_of_range(const NumericRange& r, const std::string& s) {
  const std::string range = "(" + range_text(r) + ")";
  const bool digits = !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (r.whole && !digits) return "'" + s + "' is not a whole number " + range;
  errno = 0;
  char* end = nullptr;
  const double v = r.whole ? static_cast<double>(std::strtoull(s.c_str(), &end, 10)) : std::strtod(s.c_str(), &end);
  const bool parsed = !s.empty() && end == s.c_str() + s.size() && errno == 0 && std::isfinite(v);
  if (!parsed || v < r.min || v > r.max) return "'" + s + "' is out of range " + range;
  return "";
}

std::string check_worker_args(const std::vector<std::string>& args) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::string value;
    if (auto eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
    } else if (i + 1 < args.size()) {
      value = args[i + 1];
    }
    std::string why;
    if (auto it = numeric_by_flag().find(flag); it != numeric_by_flag().end()) {
      why = out_of_range(*it->second, value);
    } else if (flag == "-k" || flag == "--worker-class") {
      why = not_one_of(value, kWorkerClasses);
    } else if (flag == "--log-level") {
      why = not_one_of(value, kLogLevels);
    } else if (flag == "--ws-per-message-deflate") {
      why = not_one_of(value, kBooleans);
    } else if (flag == "--asgi-loop") {
      why = not_one_of(value, kAsgiLoops);
    } else if (flag == "--lifespan" || flag == "--asgi-lifespan") {
      why = not_one_of(value, kLifespans);
    }
    if (!why.empty()) return flag + ": " + why;
  }
  return "";
}

std::string parse_http_protocols(const std::string& text, HttpProtocols& out) {
  HttpProtocols p;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (item == "h1") {
      p.h1 = true;
    } else if (item == "h2") {
      p.h2 = true;
    } else if (item == "h3") {
      return "--http-protocols: h3 (HTTP/3 over QUIC) is not supported; use h1 and/or h2";
    } else {
      return "--http-protocols: '" + item + "' is not h1 or h2 (a comma list, e.g. h1,h2)";
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  out = p;
  return "";
}

}  // namespace greenfork::worker_settings
