#include "greenfork/worker/proxy/address_allow_list.hpp"

#include <arpa/inet.h>

#include <cstring>

namespace greenfork::worker::proxy {

namespace {

// An address as 16 bytes (IPv4 mapped into ::ffff:0:0/96); false when
// `text` is no IP address. `v4` says which it was.
bool to_bytes(std::string_view text, std::array<uint8_t, 16>& out, bool& v4) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  char buf[INET6_ADDRSTRLEN] = {0};
  std::memcpy(buf, text.data(), text.size());
  in_addr a4{};
  if (::inet_pton(AF_INET, buf, &a4) == 1) {
    out.fill(0);
    out[10] = 0xff;
    out[11] = 0xff;
    std::memcpy(out.data() + 12, &a4, 4);
    v4 = true;
    return true;
  }
  in6_addr a6{};
  if (::inet_pton(AF_INET6, buf, &a6) == 1) {
    std::memcpy(out.data(), &a6, 16);
    v4 = false;
    return true;
  }
  return false;
}

bool parse_prefix(std::string_view text, int max, int& out) {
  if (text.empty() || text.size() > 3) return false;
  int n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  if (n > max) return false;
  out = n;
  return true;
}

}  // namespace

bool AddressAllowList::parse(const std::vector<std::string>& entries, AddressAllowList& out,
                             std::string& error) {
  AddressAllowList list;
  for (const std::string& entry : entries) {
    if (entry == "*") {
      list.all_ = true;
      continue;
    }
    const std::string_view text = entry;
    const size_t slash = text.find('/');
    Network net;
    bool v4 = false;
    if (!to_bytes(text.substr(0, slash), net.bytes, v4)) {
      error = "'" + entry + "' is not an IP address or CIDR range";
      return false;
    }
    net.prefix = 128;
    if (slash != std::string_view::npos) {
      int prefix = 0;
      if (!parse_prefix(text.substr(slash + 1), v4 ? 32 : 128, prefix)) {
        error = "'" + entry + "' has a bad prefix length";
        return false;
      }
      net.prefix = v4 ? prefix + 96 : prefix;
    }
    for (int bit = net.prefix; bit < 128; ++bit) {
      net.bytes[bit / 8] &= static_cast<uint8_t>(~(0x80u >> (bit % 8)));
    }
    list.networks_.push_back(net);
  }
  out = std::move(list);
  return true;
}

bool AddressAllowList::allows(std::string_view address) const {
  if (all_) return true;
  std::array<uint8_t, 16> peer{};
  bool v4 = false;
  if (!to_bytes(address, peer, v4)) return false;
  for (const Network& net : networks_) {
    const int whole = net.prefix / 8;
    if (std::memcmp(peer.data(), net.bytes.data(), static_cast<size_t>(whole)) != 0) continue;
    const int rest = net.prefix % 8;
    if (rest != 0) {
      const auto mask = static_cast<uint8_t>(0xffu << (8 - rest));
      if ((peer[whole] & mask) != net.bytes[whole]) continue;
    }
    return true;
  }
  return false;
}

}  // namespace greenfork::worker::proxy
