// A small JSON reader for the parser test cases (tests/data/http/*/*.json).
//
// Just enough JSON for files the project writes itself: objects, arrays,
// strings, numbers, true/false/null. Strings are byte strings: a \uXXXX
// escape up to \u00ff becomes that one byte (the cases are latin-1, one char
// per byte); anything above is refused, as are malformed documents.
//
//   JsonValue doc = parse_json(text);      // throws std::runtime_error
//   int status = static_cast<int>(doc.at("status").number);
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace greenfork::test {

struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<JsonValue> array;
  std::map<std::string, JsonValue> object;

  // Member of an object; throws std::runtime_error naming the key if absent.
  const JsonValue& at(const std::string& key) const;
  bool has(const std::string& key) const { return object.count(key) != 0; }
};

JsonValue parse_json(std::string_view text);

// RFC 4648 base64 (with padding); throws std::runtime_error on bad input.
std::string decode_base64(std::string_view text);

}  // namespace greenfork::test
