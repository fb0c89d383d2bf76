// The uwsgi packet parser against tests/data/uwsgi (written by
// tests/data/uwsgi/make_cases.py): every valid/*.bin yields the variables
// and the request in its .json, consumes exactly the packet's bytes and
// says need-more for every shorter prefix (a packet trickled byte by byte);
// every invalid/*.bin is refused with its reason (by the parser, or by
// to_request() for variables that are no request), or never completes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "case_json.hpp"
#include "data_cases.hpp"
#include "greenfork/worker/uwsgi/uwsgi_parser.hpp"

namespace greenfork::test {
namespace {

using worker::uwsgi::UwsgiParse;
using worker::uwsgi::UwsgiParser;

std::filesystem::path cases_dir() { return data_cases_dir("uwsgi"); }

std::vector<std::string> case_names(const std::string& kind) {
  return data_case_names("uwsgi", kind, ".bin");
}

TEST(UwsgiParserData, CasesExist) {
  EXPECT_GE(case_names("valid").size(), 10u);
  EXPECT_GE(case_names("invalid").size(), 20u);
}

TEST(UwsgiParserData, ValidCases) {
  for (const std::string& name : case_names("valid")) {
    SCOPED_TRACE("valid/" + name);
    const std::string data = read_file(cases_dir() / "valid" / (name + ".bin"));
    const JsonValue doc = parse_json(read_file(cases_dir() / "valid" / (name + ".json")));
    UwsgiParser parser;
    const auto consumed = static_cast<size_t>(doc.at("consumed").number);
    for (size_t n = 0; n < consumed; ++n) {
      const UwsgiParse r = parser.parse(std::string_view(data).substr(0, n));
      ASSERT_EQ(r.status, UwsgiParse::kNeedMore) << "prefix of " << n << ": " << parser.error();
    }
    const UwsgiParse r = parser.parse(data);
    ASSERT_EQ(r.status, UwsgiParse::kComplete) << parser.error();
    EXPECT_EQ(r.consumed, consumed);
    const auto& want_vars = doc.at("vars").array;
    ASSERT_EQ(parser.vars().size(), want_vars.size());
    for (size_t i = 0; i < want_vars.size(); ++i) {
      EXPECT_EQ(parser.vars()[i].first, want_vars[i].array.at(0).string);
      EXPECT_EQ(parser.vars()[i].second, want_vars[i].array.at(1).string);
    }
    auto req = worker::uwsgi::to_request(parser.vars());
    ASSERT_TRUE(req.ok()) << req.status().message();
    const JsonValue& want = doc.at("request");
    EXPECT_EQ(req->method, want.at("method").string);
    EXPECT_EQ(req->target, want.at("target").string);
    EXPECT_EQ(req->http_major, 1);
    EXPECT_EQ(req->http_minor, static_cast<int>(want.at("http_minor").number));
    const auto& headers = want.at("headers").array;
    ASSERT_EQ(req->headers.size(), headers.size());
    for (size_t i = 0; i < headers.size(); ++i) {
      EXPECT_EQ(req->headers[i].name, headers[i].array.at(0).string);
      EXPECT_EQ(req->headers[i].value, headers[i].array.at(1).string);
    }
    const JsonValue& cl = want.at("content_length");
    EXPECT_EQ(req->content_length.has_value(), cl.kind == JsonValue::Kind::kNumber);
    if (req->content_length) {
      EXPECT_EQ(*req->content_length, static_cast<uint64_t>(cl.number));
    }
    EXPECT_EQ(req->remote_addr, want.at("remote_addr").string);
    const JsonValue& port = want.at("remote_port");
    EXPECT_EQ(req->remote_port.has_value(), port.kind == JsonValue::Kind::kNumber);
    if (req->remote_port) {
      EXPECT_EQ(*req->remote_port, static_cast<uint16_t>(port.number));
    }
    EXPECT_EQ(req->server_name, want.at("server_name").string);
    EXPECT_EQ(req->server_port, want.at("server_port").string);
    const JsonValue& scheme = want.at("scheme");
    EXPECT_EQ(req->scheme.has_value(), scheme.kind == JsonValue::Kind::kString);
    if (req->scheme) {
      EXPECT_EQ(*req->scheme, scheme.string);
    }
  }
}

TEST(UwsgiParserData, InvalidCases) {
  for (const std::string& name : case_names("invalid")) {
    SCOPED_TRACE("invalid/" + name);
    const std::string data = read_file(cases_dir() / "invalid" / (name + ".bin"));
    const JsonValue doc = parse_json(read_file(cases_dir() / "invalid" / (name + ".json")));
    UwsgiParser parser;
    const UwsgiParse r = parser.parse(data);
    const std::string& result = doc.at("result").string;
    if (result == "need_more") {
      EXPECT_EQ(r.status, UwsgiParse::kNeedMore) << parser.error();
      continue;
    }
    if (result == "bad_request") {
      ASSERT_EQ(r.status, UwsgiParse::kComplete) << parser.error();
      auto req = worker::uwsgi::to_request(parser.vars());
      ASSERT_FALSE(req.ok());
      EXPECT_NE(req.status().message().find(doc.at("why").string), std::string::npos)
          << req.status().message();
      continue;
    }
    ASSERT_EQ(r.status, UwsgiParse::kError);
    EXPECT_NE(parser.error().find(doc.at("why").string), std::string::npos) << parser.error();
    // Refused as soon as the fault is in: never accepted on a longer input.
    EXPECT_EQ(parser.parse(data + std::string(70000, '\0')).status, UwsgiParse::kError);
  }
}

TEST(UwsgiParser, LimitsComeFromTheSettings) {
  worker::uwsgi::UwsgiLimits limits;
  limits.vars = 2;
  UwsgiParser parser(limits);
  // Three one-byte variables: a=b, c=d, e=f.
  const std::string block = std::string("\x01\x00" "a\x01\x00" "b\x01\x00" "c\x01\x00" "d"
                                        "\x01\x00" "e\x01\x00" "f", 18);
  const std::string packet = std::string("\x00", 1) + static_cast<char>(block.size()) +
                             std::string("\x00\x00", 2) + block;
  EXPECT_EQ(parser.parse(packet).status, UwsgiParse::kError);
  EXPECT_NE(parser.error().find("more than 2 variables"), std::string::npos);
}

}  // namespace
}  // namespace greenfork::test
