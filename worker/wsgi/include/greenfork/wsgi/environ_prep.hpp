// The part of building a WSGI environ that needs no Python: header names
// turned into CGI keys, repeated headers joined, PATH_INFO decoded,
// SCRIPT_NAME stripped, SERVER_NAME/PORT chosen. Runs without the GIL;
// environ_builder.hpp then turns the result into one dict under the GIL.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "greenfork/worker/app.hpp"

namespace greenfork::wsgi {

struct EnvironConfig {
  std::string script_name;  // from $SCRIPT_NAME, without a trailing '/'
};

struct PreparedEnviron {
  std::string script_name;
  std::string path_info;  // percent-decoded bytes, to become a latin-1 str
  std::string server_name;
  std::string server_port;
  // ("HTTP_USER_AGENT", value), ("CONTENT_TYPE", value), ... in first-seen
  // order; repeated headers joined with "," ("; " for Cookie).
  std::vector<std::pair<std::string, std::string>> headers;
};

// "%41%2Fb" -> "A/b"; malformed escapes are kept as they are.
std::string percent_decode(std::string_view s);

// "User-Agent" -> "HTTP_USER_AGENT"; Content-Type/-Length -> CONTENT_*.
std::string cgi_header_key(std::string_view name);

// "$SCRIPT_NAME" as configured: "/app/" -> "/app", "/" -> "".
std::string normalize_script_name(std::string_view raw);

PreparedEnviron prepare_environ(const worker::Request& request, const EnvironConfig& config);

}  // namespace greenfork::wsgi
