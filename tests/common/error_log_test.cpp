// The one error-log setup of arbiterd and gworker, and the per-second text
// of the Date header and the access log.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "greenfork/error_log.hpp"
#include "greenfork/second_text.hpp"

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string temp_path(const char* name) {
  return (::testing::TempDir() + name) + std::to_string(::getpid());
}

TEST(ErrorLog, UnknownLevelIsRefused) {
  const greenfork::Status s = greenfork::setup_error_log("t", "-", "loud");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("loud"), std::string::npos);
}

TEST(ErrorLog, WritesGunicornsLineAndReopensAMovedFile) {
  const std::string path = temp_path("gf_error_log_");
  const std::string moved = path + ".1";
  ASSERT_TRUE(greenfork::setup_error_log("t", path, "warning").ok());
  spdlog::info("not at warning");
  spdlog::warn("first");
  ASSERT_EQ(std::rename(path.c_str(), moved.c_str()), 0);
  ASSERT_TRUE(greenfork::reopen_error_log().ok());
  spdlog::error("second");
  const std::string old_text = slurp(moved);
  const std::string new_text = slurp(path);
  EXPECT_TRUE(std::regex_search(
      old_text, std::regex(R"(^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:?\d\d\] \[\d+\] \[warning\] first\n$)")))
      << old_text;
  EXPECT_NE(new_text.find("[error] second"), std::string::npos) << new_text;
  EXPECT_EQ(old_text.find("not at warning"), std::string::npos);
  ASSERT_TRUE(greenfork::setup_error_log("t", "-", "info").ok());
  std::remove(path.c_str());
  std::remove(moved.c_str());
}

TEST(ErrorLog, AFileThatCannotBeOpenedIsAnError) {
  const greenfork::Status s = greenfork::setup_error_log("t", "/nonexistent-dir/x.log", "info");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent-dir/x.log"), std::string::npos);
}

TEST(SecondText, FormatsTheCurrentSecondInTheZoneAsked) {
  greenfork::SecondText date(greenfork::SecondText::Format::kHttpDate);
  const std::string text(date.now());
  EXPECT_TRUE(std::regex_match(text, std::regex(R"([A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT)")))
      << text;
  char expected[64];
  const time_t now = time(nullptr);
  struct tm parts {};
  gmtime_r(&now, &parts);
  strftime(expected, sizeof expected, "%Y", &parts);
  EXPECT_NE(text.find(expected), std::string::npos);
  greenfork::SecondText local(greenfork::SecondText::Format::kCommonLog);
  EXPECT_TRUE(std::regex_match(std::string(local.now()),
                               std::regex(R"(\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\])")));
}

}  // namespace
