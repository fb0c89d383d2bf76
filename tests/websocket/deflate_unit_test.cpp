// permessage-deflate (RFC 7692): negotiation of client offers, the RFC's
// compressed "Hello" vectors from our compressor, round trips with and
// without context takeover, and inflation bounded by the message size.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "assembler_runner.hpp"
#include "websocket/frame_writer.hpp"
#include "websocket/permessage_deflate.hpp"

namespace greenfork::test {
namespace {

using namespace greenfork::worker::websocket;

std::string unhex(std::string_view h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out += static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16));
  return out;
}

// zlib's own windows, so the answers show only what the offers ask.
DeflateConfig full_windows() {
  DeflateConfig c;
  c.server_max_window_bits = 15;
  return c;
}

std::optional<std::string> response_to(std::string_view offers, DeflateConfig config = full_windows()) {
  auto a = negotiate_permessage_deflate(offers, config);
  if (!a) return std::nullopt;
  return a->response;
}

TEST(PermessageDeflateNegotiation, AcceptsValidOffers) {
  EXPECT_EQ(response_to("permessage-deflate"), "permessage-deflate");
  EXPECT_EQ(response_to("permessage-deflate; client_max_window_bits"), "permessage-deflate");
  EXPECT_EQ(response_to("permessage-deflate; client_max_window_bits=10"),
            "permessage-deflate; client_max_window_bits=10");
  EXPECT_EQ(response_to("permessage-deflate;client_no_context_takeover;server_no_context_takeover"),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  EXPECT_EQ(response_to("permessage-deflate; server_max_window_bits=\"12\""),
            "permessage-deflate; server_max_window_bits=12");
  EXPECT_EQ(response_to("x-webkit-deflate-frame, Permessage-Deflate; server_max_window_bits=10"),
            "permessage-deflate; server_max_window_bits=10");
  auto a = negotiate_permessage_deflate("permessage-deflate; server_no_context_takeover; server_max_window_bits=9;"
                                        " client_no_context_takeover; client_max_window_bits=8", {});
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->params.server_no_context_takeover);
  EXPECT_TRUE(a->params.client_no_context_takeover);
  EXPECT_EQ(a->params.server_max_window_bits, 9);
  EXPECT_EQ(a->params.client_max_window_bits, 8);
  DeflateConfig sparing = full_windows();
  sparing.server_no_context_takeover = true;
  EXPECT_EQ(response_to("permessage-deflate", sparing), "permessage-deflate; server_no_context_takeover");
}

TEST(PermessageDeflateNegotiation, DefaultsKeepWindowsSmall) {
  // Unasked, the server announces its 4 KiB window; a client's lower ask wins.
  EXPECT_EQ(response_to("permessage-deflate", {}), "permessage-deflate; server_max_window_bits=12");
  EXPECT_EQ(response_to("permessage-deflate; server_max_window_bits=10", {}),
            "permessage-deflate; server_max_window_bits=10");
  EXPECT_EQ(response_to("permessage-deflate; server_max_window_bits=15", {}),
            "permessage-deflate; server_max_window_bits=12");
  // The client's window is limited only when its offer allows it.
  DeflateConfig small;
  small.client_max_window_bits = 10;
  EXPECT_EQ(response_to("permessage-deflate", small), "permessage-deflate; server_max_window_bits=12");
  EXPECT_EQ(response_to("permessage-deflate; client_max_window_bits", small),
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=10");
  EXPECT_EQ(response_to("permessage-deflate; client_max_window_bits=9", small),
            "permessage-deflate; server_max_window_bits=12; client_max_window_bits=9");
  auto a = negotiate_permessage_deflate("permessage-deflate", {});
  ASSERT_TRUE(a);
  EXPECT_EQ(a->params.server_max_window_bits, 12);
  EXPECT_EQ(a->mem_level, 5);
  // What that compressor writes inflates with the window it announced.
  MessageDeflater out(a->params, a->compression_level, a->mem_level);
  DeflateParams client_view;
  client_view.client_max_window_bits = 12;  // the client's decompressor sees our window as "client" data
  MessageInflater in(client_view);
  std::string text;
  for (int i = 0; i < 300; ++i) text += "line " + std::to_string(i * 7919 % 1000) + " of some text\n";
  std::string back;
  ASSERT_FALSE(in.inflate(out.deflate(text), text.size(), back));
  EXPECT_EQ(back, text);
}

TEST(PermessageDeflateNegotiation, FallsBackToTheNextOffer) {
  // The first offer asks for a window zlib cannot honour; the second is fine.
  EXPECT_EQ(response_to("permessage-deflate; server_max_window_bits=8, permessage-deflate"),
            "permessage-deflate");
  EXPECT_EQ(response_to("permessage-deflate; foo=1, permessage-deflate; client_no_context_takeover"),
            "permessage-deflate; client_no_context_takeover");
}

TEST(PermessageDeflateNegotiation, DeclinesBadOffers) {
  for (const char* offer : {"", "x-other", "permessage-deflate; server_max_window_bits",
                            "permessage-deflate; server_max_window_bits=16",
                            "permessage-deflate; server_max_window_bits=7",
                            "permessage-deflate; server_max_window_bits=010",
                            "permessage-deflate; client_max_window_bits=16",
                            "permessage-deflate; client_max_window_bits=abc",
                            "permessage-deflate; server_no_context_takeover=1",
                            "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
                            "permessage-deflate; unknown", "permessage-deflate; server_max_window_bits=\"1",
                            "permessage-deflate; =3", "perm essage-deflate"}) {
    EXPECT_FALSE(response_to(offer)) << offer;
  }
  DeflateConfig off = full_windows();
  off.enabled = false;
  EXPECT_FALSE(response_to("permessage-deflate", off));
}

TEST(PermessageDeflate, CompressorGivesTheRfcVectors) {
  DeflateParams shared;  // context takeover: the second "Hello" refers back (7.2.3.2)
  MessageDeflater out(shared);
  EXPECT_EQ(out.deflate("Hello"), unhex("f248cdc9c90700"));
  // zlib codes the back-reference differently from the RFC's f20011000100;
  // both are a 5-byte match at distance 5, which only the shared window has.
  const std::string second = out.deflate("Hello");
  EXPECT_LT(second.size(), 7u);
  MessageInflater in(shared);
  std::string got;
  ASSERT_FALSE(in.inflate(unhex("f248cdc9c90700"), 100, got));
  ASSERT_FALSE(in.inflate(second, 100, got));
  EXPECT_EQ(got, "HelloHello");
  MessageInflater fresh_in(shared);
  std::string alone;
  EXPECT_TRUE(fresh_in.inflate(second, 100, alone));  // no window: the reference is invalid
  DeflateParams fresh;
  fresh.server_no_context_takeover = true;
  MessageDeflater reset(fresh);
  EXPECT_EQ(reset.deflate("Hello"), unhex("f248cdc9c90700"));
  EXPECT_EQ(reset.deflate("Hello"), unhex("f248cdc9c90700"));
  EXPECT_EQ(encode_message(true, "Hello", &reset), unhex("c107f248cdc9c90700"));
}

TEST(PermessageDeflate, RoundTripsManyMessages) {
  for (bool no_takeover : {false, true}) {
    DeflateParams p;
    p.server_no_context_takeover = no_takeover;
    p.client_no_context_takeover = no_takeover;
    p.server_max_window_bits = no_takeover ? 9 : 15;
    MessageDeflater out(p);
    MessageInflater in(p);
    std::mt19937 rng(42);
    for (int i = 0; i < 200; ++i) {
      std::string msg(rng() % 5000, '\0');
      for (char& c : msg) c = static_cast<char>('a' + rng() % (i % 26 + 1));
      std::string back;
      ASSERT_FALSE(in.inflate(out.deflate(msg), msg.size(), back)) << i;
      ASSERT_EQ(back, msg) << i;
    }
  }
}

TEST(PermessageDeflate, InflationStopsAtTheBound) {
  MessageDeflater out(DeflateParams{});
  const std::string bomb = out.deflate(std::string(64 << 20, '\0'));  // 64 MiB in ~64 KiB
  ASSERT_LT(bomb.size(), 100u * 1024);
  MessageInflater in(DeflateParams{});
  std::string got;
  ProtocolError e = in.inflate(bomb, 1 << 20, got);
  EXPECT_EQ(e.code, close_code::kMessageTooBig);
  EXPECT_LE(got.size(), (1u << 20) + 1);  // never more than the bound and one byte
  // Exactly at the bound is fine.
  MessageInflater exact(DeflateParams{});
  std::string all;
  EXPECT_FALSE(exact.inflate(out.deflate(std::string(1000, 'z')), 1000, all));
  EXPECT_EQ(all.size(), 1000u);
}

TEST(PermessageDeflate, AssemblerInflatesServerWrittenMessagesInAnySplit) {
  // Client-side compressed frames, as a browser would send them.
  DeflateParams p;
  MessageDeflater client(p);
  std::string bytes;
  for (int i = 0; i < 5; ++i) {
    bytes += encode_message(true, "message " + std::to_string(i) + std::string(100, 'x'), &client,
                            masked(0xCAFEBABE));
  }
  AssemblerOptions options;
  options.deflate = p;
  AssemblerOutcome whole = run_assembler(bytes, {bytes.size()}, options);
  ASSERT_EQ(whole.status, MessageAssembler::kNeedMore) << whole.error_reason;
  ASSERT_EQ(whole.events.size(), 5u);
  EXPECT_EQ(whole.events[4].data, "message 4" + std::string(100, 'x'));
  for (uint32_t seed = 1; seed < 50; ++seed) {
    ASSERT_TRUE(run_assembler(bytes, random_cuts(bytes.size(), seed, 13), options) == whole) << seed;
  }
}

}  // namespace
}  // namespace greenfork::test
