// JSON string literals for the JSON that greenfork writes by hand (log
// lines, gctl --json, the hook host's events): `"..."` with `"`, `\` and
// control characters escaped; other bytes pass through as they are (UTF-8
// stays UTF-8).
#pragma once

#include <string>
#include <string_view>

namespace greenfork {

void append_json_string(std::string& out, std::string_view text);

inline std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

}  // namespace greenfork
