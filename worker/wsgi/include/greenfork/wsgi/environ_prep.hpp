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

// One environ entry per distinct CGI name: the first field's name as
// received (cgi_header_key() makes the key), and the value, or the values
// of every field with that CGI name joined with "," ("; " for Cookie).
// Views into the Request, which must outlive it.
struct PreparedHeader {
  std::string_view name;
  std::string_view first_value;
  std::string joined;  // when repeated
  bool repeated = false;

  std::string_view value() const { return repeated ? std::string_view(joined) : first_value; }
};

struct PreparedEnviron {
  std::string script_name;
  std::string path_info;  // percent-decoded bytes, to become a latin-1 str
  std::string server_name;
  std::string server_port;
  std::vector<PreparedHeader> headers;  // in first-seen order
};

// "%41%2Fb" -> "A/b"; malformed escapes are kept as they are.
std::string percent_decode(std::string_view s);

// "User-Agent" -> "HTTP_USER_AGENT"; Content-Type/-Length -> CONTENT_*.
std::string cgi_header_key(std::string_view name);

// cgi_header_key(a) == cgi_header_key(b), without making either.
bool same_cgi_key(std::string_view a, std::string_view b);

// "$SCRIPT_NAME" as configured: "/app/" -> "/app", "/" -> "".
std::string normalize_script_name(std::string_view raw);

PreparedEnviron prepare_environ(const worker::Request& request, const EnvironConfig& config);

}  // namespace greenfork::wsgi
