#include "greenfork/wsgi/environ_prep.hpp"

#include <cstring>

#include "greenfork/http_token.hpp"

namespace greenfork::wsgi {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

// Host header "name[:port]" / "[v6]:port" on a unix socket, where the
// listener has no address of its own (Gunicorn does the same).
void server_from_host(std::string_view host, bool https, std::string& name, std::string& port) {
  std::string_view default_port = https ? "443" : "80";
  if (host.empty()) {
    name = "localhost";
    port = default_port;
    return;
  }
  size_t colon = host.rfind(':');
  if (!host.empty() && host.front() == '[') {
    size_t close = host.find(']');
    if (close == std::string_view::npos || (colon != std::string_view::npos && colon < close)) {
      colon = std::string_view::npos;
    }
  }
  if (colon == std::string_view::npos) {
    name = host;
    port = default_port;
  } else {
    name = host.substr(0, colon);
    port = host.substr(colon + 1);
    if (port.empty()) port = default_port;
  }
}

}  // namespace

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = hex_value(s[i + 1]);
      int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

namespace {

bool is_content_header(std::string_view name) {
  return (name.size() == 12 && http_token::iequals(name, "content-type")) ||
         (name.size() == 14 && http_token::iequals(name, "content-length"));
}

char cgi_char(char c) { return c == '-' ? '_' : upper(c); }

}  // namespace

bool same_cgi_key(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (cgi_char(a[i]) != cgi_char(b[i])) return false;
  }
  // "Content-Type" is CONTENT_TYPE, "Content_Type" HTTP_CONTENT_TYPE.
  return is_content_header(a) == is_content_header(b);
}

std::string cgi_header_key(std::string_view name) {
  if (is_content_header(name)) {
    return name.size() == 12 ? "CONTENT_TYPE" : "CONTENT_LENGTH";
  }
  std::string key(5 + name.size(), '\0');
  char* out = key.data();
  std::memcpy(out, "HTTP_", 5);
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    out[5 + i] = cgi_char(c);
  }
  return key;
}

std::string normalize_script_name(std::string_view raw) {
  while (!raw.empty() && raw.back() == '/') raw.remove_suffix(1);
  if (raw.empty()) return {};
  std::string out(raw);
  if (out.front() != '/') out.insert(out.begin(), '/');
  return out;
}

PreparedEnviron prepare_environ(const worker::Request& request, const EnvironConfig& config) {
  PreparedEnviron env;
  env.path_info = percent_decode(request.path);
  if (!config.script_name.empty()) {
    const std::string& sn = config.script_name;
    const std::string& p = env.path_info;
    if (p.compare(0, sn.size(), sn) == 0 && (p.size() == sn.size() || p[sn.size()] == '/')) {
      env.path_info.erase(0, sn.size());
    }
    env.script_name = sn;
  }

  env.headers.reserve(request.headers.size());
  for (const worker::Header& h : request.headers) {
    bool merged = false;
    for (PreparedHeader& p : env.headers) {
      if (same_cgi_key(p.name, h.name)) {
        if (!p.repeated) {
          p.joined = p.first_value;
          p.repeated = true;
        }
        p.joined += http_token::iequals(h.name, "cookie") ? "; " : ",";
        p.joined += h.value;
        merged = true;
        break;
      }
    }
    if (!merged) {
      PreparedHeader& p = env.headers.emplace_back();
      p.name = h.name;
      p.first_value = h.value;
    }
  }

  if (request.unix_socket || request.server_port.empty()) {
    // Not Request::find_header(): that lives in the engine's library.
    std::string_view host;
    for (const worker::Header& h : request.headers) {
      if (http_token::iequals(h.name, "host")) {
        host = h.value;
        break;
      }
    }
    server_from_host(host, request.url_scheme == "https", env.server_name, env.server_port);
  } else {
    env.server_name = request.server_name;
    env.server_port = request.server_port;
  }
  return env;
}

}  // namespace greenfork::wsgi
