#include "greenfork/worker/proxy/proxy_header_parser.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <vector>

namespace greenfork::worker::proxy {

namespace {

constexpr std::string_view kV1Prefix = "PROXY ";
constexpr std::string_view kV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};

// `data` is a (possibly partial) prefix of `whole`.
bool starts_as(std::string_view data, std::string_view whole) {
  const size_t n = std::min(data.size(), whole.size());
  return data.substr(0, n) == whole.substr(0, n);
}

std::vector<std::string_view> split_spaces(std::string_view line) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t space = line.find(' ', start);
    parts.push_back(line.substr(start, space == std::string_view::npos ? space : space - start));
    if (space == std::string_view::npos) return parts;
    start = space + 1;
  }
}

bool parse_port(std::string_view text, uint16_t& out) {
  if (text.empty() || text.size() > 5) return false;
  uint32_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<uint32_t>(c - '0');
  }
  if (n > 65535) return false;
  out = static_cast<uint16_t>(n);
  return true;
}

// A v1 address of `family`, kept in its canonical text form.
bool parse_address(std::string_view text, int family, std::string& out) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return false;
  char buf[INET6_ADDRSTRLEN] = {0};
  std::memcpy(buf, text.data(), text.size());
  unsigned char addr[sizeof(in6_addr)];
  if (::inet_pton(family, buf, addr) != 1) return false;
  char canonical[INET6_ADDRSTRLEN] = {0};
  ::inet_ntop(family, addr, canonical, sizeof canonical);
  out = canonical;
  return true;
}

std::string address_text(int family, const unsigned char* bytes) {
  char text[INET6_ADDRSTRLEN] = {0};
  ::inet_ntop(family, bytes, text, sizeof text);
  return text;
}

uint16_t read_u16(const unsigned char* p) {
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

}  // namespace

ProxyParse ProxyHeaderParser::fail(std::string reason) {
  error_ = std::move(reason);
  return {ProxyParse::kError, 0};
}

ProxyParse ProxyHeaderParser::parse(std::string_view data) {
  header_ = ProxyHeader{};
  error_.clear();
  const bool v1 = mode_ != ProxyMode::kV2;
  const bool v2 = mode_ != ProxyMode::kV1;
  if (v2 && starts_as(data, kV2Signature)) {
    return data.size() < kV2Signature.size() ? ProxyParse{} : parse_v2(data);
  }
  if (v1 && starts_as(data, kV1Prefix)) {
    return data.size() < kV1Prefix.size() ? ProxyParse{} : parse_v1(data);
  }
  if (data.empty()) return {};
  return fail(mode_ == ProxyMode::kV1   ? "no PROXY protocol v1 header"
              : mode_ == ProxyMode::kV2 ? "no PROXY protocol v2 header"
                                        : "no PROXY protocol header");
}

ProxyParse ProxyHeaderParser::parse_v1(std::string_view data) {
  const size_t crlf = data.substr(0, kV1MaxLength).find("\r\n");
  if (crlf == std::string_view::npos) {
    // A bare LF or CR inside the line is refused at once, not at 107 bytes.
    const std::string_view seen = data.substr(0, std::min(data.size(), kV1MaxLength));
    const size_t bad = seen.find_first_of("\r\n");
    if (bad != std::string_view::npos && !(bad + 1 == seen.size() && seen[bad] == '\r')) {
      return fail("PROXY v1 line has a bare CR or LF");
    }
    if (data.size() >= kV1MaxLength) return fail("PROXY v1 line longer than 107 bytes");
    return {};
  }
  const std::string_view line = data.substr(kV1Prefix.size(), crlf - kV1Prefix.size());
  if (line.find_first_of("\r\n") != std::string_view::npos) {
    return fail("PROXY v1 line has a bare CR or LF");
  }
  const ProxyParse done{ProxyParse::kComplete, crlf + 2};
  header_.version = 1;
  const std::vector<std::string_view> parts = split_spaces(line);
  if (parts[0] == "UNKNOWN") {
    // The sender could not tell the addresses: whatever follows is ignored.
    header_.local = true;
    return done;
  }
  int family = 0;
  if (parts[0] == "TCP4") family = AF_INET;
  if (parts[0] == "TCP6") family = AF_INET6;
  if (family == 0) return fail("PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN");
  if (parts.size() != 5) return fail("PROXY v1 line does not have 5 fields");
  if (!parse_address(parts[1], family, header_.source_addr) ||
      !parse_address(parts[2], family, header_.dest_addr)) {
    return fail("PROXY v1 address is not a " + std::string(parts[0]) + " address");
  }
  if (!parse_port(parts[3], header_.source_port) || !parse_port(parts[4], header_.dest_port)) {
    return fail("PROXY v1 port is not a number from 0 to 65535");
  }
  header_.family = family;
  return done;
}

ProxyParse ProxyHeaderParser::parse_v2(std::string_view data) {
  if (data.size() < kV2FixedLength) return {};
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  if ((p[12] >> 4) != 2) return fail("PROXY v2 header has version " + std::to_string(p[12] >> 4));
  const int command = p[12] & 0x0f;
  if (command > 1) return fail("PROXY v2 command is neither LOCAL nor PROXY");
  const int family = p[13] >> 4;
  const int transport = p[13] & 0x0f;
  const size_t length = read_u16(p + 14);
  if (length > kV2MaxPayload) return fail("PROXY v2 header longer than 16 KiB");
  if (data.size() < kV2FixedLength + length) return {};
  const ProxyParse done{ProxyParse::kComplete, kV2FixedLength + length};
  header_.version = 2;
  const unsigned char* addr = p + kV2FixedLength;
  if (command == 0) {
    // LOCAL (the proxy's own health check): whatever the family byte and
    // address block say is discarded; the connection's endpoints stand.
    header_.local = true;
    return done;
  }
  if (family > 3 || transport > 2) return fail("PROXY v2 address family or transport unknown");
  if (family == 0 || family == 3 || transport == 0) {
    // AF_UNSPEC, AF_UNIX or an unspecified transport: the connection's
    // own endpoints stand.
    header_.local = true;
    return done;
  }
  if (transport != 1) return fail("PROXY v2 transport is not STREAM");
  // The address block: source and destination address, then their ports.
  const bool v4 = family == 1;
  const size_t bytes = v4 ? 4 : 16;
  if (length < 2 * bytes + 4) {
    return fail(v4 ? "PROXY v2 AF_INET addresses truncated" : "PROXY v2 AF_INET6 addresses truncated");
  }
  header_.family = v4 ? AF_INET : AF_INET6;
  header_.source_addr = address_text(header_.family, addr);
  header_.dest_addr = address_text(header_.family, addr + bytes);
  header_.source_port = read_u16(addr + 2 * bytes);
  header_.dest_port = read_u16(addr + 2 * bytes + 2);
  return done;
}

}  // namespace greenfork::worker::proxy
