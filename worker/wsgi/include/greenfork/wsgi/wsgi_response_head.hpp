// Checks what an app passes to start_response() before any of it can reach
// the wire: no response splitting (CR, LF, NUL), header names are RFC 9110
// tokens, the status is "NNN reason". Pure functions, no Python.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "greenfork/status.hpp"
#include "greenfork/worker/app.hpp"

namespace greenfork::wsgi {

struct ParsedStatus {
  int code = 0;
  std::string reason;
};

// "200 OK" -> {200, "OK"}. Accepts "NNN" without a reason too.
StatusOr<ParsedStatus> parse_status(std::string_view status);

// OK, or why the header may not be sent. Hop-by-hop headers pass here: the
// engine drops them for every app kind alike (http_token::is_hop_by_hop).
Status check_header(std::string_view name, std::string_view value);
// The two halves of check_header(), for callers that know one is fine.
Status check_header_name(std::string_view name);
Status check_header_value(std::string_view name, std::string_view value);

}  // namespace greenfork::wsgi
