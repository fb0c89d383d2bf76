#include "greenfork/wsgi/app_spec.hpp"

#include "greenfork/http_token.hpp"

namespace greenfork::wsgi {
namespace {

bool is_identifier_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;  // non-ASCII identifiers
}

bool is_identifier_char(char c) { return is_identifier_start(c) || (c >= '0' && c <= '9'); }

// "a.b.c": dotted identifiers, nothing empty.
bool is_module_path(std::string_view s) {
  if (s.empty()) return false;
  bool at_start = true;
  for (char c : s) {
    if (c == '.') {
      if (at_start) return false;
      at_start = true;
    } else if (at_start ? is_identifier_start(c) : is_identifier_char(c)) {
      at_start = false;
    } else {
      return false;
    }
  }
  return !at_start;
}

}  // namespace

StatusOr<AppSpec> split_app_spec(std::string_view spec) {
  const size_t colon = spec.find(':');
  std::string_view module = http_token::trim(spec.substr(0, colon));
  std::string_view expression = colon == std::string_view::npos
                                    ? std::string_view("application")
                                    : http_token::trim(spec.substr(colon + 1));
  if (!is_module_path(module)) {
    return Status::error("invalid application spec '" + std::string(spec) +
                         "': expected MODULE or MODULE:VARIABLE (e.g. myproject.wsgi:application)");
  }
  if (expression.empty()) {
    return Status::error("invalid application spec '" + std::string(spec) +
                         "': nothing after ':' (e.g. app:app or app:create_app())");
  }
  return AppSpec{std::string(module), std::string(expression)};
}

}  // namespace greenfork::wsgi
