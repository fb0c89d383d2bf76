// RequestParser unit tests: the contract's main paths. The exhaustive
// matrix lives in the data-driven tests (tests/data/http/).
#include "greenfork/worker/http/request_parser.hpp"
#include "greenfork/worker/http/request_target.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace greenfork::worker::http {
namespace {

struct Message {
  RequestHead head;
  std::string body;
  std::vector<Header> trailers;
};

struct Outcome {
  std::vector<Message> messages;
  int error = 0;
  std::string reason;
};

// Feeds `input` in pieces of `step` bytes (0 = whole), like a socket would.
Outcome run(const std::string& input, size_t step = 0, ParserLimits limits = {}) {
  RequestParser parser(limits);
  Outcome out;
  std::string body;
  size_t pos = 0;
  std::string pending;
  while (pos < input.size() || !pending.empty()) {
    const size_t n = step == 0 ? input.size() - pos : std::min(step, input.size() - pos);
    pending.append(input, pos, n);
    pos += n;
    std::string_view in = pending;
    bool need_more = false;
    while (!need_more) {
      const ParseResult r = parser.feed(in);
      in.remove_prefix(r.consumed);
      body += parser.body();
      parser.body().clear();
      switch (r.status) {
        case ParseStatus::kError:
          out.error = parser.error_status();
          out.reason = parser.error_reason();
          return out;
        case ParseStatus::kNeedMore:
          need_more = true;
          break;
        case ParseStatus::kHead:
          break;
        case ParseStatus::kComplete:
          out.messages.push_back({parser.head(), body, parser.trailers()});
          body.clear();
          if (in.empty()) need_more = true;
          break;
      }
    }
    pending.assign(in);
    if (n == 0) break;
  }
  return out;
}

// Every split must agree with the whole feed.
Outcome run_all_splits(const std::string& input, ParserLimits limits = {}) {
  const Outcome whole = run(input, 0, limits);
  for (size_t step : {1, 2, 3, 7}) {
    const Outcome split = run(input, step, limits);
    EXPECT_EQ(split.error, whole.error) << "step " << step << ": " << split.reason;
    EXPECT_EQ(split.messages.size(), whole.messages.size()) << "step " << step;
  }
  return whole;
}

TEST(RequestParser, SimpleGet) {
  Outcome o = run_all_splits("GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Y:  v \r\n\r\n");
  ASSERT_EQ(o.error, 0) << o.reason;
  ASSERT_EQ(o.messages.size(), 1u);
  const RequestHead& h = o.messages[0].head;
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.target, "/a?b=1");
  EXPECT_EQ(h.http_minor, 1);
  EXPECT_TRUE(h.keep_alive);
  ASSERT_EQ(h.headers.size(), 2u);
  EXPECT_EQ(h.headers[1].name, "X-Y");
  EXPECT_EQ(h.headers[1].value, "v");
  EXPECT_FALSE(h.content_length.has_value());
}

TEST(RequestParser, PipelinedWithBodies) {
  Outcome o = run_all_splits(
      "POST /1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello"
      "POST /2 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: 1\r\n\r\n"
      "GET /3 HTTP/1.0\r\n\r\n");
  ASSERT_EQ(o.error, 0) << o.reason;
  ASSERT_EQ(o.messages.size(), 3u);
  EXPECT_EQ(o.messages[0].body, "hello");
  EXPECT_EQ(*o.messages[0].head.content_length, 5u);
  EXPECT_EQ(o.messages[1].body, "abcde");
  EXPECT_TRUE(o.messages[1].head.chunked);
  ASSERT_EQ(o.messages[1].trailers.size(), 1u);
  EXPECT_EQ(o.messages[1].trailers[0].name, "T");
  EXPECT_EQ(o.messages[2].head.target, "/3");
  EXPECT_FALSE(o.messages[2].head.keep_alive);
}

TEST(RequestParser, ExpectContinueAndUnderscores) {
  Outcome o = run_all_splits(
      "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nX_Forwarded: a\r\nX-Forwarded: b\r\n"
      "Content-Length: 1\r\n\r\nz");
  ASSERT_EQ(o.error, 0) << o.reason;
  const RequestHead& h = o.messages.at(0).head;
  EXPECT_TRUE(h.expect_continue);
  for (const Header& hd : h.headers) EXPECT_EQ(hd.name.find('_'), std::string::npos);
  EXPECT_EQ(h.headers.size(), 4u);
}

struct Bad {
  std::string input;
  int status;
};

class Refused : public ::testing::TestWithParam<Bad> {};

TEST_P(Refused, WithStatus) {
  const Outcome o = run_all_splits(GetParam().input);
  EXPECT_EQ(o.error, GetParam().status) << o.reason;
  EXPECT_TRUE(o.messages.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Smuggling, Refused,
    ::testing::Values(
        Bad{"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        Bad{"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n0\r\n\r\n", 400},
        Bad{"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx", 400},
        Bad{"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1,1\r\n\r\nx", 400},
        Bad{"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\nx", 400},
        Bad{"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
        Bad{"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n", 501},
        Bad{"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400},
        Bad{"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        Bad{"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        Bad{"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n0\r\n\r\n", 400},
        Bad{"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\nx\r\n0\r\n\r\n", 400},
        Bad{"GET / HTTP/1.1\nHost: a\n\n", 400},
        Bad{"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400},
        Bad{"GET / HTTP/1.1\r\nX: b\r\n c\r\n\r\n", 400},
        Bad{"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
        Bad{std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26), 400},
        Bad{"GET / HTTP/1.1\r\nX: a\x01 b\r\n\r\n", 400},
        Bad{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        Bad{"GET / HTTP/1.1\r\n: a\r\n\r\n", 400},
        Bad{"GET  / HTTP/1.1\r\n\r\n", 400},
        Bad{"GET /\xff HTTP/1.1\r\n\r\n", 400},
        Bad{"GET / HTTP/2.0\r\n\r\n", 505},
        Bad{"CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n", 501},
        Bad{"GET / HTTP/1.1\r\n\r\n", 400},
        Bad{"GET http:///p HTTP/1.1\r\nHost: x\r\n\r\n", 400},
        Bad{"GET / HTTP/1.1\r\nHost: x\r\n\n", 400},
        Bad{"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: a\r\n b\r\n\r\n", 400}));

TEST(RequestParser, Limits) {
  ParserLimits limits;
  limits.request_line = 27;
  limits.fields = 2;
  limits.field_size = 10;
  ParserLimits body_limits;
  body_limits.body = 4;
  EXPECT_EQ(run_all_splits("GET /0123456789abcd HTTP/1.0\r\n\r\n", limits).error, 414);
  EXPECT_EQ(run_all_splits("GET /0123456789abc HTTP/1.0\r\n\r\n", limits).error, 0);
  EXPECT_EQ(run_all_splits("GET / HTTP/1.0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits).error, 431);
  EXPECT_EQ(run_all_splits("GET / HTTP/1.0\r\nA: 1\r\nB: 2\r\n\r\n", limits).error, 0);
  // A field line counts with its CRLF (Gunicorn): 8 + 2 fits in 10, 9 + 2 does not.
  EXPECT_EQ(run_all_splits("GET / HTTP/1.0\r\nA: 123456\r\n\r\n", limits).error, 431);
  EXPECT_EQ(run_all_splits("GET / HTTP/1.0\r\nA: 12345\r\n\r\n", limits).error, 0);
  EXPECT_EQ(run_all_splits("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "0\r\nT: " + std::string(25, 't') + "\r\n\r\n",
                           ParserLimits{0, 0, 30, 0}).error,
            0);
  EXPECT_EQ(run_all_splits("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "0\r\nT: " + std::string(26, 't') + "\r\n\r\n",
                           ParserLimits{0, 0, 30, 0}).error,
            431);
  EXPECT_EQ(run_all_splits("POST / HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello", body_limits).error, 413);
  EXPECT_EQ(run_all_splits("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                           body_limits).error,
            413);
  EXPECT_EQ(run_all_splits("POST / HTTP/1.0\r\nContent-Length: 4\r\n\r\nhell", body_limits).error, 0);
}

TEST(RequestParser, IdleBetweenMessagesAndStickyError) {
  RequestParser parser;
  EXPECT_TRUE(parser.idle());
  EXPECT_EQ(parser.feed("GE").status, ParseStatus::kNeedMore);
  EXPECT_FALSE(parser.idle());
  EXPECT_EQ(parser.feed("T / HTTP/1.1\r\nHost: h\r\n\r\n").status, ParseStatus::kComplete);
  EXPECT_TRUE(parser.idle());
  EXPECT_EQ(parser.feed("BAD\x01 / HTTP/1.1\r\n\r\n").status, ParseStatus::kError);
  EXPECT_EQ(parser.feed("GET / HTTP/1.1\r\n\r\n").status, ParseStatus::kError);
}

TEST(RequestParser, FailedHeadRequestIsKnown) {
  auto failed_head = [](const std::string& input) {
    RequestParser parser;
    std::string_view in = input;
    for (;;) {
      const ParseResult r = parser.feed(in);
      in.remove_prefix(r.consumed);
      if (r.status == ParseStatus::kError) return parser.failed_head_request();
      if (r.status == ParseStatus::kNeedMore || in.empty()) {
        ADD_FAILURE() << "not refused";
        return false;
      }
    }
  };
  EXPECT_TRUE(failed_head("HEAD / HTTP/1.1\r\nHost: h\r\nBad Header: v\r\n\r\n"));
  EXPECT_TRUE(failed_head("HEAD / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n"));
  EXPECT_FALSE(failed_head("GET / HTTP/1.1\r\nHost: h\r\nBad Header: v\r\n\r\n"));
  EXPECT_FALSE(failed_head("HEADX / HTTP/1.1\r\nHost: h\r\nBad Header: v\r\n\r\n"));
  // A refusal at the first byte of the message after a HEAD is not a HEAD's.
  EXPECT_FALSE(failed_head("HEAD / HTTP/1.1\r\nHost: h\r\n\r\n\nGET / HTTP/1.1\r\n\r\n"));
  EXPECT_FALSE(failed_head("HEAD / HTTP/1.1\r\nHost: h\r\n\r\nG\x01T / HTTP/1.1\r\n\r\n"));
}

TEST(RequestParser, UpgradeIsServedThenClosed) {
  Outcome o = run_all_splits("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n");
  ASSERT_EQ(o.error, 0) << o.reason;
  EXPECT_TRUE(o.messages.at(0).head.upgrade);
  EXPECT_FALSE(o.messages.at(0).head.keep_alive);
}

// What an app sees as path and query (PATH_INFO/QUERY_STRING, the native
// path()/query()): Gunicorn's split, absolute-form reduced to its path.
TEST(RequestTarget, SplitsOriginAndAbsoluteForms) {
  struct Case {
    const char* target;
    const char* path;
    const char* query;
  };
  for (const Case& c : {Case{"/a%20b?x=1&y=2", "/a%20b", "x=1&y=2"},
                        Case{"/plain", "/plain", ""},
                        Case{"/q?", "/q", ""},
                        Case{"/q?a?b", "/q", "a?b"},
                        Case{"//x//y?z", "//x//y", "z"},
                        Case{"/f?x=1#frag", "/f", "x=1"},
                        Case{"/f#frag?no", "/f", ""},
                        Case{"http://host/a?q=1", "/a", "q=1"},
                        Case{"http://host", "/", ""},
                        Case{"http://host?q=1", "/", "q=1"},
                        Case{"https://host:8443/a/b?q=1&r", "/a/b", "q=1&r"},
                        Case{"HTTP://Host/A", "/A", ""},
                        Case{"http://user@host:80/p", "/p", ""},
                        Case{"http://[::1]:8080/v6?x", "/v6", "x"},
                        Case{"http://host/a%2Fb?c=%20", "/a%2Fb", "c=%20"},
                        Case{"*", "*", ""}}) {
    const TargetParts parts = split_request_target(c.target);
    EXPECT_EQ(parts.path, c.path) << c.target;
    EXPECT_EQ(parts.query, c.query) << c.target;
  }
}

TEST(RequestTarget, Forms) {
  EXPECT_TRUE(valid_target_form("/", false));
  EXPECT_TRUE(valid_target_form("http://h/p", false));
  EXPECT_TRUE(valid_target_form("https://h", false));
  EXPECT_TRUE(valid_target_form("*", true));
  EXPECT_FALSE(valid_target_form("*", false));
  EXPECT_FALSE(valid_target_form("http:///p", false));
  EXPECT_FALSE(valid_target_form("h:443", false));
  EXPECT_FALSE(valid_target_form("1http://h/", false));
  EXPECT_FALSE(valid_target_form("", false));
}

}  // namespace
}  // namespace greenfork::worker::http
