#include "websocket/utf8_validator.hpp"

#include <cstring>

namespace greenfork::worker::websocket {

bool Utf8Validator::feed(std::string_view bytes) {
  if (failed_) return false;
  const char* p = bytes.data();
  const size_t n = bytes.size();
  for (size_t i = 0; i < n; ++i) {
    if (pending_ == 0) {
      // Runs of ASCII, eight bytes at a time: most text is mostly ASCII.
      while (i + 8 <= n) {
        uint64_t v;
        std::memcpy(&v, p + i, 8);
        if ((v & 0x8080808080808080ull) != 0) break;
        i += 8;
      }
      if (i == n) break;
    }
    const auto c = static_cast<uint8_t>(p[i]);
    if (pending_ != 0) {
      if (c < low_ || c > high_) return !(failed_ = true);
      low_ = 0x80;
      high_ = 0xBF;
      --pending_;
      continue;
    }
    if (c < 0x80) continue;
    // The second byte's range carries the rules against overlong forms,
    // surrogates and code points past U+10FFFF (RFC 3629 section 4).
    if (c >= 0xC2 && c <= 0xDF) {
      pending_ = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      pending_ = 2;
      if (c == 0xE0) low_ = 0xA0;
      if (c == 0xED) high_ = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      pending_ = 3;
      if (c == 0xF0) low_ = 0x90;
      if (c == 0xF4) high_ = 0x8F;
    } else {
      return !(failed_ = true);  // 0x80-0xC1 (stray continuation, overlong), 0xF5-0xFF
    }
  }
  return true;
}

}  // namespace greenfork::worker::websocket
