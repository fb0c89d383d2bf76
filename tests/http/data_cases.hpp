// Parser test cases kept as data files: tests/data/AREA/{valid,invalid}/
// NAME.EXT with NAME.json beside it (written by that folder's
// make_cases.py). Where they are and how to read them, for every parser's
// data test (HTTP, PROXY header).
//
//   for (const std::string& name : data_case_names("proxy", "valid", ".bin"))
//     read_file(data_cases_dir("proxy") / "valid" / (name + ".bin"));
#pragma once

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace greenfork::test {

// $GF_TEST_DATA/AREA (ctest sets GF_TEST_DATA), else tests/data/AREA.
inline std::filesystem::path data_cases_dir(const std::string& area) {
  const char* root = std::getenv("GF_TEST_DATA");
  return std::filesystem::path(root != nullptr ? root : "tests/data") / area;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// The sorted NAMEs of AREA/KIND/NAME.EXT (kind: "valid" or "invalid").
inline std::vector<std::string> data_case_names(const std::string& area, const std::string& kind,
                                                const std::string& extension) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(data_cases_dir(area) / kind, ec)) {
    if (e.path().extension() == extension) names.push_back(e.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace greenfork::test
