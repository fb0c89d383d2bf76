#include "greenfork/worker/http/request_target.hpp"

namespace greenfork::worker::http {

namespace {

// Length of "scheme://" when `target` is in absolute-form, else 0.
size_t scheme_prefix(std::string_view target) {
  const size_t colon = target.find("://");
  if (colon == std::string_view::npos || colon == 0) return 0;
  for (size_t i = 0; i < colon; ++i) {
    const char c = target[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                    (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
    if (!ok) return 0;
  }
  return colon + 3;
}

}  // namespace

bool valid_target_form(std::string_view target, bool options) {
  if (target.empty()) return false;
  if (target.front() == '/') return true;
  if (target == "*") return options;
  const size_t prefix = scheme_prefix(target);
  if (prefix == 0) return false;
  const std::string_view rest = target.substr(prefix);
  return !rest.empty() && rest.front() != '/' && rest.front() != '?' && rest.front() != '#';
}

TargetParts split_request_target(std::string_view target) {
  if (target.empty() || target.front() != '/') {
    if (const size_t prefix = scheme_prefix(target); prefix != 0) {
      // The authority runs to the first '/', '?' or '#'.
      const size_t end = target.find_first_of("/?#", prefix);
      target = end == std::string_view::npos ? std::string_view() : target.substr(end);
    }
  }
  if (const size_t hash = target.find('#'); hash != std::string_view::npos) {
    target = target.substr(0, hash);
  }
  TargetParts parts;
  const size_t q = target.find('?');
  parts.path.assign(target.substr(0, q));
  if (q != std::string_view::npos) parts.query.assign(target.substr(q + 1));
  if (parts.path.empty()) parts.path = "/";
  return parts;
}

}  // namespace greenfork::worker::http
