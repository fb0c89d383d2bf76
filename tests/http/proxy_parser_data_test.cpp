// The PROXY header parser against tests/data/proxy (written by
// tests/data/proxy/make_cases.py): every valid/*.bin yields the header in
// its .json and consumes exactly the header's bytes, and says need-more for
// every shorter prefix (a header trickled byte by byte); every invalid/*.bin
// is refused with its reason, or (a truncated header) never completes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "case_json.hpp"
#include "data_cases.hpp"
#include "greenfork/worker/proxy/proxy_header_parser.hpp"

namespace greenfork::test {
namespace {

namespace fs = std::filesystem;
using worker::proxy::ProxyHeaderParser;
using worker::proxy::ProxyMode;
using worker::proxy::ProxyParse;

fs::path cases_dir() { return data_cases_dir("proxy"); }

std::vector<std::string> case_names(const std::string& kind) {
  return data_case_names("proxy", kind, ".bin");
}

ProxyMode mode_of(const JsonValue& doc) {
  const std::string& m = doc.at("mode").string;
  if (m == "v1") return ProxyMode::kV1;
  if (m == "v2") return ProxyMode::kV2;
  if (m == "auto") return ProxyMode::kAuto;
  throw std::runtime_error("unknown mode " + m);
}

TEST(ProxyParserData, CasesExist) {
  EXPECT_GE(case_names("valid").size(), 15u);
  EXPECT_GE(case_names("invalid").size(), 30u);
}

TEST(ProxyParserData, ValidCases) {
  for (const std::string& name : case_names("valid")) {
    SCOPED_TRACE("valid/" + name);
    const std::string data = read_file(cases_dir() / "valid" / (name + ".bin"));
    const JsonValue doc = parse_json(read_file(cases_dir() / "valid" / (name + ".json")));
    ProxyHeaderParser parser(mode_of(doc));
    const auto consumed = static_cast<size_t>(doc.at("consumed").number);
    for (size_t n = 0; n < consumed; ++n) {
      const ProxyParse r = parser.parse(std::string_view(data).substr(0, n));
      ASSERT_EQ(r.status, ProxyParse::kNeedMore) << "prefix of " << n << " bytes: "
                                                 << parser.error();
    }
    const ProxyParse r = parser.parse(data);
    ASSERT_EQ(r.status, ProxyParse::kComplete) << parser.error();
    EXPECT_EQ(r.consumed, consumed);
    const auto& h = parser.header();
    EXPECT_EQ(h.version, static_cast<int>(doc.at("version").number));
    EXPECT_EQ(h.local, doc.at("local").boolean);
    if (!h.local) {
      EXPECT_EQ(h.source_addr, doc.at("source").string);
      EXPECT_EQ(h.source_port, static_cast<uint16_t>(doc.at("source_port").number));
      EXPECT_EQ(h.dest_addr, doc.at("dest").string);
      EXPECT_EQ(h.dest_port, static_cast<uint16_t>(doc.at("dest_port").number));
    }
  }
}

TEST(ProxyParserData, InvalidCases) {
  for (const std::string& name : case_names("invalid")) {
    SCOPED_TRACE("invalid/" + name);
    const std::string data = read_file(cases_dir() / "invalid" / (name + ".bin"));
    const JsonValue doc = parse_json(read_file(cases_dir() / "invalid" / (name + ".json")));
    ProxyHeaderParser parser(mode_of(doc));
    const ProxyParse r = parser.parse(data);
    if (doc.at("result").string == "need_more") {
      EXPECT_EQ(r.status, ProxyParse::kNeedMore) << parser.error();
      for (size_t n = 0; n < data.size(); ++n) {
        EXPECT_EQ(parser.parse(std::string_view(data).substr(0, n)).status,
                  ProxyParse::kNeedMore);
      }
      continue;
    }
    ASSERT_EQ(r.status, ProxyParse::kError);
    EXPECT_NE(parser.error().find(doc.at("why").string), std::string::npos) << parser.error();
    // Refused as soon as the fault is in: never accepted on a longer input.
    EXPECT_EQ(parser.parse(data + "\r\n\r\n").status, ProxyParse::kError);
  }
}

}  // namespace
}  // namespace greenfork::test
