#include "greenfork/worker/uwsgi/uwsgi_parser.hpp"

#include <charconv>

#include "greenfork/http_token.hpp"

namespace greenfork::worker::uwsgi {
namespace {

size_t le16(std::string_view data, size_t at) {
  return static_cast<unsigned char>(data[at]) |
         (static_cast<size_t>(static_cast<unsigned char>(data[at + 1])) << 8);
}

// What may stand in a request-target unencoded: visible ASCII.
bool is_target(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) return false;
  }
  return true;
}

// A field value: no CR, LF, NUL (nor other controls but tab).
bool is_value(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && u != '\t') || u == 0x7f) return false;
  }
  return true;
}

// PATH_INFO is decoded: encoded again so that the engine's path stays raw.
std::string encode_path(std::string_view path) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(path.size());
  for (const char c : path) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '%' || c == '?' || c == '#') {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  return out;
}

bool digits(std::string_view s, uint64_t max, uint64_t& value) {
  if (s.empty() || s.size() > 19) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return ec == std::errc() && end == s.data() + s.size() && value <= max;
}

}  // namespace

UwsgiParse UwsgiParser::fail(std::string why) {
  error_ = std::move(why);
  vars_.clear();
  return {UwsgiParse::kError, 0};
}

UwsgiParse UwsgiParser::parse(std::string_view data) {
  vars_.clear();
  if (data.empty()) return {};
  modifier1_ = static_cast<unsigned char>(data[0]);
  // 0 is a WSGI/HTTP request, the only kind nginx's uwsgi_pass sends by
  // default (uwsgi_modifier1 0).
  if (modifier1_ != 0) return fail("unsupported modifier1 " + std::to_string(modifier1_));
  if (data.size() < 4) return {};
  modifier2_ = static_cast<unsigned char>(data[3]);
  const size_t size = le16(data, 1);
  if (data.size() < 4 + size) return {};
  const std::string_view block = data.substr(4, size);
  size_t pos = 0;
  while (pos < block.size()) {
    if (vars_.size() >= limits_.vars) {
      return fail("more than " + std::to_string(limits_.vars) + " variables");
    }
    if (pos + 2 > block.size()) return fail("truncated variable name length");
    const size_t key_size = le16(block, pos);
    pos += 2;
    if (key_size == 0) return fail("empty variable name");
    if (key_size > limits_.var_size) return fail("variable name longer than the limit");
    if (pos + key_size > block.size()) return fail("truncated variable name");
    std::string key(block.substr(pos, key_size));
    pos += key_size;
    if (pos + 2 > block.size()) return fail("truncated value length of " + key);
    const size_t value_size = le16(block, pos);
    pos += 2;
    if (value_size > limits_.var_size) return fail("value of " + key + " longer than the limit");
    if (pos + value_size > block.size()) return fail("truncated value of " + key);
    vars_.emplace_back(std::move(key), std::string(block.substr(pos, value_size)));
    pos += value_size;
  }
  return {UwsgiParse::kComplete, 4 + size};
}

StatusOr<UwsgiRequest> to_request(const std::vector<std::pair<std::string, std::string>>& vars,
                                  const UwsgiLimits& limits) {
  UwsgiRequest r;
  r.method = "GET";  // Gunicorn's defaults for a packet without them
  std::string_view request_uri, path_info = "/", query, protocol, content_length, content_type;
  std::string_view remote_port, https, scheme;
  for (const auto& [key, value] : vars) {
    if (key.size() > 5 && key.compare(0, 5, "HTTP_") == 0) {
      std::string name = key.substr(5);
      for (char& c : name) c = c == '_' ? '-' : c;
      if (!http_token::is_token(name)) return Status::error("bad header variable " + key);
      if (!is_value(value)) return Status::error("bad value of " + key);
      // The CGI variables carry these two.
      if (http_token::iequals(name, "content-type") || http_token::iequals(name, "content-length")) {
        continue;
      }
      r.headers.push_back({std::move(name), value});
    } else if (key == "REQUEST_METHOD") {
      r.method = value;
    } else if (key == "REQUEST_URI") {
      request_uri = value;
    } else if (key == "PATH_INFO") {
      path_info = value;
    } else if (key == "QUERY_STRING") {
      query = value;
    } else if (key == "SERVER_PROTOCOL") {
      protocol = value;
    } else if (key == "CONTENT_LENGTH") {
      content_length = value;
    } else if (key == "CONTENT_TYPE") {
      content_type = value;
    } else if (key == "REMOTE_ADDR") {
      r.remote_addr = value;
    } else if (key == "REMOTE_PORT") {
      remote_port = value;
    } else if (key == "SERVER_NAME") {
      r.server_name = value;
    } else if (key == "SERVER_PORT") {
      r.server_port = value;
    } else if (key == "HTTPS") {
      https = value;
    } else if (key == "UWSGI_SCHEME" || key == "wsgi.url_scheme") {
      scheme = value;
    }
  }
  if (!http_token::is_token(r.method)) return Status::error("bad REQUEST_METHOD");
  if (!request_uri.empty()) {
    if (!is_target(request_uri)) return Status::error("bad REQUEST_URI");
    r.target = request_uri;
  } else {
    if (!is_target(query)) return Status::error("bad QUERY_STRING");
    r.target = encode_path(path_info.empty() ? "/" : path_info);
    if (!query.empty()) {
      r.target += '?';
      r.target += query;
    }
  }
  if (limits.request_line != 0 && r.target.size() > limits.request_line) {
    return Status::error("request target longer than --limit-request-line");
  }
  if (!protocol.empty()) {
    if (protocol.size() != 8 || protocol.compare(0, 5, "HTTP/") != 0 || protocol[6] != '.' ||
        protocol[5] < '1' || protocol[5] > '9' || protocol[7] < '0' || protocol[7] > '9') {
      return Status::error("bad SERVER_PROTOCOL");
    }
    // HTTP/2 and 3 between the client and nginx: an HTTP/1.1 exchange here.
    if (protocol == "HTTP/1.0") r.http_minor = 0;
  }
  if (!content_type.empty()) {
    if (!is_value(content_type)) return Status::error("bad CONTENT_TYPE");
    r.headers.push_back({"Content-Type", std::string(content_type)});
  }
  if (!content_length.empty()) {
    uint64_t n = 0;
    if (!digits(content_length, UINT64_MAX, n)) return Status::error("bad CONTENT_LENGTH");
    r.content_length = n;
    r.headers.push_back({"Content-Length", std::string(content_length)});
  }
  if (!remote_port.empty()) {
    uint64_t port = 0;
    if (!digits(remote_port, 65535, port)) return Status::error("bad REMOTE_PORT");
    r.remote_port = static_cast<uint16_t>(port);
  }
  if (!is_value(r.remote_addr) || !is_value(r.server_name) || !is_value(r.server_port)) {
    return Status::error("bad REMOTE_ADDR, SERVER_NAME or SERVER_PORT");
  }
  if (http_token::iequals(https, "on") || https == "1" || http_token::iequals(https, "true")) {
    r.scheme = "https";
  } else if (!scheme.empty()) {
    if (scheme != "http" && scheme != "https") return Status::error("bad UWSGI_SCHEME");
    r.scheme = std::string(scheme);
  }
  return r;
}

}  // namespace greenfork::worker::uwsgi
