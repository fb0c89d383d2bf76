// Incremental UTF-8 validation (RFC 3629) for text messages that arrive in
// fragments and chunks: a sequence may be cut anywhere, the verdict is the
// same as for the whole text. Refuses overlong forms, surrogates
// (U+D800..U+DFFF) and code points above U+10FFFF, at the first byte that
// makes the text invalid.
//
//   Utf8Validator v;
//   bool ok = v.feed("\xe2\x82") && v.feed("\xac") && v.complete();  // "€"
#pragma once

#include <cstdint>
#include <string_view>

namespace greenfork::worker::websocket {

class Utf8Validator {
 public:
  // False as soon as the bytes so far cannot start a valid text; sticky.
  bool feed(std::string_view bytes);
  // True when the bytes so far are valid and do not end inside a sequence.
  bool complete() const { return !failed_ && pending_ == 0; }
  void reset() { *this = Utf8Validator(); }

 private:
  uint8_t pending_ = 0;  // continuation bytes still expected
  uint8_t low_ = 0x80;   // bounds of the next continuation byte
  uint8_t high_ = 0xBF;
  bool failed_ = false;
};

// Whole-string convenience.
inline bool valid_utf8(std::string_view text) {
  Utf8Validator v;
  return v.feed(text) && v.complete();
}

}  // namespace greenfork::worker::websocket
