// AddressAllowList (CIDR ranges for --proxy-allow-from and
// --forwarded-allow-ips), ProxyTrust on top of it, and the PROXY header
// parser's API (what the data files cannot say).
#include <gtest/gtest.h>

#include <string>

#include "engine/proxy_trust.hpp"
#include "greenfork/worker/proxy/address_allow_list.hpp"
#include "greenfork/worker/proxy/proxy_header_parser.hpp"

namespace greenfork::worker::proxy {
namespace {

AddressAllowList make(const std::vector<std::string>& entries) {
  AddressAllowList list;
  std::string error;
  EXPECT_TRUE(AddressAllowList::parse(entries, list, error)) << error;
  return list;
}

std::string refusal(const std::vector<std::string>& entries) {
  AddressAllowList list;
  std::string error;
  EXPECT_FALSE(AddressAllowList::parse(entries, list, error));
  return error;
}

TEST(AddressAllowList, SingleAddresses) {
  const AddressAllowList list = make({"127.0.0.1", "::1"});
  EXPECT_TRUE(list.allows("127.0.0.1"));
  EXPECT_TRUE(list.allows("::1"));
  EXPECT_FALSE(list.allows("127.0.0.2"));
  EXPECT_FALSE(list.allows("::2"));
  EXPECT_FALSE(list.allows(""));
  EXPECT_FALSE(list.allows("localhost"));
}

TEST(AddressAllowList, Ipv4Ranges) {
  const AddressAllowList list = make({"10.0.0.0/8", "192.168.1.128/25", "172.16.0.1/32"});
  EXPECT_TRUE(list.allows("10.0.0.0"));
  EXPECT_TRUE(list.allows("10.255.255.255"));
  EXPECT_FALSE(list.allows("11.0.0.0"));
  EXPECT_FALSE(list.allows("9.255.255.255"));
  EXPECT_TRUE(list.allows("192.168.1.128"));
  EXPECT_TRUE(list.allows("192.168.1.255"));
  EXPECT_FALSE(list.allows("192.168.1.127"));
  EXPECT_TRUE(list.allows("172.16.0.1"));
  EXPECT_FALSE(list.allows("172.16.0.2"));
}

TEST(AddressAllowList, Ipv6Ranges) {
  const AddressAllowList list = make({"2001:db8::/32", "fd00::/7", "fe80::1/128"});
  EXPECT_TRUE(list.allows("2001:db8::1"));
  EXPECT_TRUE(list.allows("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_FALSE(list.allows("2001:db9::1"));
  EXPECT_TRUE(list.allows("fc00::1"));
  EXPECT_TRUE(list.allows("fdff::1"));
  EXPECT_FALSE(list.allows("fe00::1"));
  EXPECT_TRUE(list.allows("fe80::1"));
  EXPECT_FALSE(list.allows("fe80::2"));
  EXPECT_FALSE(list.allows("10.0.0.1"));
}

TEST(AddressAllowList, Ipv4MappedIpv6) {
  // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d.
  const AddressAllowList v4 = make({"10.1.0.0/16", "127.0.0.1"});
  EXPECT_TRUE(v4.allows("::ffff:10.1.2.3"));
  EXPECT_TRUE(v4.allows("::ffff:127.0.0.1"));
  EXPECT_FALSE(v4.allows("::ffff:10.2.0.1"));
  EXPECT_FALSE(v4.allows("::10.1.2.3"));  // IPv4-compatible, not mapped
  // And a mapped entry matches the plain IPv4 peer.
  const AddressAllowList mapped = make({"::ffff:192.0.2.0/120"});
  EXPECT_TRUE(mapped.allows("192.0.2.77"));
  EXPECT_FALSE(mapped.allows("192.0.3.1"));
}

TEST(AddressAllowList, StarAndZeroPrefix) {
  EXPECT_TRUE(make({"*"}).allows("203.0.113.9"));
  EXPECT_TRUE(make({"*"}).allows("not an address"));
  EXPECT_TRUE(make({"0.0.0.0/0"}).allows("203.0.113.9"));
  EXPECT_FALSE(make({"0.0.0.0/0"}).allows("2001:db8::1"));
  EXPECT_TRUE(make({"::/0"}).allows("2001:db8::1"));
  EXPECT_FALSE(make({}).allows("127.0.0.1"));
}

TEST(AddressAllowList, HostBitsAreMaskedOff) {
  const AddressAllowList list = make({"10.1.2.3/8"});
  EXPECT_TRUE(list.allows("10.200.0.1"));
}

TEST(AddressAllowList, RefusesWhatIsNoAddress) {
  EXPECT_NE(refusal({"127.0.0.1", "example.com"}).find("'example.com'"), std::string::npos);
  EXPECT_NE(refusal({"10.0.0.0/33"}).find("prefix"), std::string::npos);
  EXPECT_NE(refusal({"::/129"}).find("prefix"), std::string::npos);
  EXPECT_NE(refusal({"10.0.0.0/"}).find("prefix"), std::string::npos);
  EXPECT_NE(refusal({"10.0.0.0/-1"}).find("prefix"), std::string::npos);
  EXPECT_NE(refusal({"10.0.0.0/8/8"}).find("prefix"), std::string::npos);
  EXPECT_NE(refusal({"1.2.3"}).find("'1.2.3'"), std::string::npos);
}

TEST(ProxyTrustCidr, ForwardedAllowIpsTakesRanges) {
  const worker::ProxyTrust trust({"10.0.0.0/8", "2001:db8::/32"});
  EXPECT_TRUE(trust.trusts("10.9.8.7", false));
  EXPECT_TRUE(trust.trusts("::ffff:10.9.8.7", false));
  EXPECT_TRUE(trust.trusts("2001:db8::5", false));
  EXPECT_FALSE(trust.trusts("127.0.0.1", false));
  EXPECT_TRUE(trust.trusts("", true));  // a unix socket's peer: a local proxy
}

TEST(ProxyHeaderParser, EmptyInputNeedsMore) {
  ProxyHeaderParser parser(ProxyMode::kAuto);
  EXPECT_EQ(parser.parse("").status, ProxyParse::kNeedMore);
}

TEST(ProxyHeaderParser, ReusedForALongerBuffer) {
  ProxyHeaderParser parser(ProxyMode::kAuto);
  const std::string line = "PROXY TCP4 1.2.3.4 5.6.7.8 10 20\r\n";
  EXPECT_EQ(parser.parse(line.substr(0, 10)).status, ProxyParse::kNeedMore);
  const ProxyParse r = parser.parse(line + "GET");
  ASSERT_EQ(r.status, ProxyParse::kComplete);
  EXPECT_EQ(r.consumed, line.size());
  EXPECT_EQ(parser.header().source_addr, "1.2.3.4");
  EXPECT_EQ(parser.header().source_port, 10);
}

}  // namespace
}  // namespace greenfork::worker::proxy
