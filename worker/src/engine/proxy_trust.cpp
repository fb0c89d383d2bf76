#include "engine/proxy_trust.hpp"

#include <string_view>

#include "greenfork/http_token.hpp"

namespace greenfork::worker {

bool ProxyTrust::trusts(const std::string& peer, bool unix_socket) const {
  if (unix_socket) return true;
  for (const std::string& allowed : allowed_) {
    if (allowed == "*" || allowed == peer) return true;
    if (peer.rfind("::ffff:", 0) == 0 && allowed == peer.substr(7)) return true;
  }
  return false;
}

void ProxyTrust::apply(Request& r) const {
  if (!trusts(r.remote_addr, r.unix_socket)) return;
  if (const Header* proto = r.find_header("x-forwarded-proto")) {
    const std::string_view v = http_token::trim(proto->value);
    if (v == "https" || v == "HTTPS") r.url_scheme = "https";
  }
  if (const Header* xff = r.find_header("x-forwarded-for")) {
    std::string_view v = xff->value;
    const size_t comma = v.rfind(',');
    if (comma != std::string_view::npos) v.remove_prefix(comma + 1);
    v = http_token::trim(v);
    if (!v.empty()) {
      r.remote_addr.assign(v);
      r.remote_port = 0;
    }
  }
}

}  // namespace greenfork::worker
