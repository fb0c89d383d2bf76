#include "greenfork/wsgi/wsgi_response_head.hpp"

#include "greenfork/http_token.hpp"

namespace greenfork::wsgi {
namespace {

// Printable for an error message: control bytes as \xNN.
std::string shown(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace

StatusOr<ParsedStatus> parse_status(std::string_view status) {
  auto bad = [&](const char* why) {
    return Status::error("invalid status '" + shown(status) + "' from the application: " + why);
  };
  if (status.size() < 3) return bad("expected 'NNN reason'");
  int code = 0;
  for (size_t i = 0; i < 3; ++i) {
    if (status[i] < '0' || status[i] > '9') return bad("expected three digits first");
    code = code * 10 + (status[i] - '0');
  }
  if (code < 100) return bad("code below 100");
  if (status.size() > 3 && status[3] != ' ') return bad("expected a space after the code");
  std::string_view reason = status.size() > 4 ? status.substr(4) : std::string_view();
  for (unsigned char c : reason) {
    if (c == '\r' || c == '\n' || c == '\0') return bad("CR, LF or NUL in the reason");
    if ((c < 0x20 && c != '\t') || c == 0x7f) return bad("control character in the reason");
  }
  return ParsedStatus{code, std::string(reason)};
}

Status check_header_name(std::string_view name) {
  if (name.empty()) return Status::error("empty response header name from the application");
  if (!http_token::is_token(name)) {
    return Status::error("invalid response header name '" + shown(name) + "' from the application");
  }
  return {};
}

Status check_header_value(std::string_view name, std::string_view value) {
  for (unsigned char c : value) {
    // CR, LF and NUL are below 0x20 too.
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      return Status::error("invalid value for response header '" + std::string(name) +
                           "' from the application: '" + shown(value) + "'");
    }
  }
  return {};
}

Status check_header(std::string_view name, std::string_view value) {
  if (Status st = check_header_name(name); !st.ok()) return st;
  return check_header_value(name, value);
}

}  // namespace greenfork::wsgi
