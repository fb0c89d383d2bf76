// The settings table against Gunicorn 26.1's list (tests/data) and the docs
// table generated from it (docs/gunicorn-settings.md).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "greenfork/arbiter/settings.hpp"

namespace greenfork::arbiter::settings {
namespace {

std::string data_dir() {
  const char* d = std::getenv("GF_TEST_DATA");
  return d != nullptr ? d : "tests/data";
}

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep)) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

struct Row {
  std::string name;
  std::vector<std::string> flags;
};

std::vector<Row> gunicorn_rows() {
  std::vector<Row> rows;
  std::ifstream in(data_dir() + "/gunicorn-26.1-settings.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto cols = split(line, '\t');
    Row r{cols.at(0), {}};
    if (cols.at(2) != "-") r.flags = split(cols.at(2), ' ');
    rows.push_back(r);
  }
  return rows;
}

TEST(Settings, EveryGunicornSettingIsDeclaredOnceWithGunicornsFlags) {
  auto rows = gunicorn_rows();
  ASSERT_EQ(rows.size(), 119u);
  std::set<std::string> names;
  for (const Setting& s : all()) {
    EXPECT_TRUE(names.insert(s.name).second) << s.name << " declared twice";
    if (s.status != Status::kAccepted) {
      EXPECT_STRNE(s.note, "") << s.name << " needs a note or a reason";
    }
  }
  std::size_t gunicorn = 0;
  for (const Setting& s : all()) gunicorn += s.gunicorn ? 1 : 0;
  EXPECT_EQ(gunicorn, rows.size());
  for (const Row& r : rows) {
    const Setting* s = by_name(r.name);
    ASSERT_NE(s, nullptr) << r.name << " is missing from the table";
    EXPECT_TRUE(s->gunicorn) << r.name;
    for (const std::string& f : r.flags) {
      EXPECT_EQ(by_flag(f), s) << r.name << ": Gunicorn's flag " << f;
    }
    if (r.flags.empty()) {
      EXPECT_EQ(long_flag(*s), "") << r.name << " has no flag in Gunicorn";
    }
  }
}

TEST(Settings, RefusalsNameTheFlagAndSayWhy) {
  EXPECT_EQ(refusal(*by_name("tmp_upload_dir")),
            "tmp_upload_dir: use --worker-tmp-dir: gworker spills request bodies past --body-buffer-size there");
  EXPECT_EQ(refusal(*by_name("dirty_post_fork")).rfind("dirty_post_fork: dirty arbiters are not supported", 0), 0u);
  EXPECT_EQ(display(*by_name("limit_request_field_size")), "--limit-request-field_size");
  // gworker's ranges come from common/worker_settings, not from here.
  EXPECT_EQ(by_name("threads")->range, &worker_settings::kThreads);
}

TEST(Settings, DocsTableIsTheGeneratedOne) {
  const std::string path = std::string(GF_SOURCE_DIR) + "/docs/gunicorn-settings.md";
  if (std::getenv("GF_WRITE_DOCS") != nullptr) std::ofstream(path) << markdown();
  EXPECT_EQ(read(path), markdown()) << "docs/gunicorn-settings.md is stale: rerun with GF_WRITE_DOCS=1";
}

}  // namespace
}  // namespace greenfork::arbiter::settings
