#include "engine/proxy_trust.hpp"

#include <string_view>

#include "greenfork/http_token.hpp"

namespace greenfork::worker {

ProxyTrust::ProxyTrust(const std::vector<std::string>& allowed) {
  std::string ignored;
  if (!proxy::AddressAllowList::parse(allowed, allowed_, ignored)) {
    std::vector<std::string> valid;
    for (const std::string& entry : allowed) {
      proxy::AddressAllowList one;
      if (proxy::AddressAllowList::parse({entry}, one, ignored)) valid.push_back(entry);
    }
    proxy::AddressAllowList::parse(valid, allowed_, ignored);
  }
}

bool ProxyTrust::trusts(const std::string& peer, bool unix_socket) const {
  return unix_socket || allowed_.allows(peer);
}

void ProxyTrust::apply(Request& r) const {
  // The headers first: most requests carry neither, and parsing the peer's
  // address to match it costs more than looking.
  const Header* proto = nullptr;
  const Header* xff = nullptr;
  for (const Header& h : r.headers) {  // the first of each, as find_header()
    if (proto == nullptr && h.name.size() == 17 && http_token::iequals(h.name, "x-forwarded-proto")) {
      proto = &h;
    } else if (xff == nullptr && h.name.size() == 15 &&
               http_token::iequals(h.name, "x-forwarded-for")) {
      xff = &h;
    }
  }
  if ((proto == nullptr && xff == nullptr) || !trusts(r.remote_addr, r.unix_socket)) return;
  if (proto != nullptr) {
    const std::string_view v = http_token::trim(proto->value);
    if (v == "https" || v == "HTTPS") r.url_scheme = "https";
  }
  if (xff != nullptr) {
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
