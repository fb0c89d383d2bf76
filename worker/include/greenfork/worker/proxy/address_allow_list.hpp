// AddressAllowList: which peer addresses a setting trusts — Gunicorn 24.1's
// --forwarded-allow-ips / --proxy-allow-from syntax: comma-separated IPv4
// and IPv6 addresses and CIDR ranges, "*" for everyone.
//
//   AddressAllowList list;
//   std::string error;
//   if (!AddressAllowList::parse({"127.0.0.1", "10.0.0.0/8", "::1"}, list, error)) exit(2);
//   list.allows("10.1.2.3");          // true
//   list.allows("::ffff:10.1.2.3");   // true: an IPv4-mapped IPv6 peer
//
// IPv4 is held as IPv4-mapped IPv6 (::ffff:a.b.c.d/96+n), so an IPv4 entry
// matches an IPv4-mapped IPv6 peer (a dual-stack listener's) and the other
// way round. A range with host bits set is taken as its network
// (10.1.2.3/8 = 10.0.0.0/8). A peer that is not an IP address (a unix
// socket's) matches only "*".
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace greenfork::worker::proxy {

class AddressAllowList {
 public:
  // False with `error` naming the first entry that is neither "*", an
  // address nor a range.
  static bool parse(const std::vector<std::string>& entries, AddressAllowList& out,
                    std::string& error);
  bool allows(std::string_view address) const;
  bool allows_all() const { return all_; }

 private:
  struct Network {
    std::array<uint8_t, 16> bytes{};
    int prefix = 128;
  };
  std::vector<Network> networks_;
  bool all_ = false;
};

}  // namespace greenfork::worker::proxy
