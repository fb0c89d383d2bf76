// The request parser against the data files in tests/data/http (written by
// tests/data/http/make_cases.py): every valid/*.http yields exactly the
// requests in its .json, every invalid/*.http is refused with its status,
// whatever way the bytes are cut: whole, byte by byte, seeded random splits,
// and (for files up to 2 KiB) every cut into two pieces.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "case_json.hpp"
#include "data_cases.hpp"
#include "parse_runner.hpp"

namespace greenfork::test {
namespace {

namespace fs = std::filesystem;
using worker::http::ParserLimits;

fs::path cases_dir() { return data_cases_dir("http"); }

std::vector<std::string> case_names(const std::string& kind) {
  return data_case_names("http", kind, ".http");
}

ParserLimits limits_of(const JsonValue& doc) {
  ParserLimits limits;
  if (!doc.has("limits")) return limits;
  for (const auto& [key, value] : doc.at("limits").object) {
    auto n = static_cast<uint64_t>(value.number);
    if (key == "request_line") limits.request_line = n;
    else if (key == "fields") limits.fields = n;
    else if (key == "field_size") limits.field_size = n;
    else if (key == "body") limits.body = n;
    else throw std::runtime_error("unknown limit " + key);
  }
  return limits;
}

std::vector<Field> fields_from(const JsonValue& list) {
  std::vector<Field> out;
  for (const auto& pair : list.array) out.emplace_back(pair.array.at(0).string, pair.array.at(1).string);
  return out;
}

ParsedRequest request_from(const JsonValue& r) {
  ParsedRequest req;
  req.method = r.at("method").string;
  req.target = r.at("target").string;
  req.version = r.at("version").string;
  req.headers = fields_from(r.at("headers"));
  req.body = r.has("body_b64") ? decode_base64(r.at("body_b64").string) : r.at("body").string;
  req.trailers = fields_from(r.at("trailers"));
  req.keep_alive = r.at("keep_alive").boolean;
  return req;
}

struct Split {
  std::string label;
  std::vector<size_t> sizes;
};

// The ways every file is cut. The seed depends on the name so each file gets
// its own (reproducible) random cuts.
std::vector<Split> splits_for(const std::string& name, size_t n) {
  std::vector<Split> out;
  out.push_back({"whole", {n}});
  out.push_back({"byte by byte", std::vector<size_t>(n, 1)});
  auto seed = static_cast<uint32_t>(std::hash<std::string>{}(name));
  for (uint32_t k = 0; k < 6; ++k) {
    size_t max_piece = k < 3 ? 7 : 200;
    out.push_back({"random split seed " + std::to_string(seed + k) + " max " +
                       std::to_string(max_piece),
                   random_split(n, seed + k, max_piece)});
  }
  size_t step = n <= 2048 ? 1 : n / 64;
  for (size_t cut = 1; cut < n; cut += step) {
    out.push_back({"two pieces cut at " + std::to_string(cut), {cut, n - cut}});
  }
  return out;
}

class ValidCase : public testing::TestWithParam<std::string> {};
class InvalidCase : public testing::TestWithParam<std::string> {};

TEST_P(ValidCase, YieldsExpectedRequests) {
  const std::string name = GetParam();
  const fs::path base = cases_dir() / "valid" / name;
  const std::string bytes = read_file(base.string() + ".http");
  const JsonValue doc = parse_json(read_file(base.string() + ".json"));
  std::vector<ParsedRequest> expected;
  for (const auto& r : doc.at("requests").array) expected.push_back(request_from(r));
  ASSERT_FALSE(expected.empty()) << "case lists no request";
  const ParserLimits limits = limits_of(doc);

  for (const Split& split : splits_for(name, bytes.size())) {
    SCOPED_TRACE("valid/" + name + ".http fed " + split.label);
    ParseOutcome got = run_parser(bytes, split.sizes, limits);
    EXPECT_EQ(got.contract_violation, "");
    EXPECT_EQ(got.error_status, 0) << "refused: " << got.error_reason;
    EXPECT_EQ(got.requests, expected) << "got " << got;
    EXPECT_TRUE(got.idle_at_end) << "parser not idle after the last complete message";
    if (HasFailure()) break;  // one failing cut says it all
  }
}

TEST_P(InvalidCase, RefusedWithExpectedStatus) {
  const std::string name = GetParam();
  const fs::path base = cases_dir() / "invalid" / name;
  const std::string bytes = read_file(base.string() + ".http");
  const JsonValue doc = parse_json(read_file(base.string() + ".json"));
  const int status = static_cast<int>(doc.at("status").number);
  const std::string why = doc.at("why").string;
  const bool in_body = doc.has("in_body") && doc.at("in_body").boolean;
  const ParserLimits limits = limits_of(doc);

  for (const Split& split : splits_for(name, bytes.size())) {
    SCOPED_TRACE("invalid/" + name + ".http (" + why + ") fed " + split.label);
    ParseOutcome got = run_parser(bytes, split.sizes, limits);
    EXPECT_EQ(got.contract_violation, "");
    EXPECT_EQ(got.error_status, status)
        << "expected " << status << " for: " << why << "\n  got " << got;
    EXPECT_TRUE(got.requests.empty()) << "a refused message completed: " << got;
    if (!in_body) {
      EXPECT_FALSE(got.head_of_failed_message)
          << "the head reached the caller (kHead) before the refusal";
    }
    if (HasFailure()) break;
  }
}

INSTANTIATE_TEST_SUITE_P(Http, ValidCase, testing::ValuesIn(case_names("valid")),
                         [](const auto& case_info) { return case_info.param; });
INSTANTIATE_TEST_SUITE_P(Http, InvalidCase, testing::ValuesIn(case_names("invalid")),
                         [](const auto& case_info) { return case_info.param; });

// The suite is only as good as its data: both folders are populated, every
// .http has its .json and the other way round.
TEST(ParserCases, DataFilesArePresentAndPaired) {
  EXPECT_GE(case_names("valid").size(), 30u) << "in " << cases_dir();
  EXPECT_GE(case_names("invalid").size(), 60u) << "in " << cases_dir();
  for (const std::string kind : {"valid", "invalid"}) {
    for (const auto& e : fs::directory_iterator(cases_dir() / kind)) {
      fs::path other = e.path();
      other.replace_extension(e.path().extension() == ".http" ? ".json" : ".http");
      EXPECT_TRUE(fs::exists(other)) << e.path() << " has no " << other.filename();
    }
  }
}

// A pipelined message inherits nothing from the one before it: the same
// request alone, after a CL body and after a chunked body with trailers
// gives the same head, no body and no trailers.
TEST(ParserCases, HeadAfterBodyIsClean) {
  const std::string tail = "GET /t HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n";
  const std::vector<std::string> leads = {
      "",
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
      "0\r\nX-Trailer: t\r\n\r\n"};
  for (const auto& lead : leads) {
    const std::string bytes = lead + tail;
    ParseOutcome got = run_parser(bytes, {bytes.size()}, {});
    ASSERT_EQ(got.error_status, 0) << got.error_reason;
    ASSERT_FALSE(got.requests.empty());
    const ParsedRequest& last = got.requests.back();
    EXPECT_EQ(last.target, "/t");
    EXPECT_EQ(last.headers, (std::vector<Field>{{"Host", "x"}, {"X-A", "1"}}));
    EXPECT_EQ(last.body, "");
    EXPECT_TRUE(last.trailers.empty());
  }
}

}  // namespace
}  // namespace greenfork::test
