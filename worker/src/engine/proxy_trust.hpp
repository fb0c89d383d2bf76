// ProxyTrust: which peers' X-Forwarded-* headers are believed
// (--forwarded-allow-ips, Gunicorn's forwarded_allow_ips), and what they
// change in a Request: X-Forwarded-Proto https makes url_scheme "https",
// the last X-Forwarded-For entry becomes remote_addr. Entries are
// addresses or CIDR ranges (Gunicorn 24.1). Peers on a unix
// socket are a local proxy and always trusted.
//
//   ProxyTrust trust({"127.0.0.1", "::1"});
//   trust.apply(request);   // after remote_addr and unix_socket are set
#pragma once

#include <string>
#include <vector>

#include "greenfork/worker/app.hpp"
#include "greenfork/worker/proxy/address_allow_list.hpp"

namespace greenfork::worker {

class ProxyTrust {
 public:
  // Addresses and CIDR ranges (AddressAllowList); entries that are neither
  // are ignored (the options refuse them before the engine starts).
  explicit ProxyTrust(const std::vector<std::string>& allowed);

  // "*" trusts everyone; an IPv4-mapped IPv6 peer matches its IPv4 entry.
  bool trusts(const std::string& peer, bool unix_socket) const;
  // Applies the forwarded headers when the request's peer is trusted.
  void apply(Request& request) const;

 private:
  proxy::AddressAllowList allowed_;
};

}  // namespace greenfork::worker
