// ASCII helpers shared by the request parser and the response head writer.
#pragma once

#include <string_view>

namespace greenfork::worker::http {

// Case-insensitive equality of header names and tokens (ASCII only, as HTTP's).
inline bool ascii_iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

}  // namespace greenfork::worker::http
