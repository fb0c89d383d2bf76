// The one error-log setup of arbiterd and gworker, and the per-second text
// of the Date header and the access log.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "greenfork/error_log.hpp"
#include "greenfork/second_text.hpp"

namespace {

// Whether `text` has `shape`'s form: '9' stands for any digit, 'A' for any
// upper-case letter, 'a' for any lower-case one; other bytes are themselves.
// (std::regex trips GCC 12's -Wmaybe-uninitialized in the ASan build.)
bool has_shape(const std::string& text, const std::string& shape) {
  if (text.size() != shape.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    const bool ok = shape[i] == '9'   ? std::isdigit(c) != 0
                    : shape[i] == 'A' ? std::isupper(c) != 0
                    : shape[i] == 'a' ? std::islower(c) != 0
                                      : text[i] == shape[i];
    if (!ok) return false;
  }
  return true;
}

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
  // Gunicorn's: "[2026-11-30 19:17:15 +0000] [31001] [WARNING] first\n"
  const size_t pid_end = old_text.find("] [WARNING] first\n");
  ASSERT_NE(pid_end, std::string::npos) << old_text;
  const std::string stamp = old_text.substr(0, 29);
  EXPECT_TRUE(has_shape(stamp, "[9999-99-99 99:99:99 +9999] [") || has_shape(stamp, "[9999-99-99 99:99:99 -9999] ["))
      << old_text;
  EXPECT_EQ(old_text.substr(29, pid_end - 29), std::to_string(::getpid())) << old_text;
  EXPECT_EQ(old_text.size(), pid_end + std::string("] [WARNING] first\n").size()) << old_text;
  EXPECT_NE(new_text.find("] [ERROR] second\n"), std::string::npos) << new_text;
  EXPECT_EQ(old_text.find("not at warning"), std::string::npos);
  ASSERT_TRUE(greenfork::setup_error_log("t", "-", "info").ok());
  std::remove(path.c_str());
  std::remove(moved.c_str());
}

TEST(ErrorLog, JsonLinesCarryTimeLevelPidPoolMessageAndTheTraceback) {
  const std::string path = temp_path("gf_error_log_json_");
  ::setenv("ARBITER_POOL", "web", 1);
  ASSERT_TRUE(greenfork::setup_error_log("gworker", path, "info", greenfork::LogFormat::kJson).ok());
  ::unsetenv("ARBITER_POOL");
  spdlog::info("plain \"quoted\" \\ tab\t");
  spdlog::error("Exception in hook:\nTraceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'k'\n");
  const std::string text = slurp(path);
  const std::string pid = std::to_string(::getpid());
  const size_t nl = text.find('\n');
  ASSERT_NE(nl, std::string::npos) << text;
  const std::string first = text.substr(0, nl);
  const std::string second = text.substr(nl + 1);
  // {"time": "2026-11-30T19:17:15.123+00:00", ...
  ASSERT_GT(first.size(), 40u) << first;
  EXPECT_TRUE(has_shape(first.substr(0, 40), "{\"time\": \"9999-99-99T99:99:99.999+99:99\"") ||
              has_shape(first.substr(0, 40), "{\"time\": \"9999-99-99T99:99:99.999-99:99\""))
      << first;
  EXPECT_EQ(first.substr(40), ", \"level\": \"INFO\", \"pid\": " + pid +
                                  ", \"program\": \"gworker\", \"pool\": \"web\", \"message\": "
                                  "\"plain \\\"quoted\\\" \\\\ tab\\t\", \"exception\": null}")
      << first;
  EXPECT_EQ(second.substr(40), ", \"level\": \"ERROR\", \"pid\": " + pid +
                                   ", \"program\": \"gworker\", \"pool\": \"web\", \"message\": \"Exception in hook:\", "
                                   "\"exception\": \"Traceback (most recent call last):\\n  File \\\"x.py\\\", line "
                                   "1\\nKeyError: 'k'\"}\n")
      << second;
  EXPECT_FALSE(greenfork::parse_log_format("xml").has_value());
  ASSERT_TRUE(greenfork::setup_error_log("t", "-", "info").ok());
  std::remove(path.c_str());
}

TEST(ErrorLog, AFileThatCannotBeOpenedIsAnError) {
  const greenfork::Status s = greenfork::setup_error_log("t", "/nonexistent-dir/x.log", "info");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("/nonexistent-dir/x.log"), std::string::npos);
}

TEST(SecondText, FormatsTheCurrentSecondInTheZoneAsked) {
  greenfork::SecondText date(greenfork::SecondText::Format::kHttpDate);
  const std::string text(date.now());
  EXPECT_TRUE(has_shape(text, "Aaa, 99 Aaa 9999 99:99:99 GMT")) << text;
  char expected[64];
  const time_t now = time(nullptr);
  struct tm parts {};
  gmtime_r(&now, &parts);
  strftime(expected, sizeof expected, "%Y", &parts);
  EXPECT_NE(text.find(expected), std::string::npos);
  greenfork::SecondText local(greenfork::SecondText::Format::kCommonLog);
  const std::string clf(local.now());
  EXPECT_TRUE(has_shape(clf, "[99/Aaa/9999:99:99:99 +9999]") || has_shape(clf, "[99/Aaa/9999:99:99:99 -9999]"))
      << clf;
}

}  // namespace
