// gctl's pure parsing: scale targets, the command line, control addresses.
#include <gtest/gtest.h>

#include "greenfork/ctl/arguments.hpp"
#include "greenfork/control_address.hpp"
#include "greenfork/ctl/gctl.hpp"
#include "greenfork/ctl/scale_spec.hpp"

namespace greenfork::ctl {
namespace {

using Mode = ScaleSpec::Mode;

TEST(ScaleSpec, AcceptsTheFourForms) {
  EXPECT_EQ(*parse_scale_spec("+1"), (ScaleSpec{Mode::kRelative, 1, 0}));
  EXPECT_EQ(*parse_scale_spec("-2"), (ScaleSpec{Mode::kRelative, -2, 0}));
  EXPECT_EQ(*parse_scale_spec("=3"), (ScaleSpec{Mode::kAbsolute, 0, 3}));
  EXPECT_EQ(*parse_scale_spec("8"), (ScaleSpec{Mode::kAbsolute, 0, 8}));
  EXPECT_EQ(*parse_scale_spec("0"), (ScaleSpec{Mode::kAbsolute, 0, 0}));
  EXPECT_EQ(*parse_scale_spec("+0"), (ScaleSpec{Mode::kRelative, 0, 0}));
}

TEST(ScaleSpec, RejectsEverythingElse) {
  for (const char* bad : {"", "+", "-", "=", "x", "+x", "1.5", "++1", "+-1", " 1", "1 ", "=+1",
                          "0x10", "1e3", "100001", "99999999999999999999"}) {
    auto parsed = parse_scale_spec(bad);
    EXPECT_FALSE(parsed.ok()) << "accepted '" << bad << "'";
    if (!parsed.ok()) {
      EXPECT_NE(parsed.status().message().find("is not +N, -N, =N or N"), std::string::npos);
    }
  }
}

Invocation parse(std::vector<std::string> args) {
  auto parsed = parse_arguments(args);
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? *parsed : Invocation{};
}

std::string error_of(std::vector<std::string> args) {
  auto parsed = parse_arguments(args);
  return parsed.ok() ? "(accepted)" : parsed.status().message();
}

TEST(Arguments, ScaleForms) {
  auto inv = parse({"scale", "+1"});
  EXPECT_EQ(inv.command, Command::kScale);
  EXPECT_EQ(inv.pool, "");
  EXPECT_EQ(inv.scale, (ScaleSpec{Mode::kRelative, 1, 0}));
  inv = parse({"scale", "-1", "--wait"});
  EXPECT_EQ(inv.scale.delta, -1);
  EXPECT_TRUE(inv.wait);
  inv = parse({"scale", "api", "=4"});
  EXPECT_EQ(inv.pool, "api");
  EXPECT_EQ(inv.scale, (ScaleSpec{Mode::kAbsolute, 0, 4}));
  inv = parse({"scale", "api=8"});
  EXPECT_EQ(inv.pool, "api");
  EXPECT_EQ(inv.scale.count, 8u);
  inv = parse({"scale", "api", "-2"});
  EXPECT_EQ(inv.pool, "api");
  EXPECT_EQ(inv.scale.delta, -2);
}

TEST(Arguments, BadScaleIsRejected) {
  EXPECT_NE(error_of({"scale", "x"}).find("'x' is not"), std::string::npos);
  EXPECT_NE(error_of({"scale", "+"}).find("'+' is not"), std::string::npos);
  EXPECT_NE(error_of({"scale"}).find("missing target"), std::string::npos);
  EXPECT_NE(error_of({"scale", "a", "b", "c"}).find("too many"), std::string::npos);
  EXPECT_NE(error_of({"scale", "api="}).find("is not"), std::string::npos);
  EXPECT_NE(error_of({"scale", "+1", "--fast"}).find("unknown option --fast"), std::string::npos);
}

TEST(Arguments, GlobalOptionsAnywhere) {
  auto inv = parse({"--socket", "/x.sock", "--json", "status", "--timeout=2.5"});
  EXPECT_EQ(inv.command, Command::kStatus);
  EXPECT_EQ(inv.socket, "/x.sock");
  EXPECT_TRUE(inv.json);
  ASSERT_TRUE(inv.timeout_seconds.has_value());
  EXPECT_DOUBLE_EQ(*inv.timeout_seconds, 2.5);
  inv = parse({"reload", "web", "--wait", "--token-file=/t", "--socket=127.0.0.1:9"});
  EXPECT_EQ(inv.command, Command::kReload);
  EXPECT_EQ(inv.pool, "web");
  EXPECT_TRUE(inv.wait);
  EXPECT_EQ(inv.token_file, "/t");
  EXPECT_EQ(inv.socket, "127.0.0.1:9");
}

TEST(Arguments, OtherCommands) {
  EXPECT_TRUE(parse({"stop"}).graceful);
  EXPECT_TRUE(parse({"stop", "--graceful"}).graceful);
  EXPECT_FALSE(parse({"stop", "--fast"}).graceful);
  EXPECT_EQ(parse({"reopen-logs"}).command, Command::kReopenLogs);
  auto inv = parse({"signal", "main", "HUP"});
  EXPECT_EQ(inv.command, Command::kSignal);
  EXPECT_EQ(inv.signal, "HUP");
  EXPECT_EQ(parse({"signal", "main", "sigusr1"}).signal, "sigusr1");
  EXPECT_TRUE(parse({"upgrade", "--wait"}).wait);
  EXPECT_EQ(parse({"watch"}).command, Command::kWatch);
  EXPECT_EQ(parse({"watch", "api"}).pool, "api");
  EXPECT_EQ(parse({"--version"}).command, Command::kVersion);
  EXPECT_EQ(parse({"scale", "x", "--help"}).command, Command::kHelp);
}

TEST(Arguments, BadInputsHaveOneClearMessage) {
  EXPECT_EQ(error_of({}), "missing command");
  EXPECT_EQ(error_of({"frob"}), "unknown command 'frob'");
  EXPECT_EQ(error_of({"--frob", "status"}), "unknown option --frob");
  EXPECT_EQ(error_of({"status", "extra"}), "status: expected no arguments");
  EXPECT_EQ(error_of({"signal", "main", "NOPE"}), "signal: unknown signal 'NOPE'");
  EXPECT_EQ(error_of({"signal", "main"}), "signal: expected POOL SIGNAL");
  EXPECT_NE(error_of({"stop", "--fast", "--graceful"}).find("exclude"), std::string::npos);
  EXPECT_EQ(error_of({"status", "--socket"}), "--socket: missing value");
  EXPECT_NE(error_of({"--timeout", "0", "status"}).find("positive"), std::string::npos);
  EXPECT_NE(error_of({"--timeout", "soon", "status"}).find("positive"), std::string::npos);
  EXPECT_NE(error_of({"reload", "a", "b"}).find("[POOL]"), std::string::npos);
}

TEST(ControlAddress, UnixAndTcpForms) {
  auto a = *parse_control_address("/run/arbiterd.sock");
  EXPECT_TRUE(a.is_unix);
  EXPECT_EQ(a.grpc_target, "unix:/run/arbiterd.sock");
  EXPECT_EQ(a.display, "/run/arbiterd.sock");
  a = *parse_control_address("unix:/tmp/a.sock");
  EXPECT_TRUE(a.is_unix);
  EXPECT_EQ(a.path, "/tmp/a.sock");
  a = *parse_control_address("127.0.0.1:7000");
  EXPECT_FALSE(a.is_unix);
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, "7000");
  EXPECT_EQ(a.grpc_target, "127.0.0.1:7000");
  a = *parse_control_address("[::1]:7000");
  EXPECT_EQ(a.host, "::1");
  EXPECT_EQ(a.grpc_target, "[::1]:7000");
  EXPECT_FALSE(parse_control_address("").ok());
  EXPECT_FALSE(parse_control_address("unix:").ok());
  EXPECT_FALSE(parse_control_address("host:port").ok());
  EXPECT_FALSE(parse_control_address("host:70000").ok());
  EXPECT_FALSE(parse_control_address(":7000").ok());
  EXPECT_FALSE(parse_control_address("127.0.0.1:0").ok());
}

// gctl reads TCP addresses with arbiterd's parse_listen_address: the same
// forms are accepted and refused by both (issue 13).
TEST(ControlAddress, TcpFormsAreArbiterdsListenAddresses) {
  auto v6 = parse_control_address("::1:7000");
  ASSERT_FALSE(v6.ok());
  EXPECT_NE(v6.status().message().find("IPv6 addresses need brackets"), std::string::npos)
      << v6.status().message();
  auto a = *parse_control_address("tcp://127.0.0.1:7000");
  EXPECT_FALSE(a.is_unix);
  EXPECT_EQ(a.grpc_target, "127.0.0.1:7000");
  a = *parse_control_address("unix:///tmp/b.sock");
  EXPECT_TRUE(a.is_unix);
  EXPECT_EQ(a.path, "/tmp/b.sock");
  a = *parse_control_address("localhost:7000");
  EXPECT_EQ(a.host, "localhost");
  EXPECT_EQ(a.port, "7000");
}

TEST(ExitCode, FollowsTheAnswersCode) {
  EXPECT_EQ(exit_code_for(Status()), 0);
  EXPECT_EQ(exit_code_for(Status::error(StatusCode::kUnavailable, "arbiterd is stopping")), kExitUnreachable);
  EXPECT_EQ(exit_code_for(Status::error(StatusCode::kNotFound, "unknown pool 'api'")), kExitFailed);
  EXPECT_EQ(exit_code_for(Status::error(StatusCode::kDeadlineExceeded, "late")), kExitFailed);
  EXPECT_EQ(exit_code_for(Status::error("no code")), kExitFailed);
}

TEST(ExitCode, StatusCodesKeepTheirNamesAndContext) {
  Status s = Status::error(StatusCode::kFailedPrecondition, "a reload is already running").with_context("pool web");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "pool web: a reload is already running");
  EXPECT_STREQ(status_code_name(s.code()), "FAILED_PRECONDITION");
  EXPECT_EQ(Status::error("x").code(), StatusCode::kUnknown);
  EXPECT_TRUE(Status().ok());
}

}  // namespace
}  // namespace greenfork::ctl
