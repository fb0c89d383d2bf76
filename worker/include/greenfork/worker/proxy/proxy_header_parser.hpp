// ProxyHeaderParser: an I/O-free parser for the PROXY protocol header
// (HAProxy's proxy-protocol.txt, v1 text and v2 binary) that a load
// balancer sends before the first byte of the proxied connection.
//
// parse() is given every byte received so far on the connection (the
// header is small: call it again with the longer buffer when it says
// kNeedMore) and answers
//   kNeedMore  what arrived is a prefix of a header the mode accepts;
//   kComplete  header() is valid; `consumed` bytes are the header, the
//              rest is the proxied stream (HTTP, TLS, ...);
//   kError     error() says why: no header where one is required, a
//              malformed one, or one longer than the protocol allows.
//
//   ProxyHeaderParser parser(ProxyMode::kAuto);
//   ProxyParse r = parser.parse(buffer);
//   if (r.status == ProxyParse::kComplete && !parser.header().local)
//     remote = parser.header().source_addr;
//
// v1: "PROXY TCP4|TCP6 <src> <dst> <sport> <dport>\r\n" (single spaces,
// addresses of the named family, ports 0-65535, at most 107 bytes) or
// "PROXY UNKNOWN ...\r\n". v2: the 12-byte signature, version 2, command
// LOCAL or PROXY, family AF_UNSPEC, AF_INET, AF_INET6 (AF_UNIX accepted,
// its addresses ignored), TLVs skipped. LOCAL, UNKNOWN and AF_UNSPEC mean
// "the connection's own peer stands" (header().local).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace greenfork::worker::proxy {

// Gunicorn 26.1's --proxy-protocol values (off is "no parser at all").
enum class ProxyMode { kV1, kV2, kAuto };

struct ProxyHeader {
  int version = 0;      // 1 or 2
  bool local = false;   // no addresses to use: keep the socket's peer
  int family = 0;       // AF_INET or AF_INET6 when !local
  std::string source_addr;
  uint16_t source_port = 0;
  std::string dest_addr;
  uint16_t dest_port = 0;
};

struct ProxyParse {
  enum Status { kNeedMore, kComplete, kError };
  Status status = kNeedMore;
  size_t consumed = 0;
};

class ProxyHeaderParser {
 public:
  static constexpr size_t kV1MaxLength = 107;
  static constexpr size_t kV2FixedLength = 16;
  // v2 allows 65535 bytes of addresses and TLVs; a connection's input
  // buffer holds 64 KiB, so longer headers are refused.
  static constexpr size_t kV2MaxPayload = 16 * 1024;

  explicit ProxyHeaderParser(ProxyMode mode) : mode_(mode) {}

  ProxyParse parse(std::string_view data);
  const ProxyHeader& header() const { return header_; }
  const std::string& error() const { return error_; }

 private:
  ProxyParse parse_v1(std::string_view data);
  ProxyParse parse_v2(std::string_view data);
  ProxyParse fail(std::string reason);

  ProxyMode mode_;
  ProxyHeader header_;
  std::string error_;
};

}  // namespace greenfork::worker::proxy
