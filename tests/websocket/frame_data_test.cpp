// The MessageAssembler (and its FrameParser) against tests/data/websocket
// (written by tests/data/websocket/make_cases.py): every file gives the
// events, the result, the bytes consumed and (invalid/) the close code and
// reason of its .json, fed whole, byte by byte and in random cuts.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "assembler_runner.hpp"
#include "case_json.hpp"
#include "data_cases.hpp"

namespace greenfork::test {
namespace {

using worker::websocket::AssemblerOptions;
using worker::websocket::DeflateParams;
using worker::websocket::MessageAssembler;
using worker::websocket::WsEvent;

WsEvent::Kind kind_of(const std::string& k) {
  if (k == "text") return WsEvent::kText;
  if (k == "binary") return WsEvent::kBinary;
  if (k == "ping") return WsEvent::kPing;
  if (k == "pong") return WsEvent::kPong;
  if (k == "close") return WsEvent::kClose;
  throw std::runtime_error("unknown event kind " + k);
}

MessageAssembler::Status status_of(const std::string& s) {
  if (s == "need_more") return MessageAssembler::kNeedMore;
  if (s == "closed") return MessageAssembler::kClosed;
  if (s == "error") return MessageAssembler::kError;
  throw std::runtime_error("unknown result " + s);
}

AssemblerOptions options_of(const JsonValue& doc) {
  AssemblerOptions o;
  o.max_message_size = static_cast<uint64_t>(doc.at("max_size").number);
  const JsonValue& d = doc.at("deflate");
  if (d.kind == JsonValue::Kind::kObject) {
    DeflateParams p;
    p.client_no_context_takeover = d.at("client_no_context_takeover").boolean;
    o.deflate = p;
  }
  return o;
}

// What the .json promises, as an outcome to compare with.
AssemblerOutcome expected_of(const JsonValue& doc) {
  AssemblerOutcome want;
  for (const JsonValue& e : doc.at("events").array) {
    WsEvent ev;
    ev.kind = kind_of(e.at("kind").string);
    const size_t repeat = e.has("repeat") ? static_cast<size_t>(e.at("repeat").number) : 1;
    for (size_t i = 0; i < repeat; ++i) ev.data += e.at("data").string;
    if (e.has("code")) ev.code = static_cast<uint16_t>(e.at("code").number);
    want.events.push_back(std::move(ev));
  }
  want.status = status_of(doc.at("result").string);
  if (doc.has("consumed")) want.consumed = static_cast<size_t>(doc.at("consumed").number);
  return want;
}

void check_case(const std::string& kind, const std::string& name) {
  SCOPED_TRACE(kind + "/" + name);
  const auto dir = data_cases_dir("websocket") / kind;
  const std::string data = read_file(dir / (name + ".bin"));
  const JsonValue doc = parse_json(read_file(dir / (name + ".json")));
  const AssemblerOptions options = options_of(doc);
  AssemblerOutcome want = expected_of(doc);

  const AssemblerOutcome whole = run_assembler(data, {data.size()}, options);
  EXPECT_EQ(whole.contract_violation, "");
  ASSERT_EQ(whole.status, want.status) << whole.error_reason;
  ASSERT_EQ(whole.events.size(), want.events.size());
  for (size_t i = 0; i < want.events.size(); ++i) {
    EXPECT_EQ(whole.events[i].kind, want.events[i].kind) << "event " << i;
    EXPECT_EQ(whole.events[i].data, want.events[i].data) << "event " << i;
    EXPECT_EQ(whole.events[i].code, want.events[i].code) << "event " << i;
  }
  if (doc.has("consumed")) {
    EXPECT_EQ(whole.consumed, want.consumed);
  }
  if (want.status == MessageAssembler::kError) {
    EXPECT_EQ(whole.error_code, static_cast<uint16_t>(doc.at("code").number));
    EXPECT_NE(whole.error_reason.find(doc.at("why").string), std::string::npos) << whole.error_reason;
  }
  // However the bytes are cut, the same outcome.
  if (data.size() <= 4096) {
    EXPECT_TRUE(run_assembler(data, std::vector<size_t>(data.size(), 1), options) == whole)
        << "fed byte by byte";
  }
  for (uint32_t seed = 1; seed <= 8; ++seed) {
    EXPECT_TRUE(run_assembler(data, random_cuts(data.size(), seed, 1 + seed * 7), options) == whole)
        << "random cut, seed " << seed;
  }
  const size_t half = data.size() / 2;
  EXPECT_TRUE(run_assembler(data, {half, data.size() - half}, options) == whole) << "cut in half";
}

TEST(WebSocketFrameData, CasesExist) {
  EXPECT_GE(data_case_names("websocket", "valid", ".bin").size(), 35u);
  EXPECT_GE(data_case_names("websocket", "invalid", ".bin").size(), 45u);
}

TEST(WebSocketFrameData, ValidCases) {
  for (const std::string& name : data_case_names("websocket", "valid", ".bin")) {
    const JsonValue doc = parse_json(read_file(data_cases_dir("websocket") / "valid" / (name + ".json")));
    EXPECT_NE(doc.at("result").string, "error") << name;
    check_case("valid", name);
  }
}

TEST(WebSocketFrameData, InvalidCases) {
  for (const std::string& name : data_case_names("websocket", "invalid", ".bin")) {
    const JsonValue doc = parse_json(read_file(data_cases_dir("websocket") / "invalid" / (name + ".json")));
    EXPECT_EQ(doc.at("result").string, "error") << name;
    check_case("invalid", name);
  }
}

}  // namespace
}  // namespace greenfork::test
