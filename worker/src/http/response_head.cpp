#include "response_head.hpp"

#include <charconv>
#include <cstring>
#include <ctime>

#include "greenfork/http_token.hpp"
#include "greenfork/second_text.hpp"

namespace greenfork::worker::http {

namespace {

bool is_field_value(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

}  // namespace

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
  }
}

std::string_view http_date() {
  thread_local SecondText text(SecondText::Format::kHttpDate);
  return text.now();
}

bool status_has_no_body(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

// Filters `headers` in place (no second vector): kept fields are moved
// down over the dropped ones. `head` is written only on success.
Status check_app_head(int status, std::string_view reason, std::vector<Header>&& headers,
                      AppHead& head) {
  if (status < 100 || status > 999) {
    return Status::error("invalid status code " + std::to_string(status));
  }
  if (!is_field_value(reason)) return Status::error("invalid reason phrase");
  bool close = false;
  bool has_date = false;
  bool has_server = false;
  std::optional<uint64_t> content_length;
  size_t kept = 0;
  for (size_t i = 0; i < headers.size(); ++i) {
    Header& h = headers[i];
    if (!http_token::is_token(h.name)) return Status::error("invalid header name '" + h.name + "'");
    if (!is_field_value(h.value)) return Status::error("invalid value for header " + h.name);
    if (http_token::is_hop_by_hop(h.name)) {
      // The engine owns the connection and the framing, for every app kind;
      // of Connection, only "close" is honoured.
      if (http_token::iequals(h.name, "connection") && http_token::has_token(h.value, "close")) {
        close = true;
      }
      continue;
    }
    if (http_token::iequals(h.name, "content-length")) {
      uint64_t n = 0;
      const char* b = h.value.data();
      const char* e = b + h.value.size();
      auto [p, ec] = std::from_chars(b, e, n);
      if (ec != std::errc() || p != e || h.value.empty()) {
        return Status::error("invalid Content-Length '" + h.value + "'");
      }
      if (content_length && *content_length != n) {
        return Status::error("conflicting Content-Length headers");
      }
      if (content_length) continue;
      content_length = n;
      continue;  // re-emitted by serialize_head with the framing
    }
    if (http_token::iequals(h.name, "date")) has_date = true;
    if (http_token::iequals(h.name, "server")) has_server = true;
    if (kept != i) headers[kept] = std::move(h);
    ++kept;
  }
  headers.resize(kept);
  head.status = status;
  head.reason.assign(reason.empty() ? reason_phrase(status) : reason);
  head.headers = std::move(headers);
  head.content_length = content_length;
  head.close = close;
  head.has_date = has_date;
  head.has_server = has_server;
  return {};
}

StatusOr<AppHead> check_app_head(int status, std::string_view reason, std::vector<Header> headers) {
  AppHead head;
  if (Status s = check_app_head(status, reason, std::move(headers), head); !s.ok()) return s;
  return head;
}

// Sized first, then written with one resize of `out`: a dozen appends,
// each checking capacity, cost more than the copying itself.
void serialize_head(const AppHead& head, Framing framing, uint64_t length, bool keep_alive,
                    bool http10_keep_alive, std::string& out) {
  using namespace std::string_view_literals;
  char status[24];
  const size_t status_len =
      static_cast<size_t>(std::to_chars(status, status + sizeof status, head.status).ptr - status);
  char len_text[24];
  size_t len_len = 0;
  if (framing == Framing::kContentLength) {
    len_len = static_cast<size_t>(
        std::to_chars(len_text, len_text + sizeof len_text, length).ptr - len_text);
  }
  constexpr std::string_view kServer = "Server: greenfork\r\n";
  const std::string_view date = head.has_date ? std::string_view() : http_date();
  std::string_view connection;
  if (!keep_alive) {
    connection = "Connection: close\r\n"sv;
  } else if (http10_keep_alive) {
    connection = "Connection: keep-alive\r\n"sv;
  }
  size_t total = 9 + status_len + 1 + head.reason.size() + 2 + connection.size() + 2;
  if (!head.has_server) total += kServer.size();
  if (!head.has_date) total += 6 + date.size() + 2;
  for (const Header& h : head.headers) total += h.name.size() + 2 + h.value.size() + 2;
  if (framing == Framing::kContentLength) total += 16 + len_len + 2;
  if (framing == Framing::kChunked) total += 28;

  const size_t at = out.size();
  out.resize(at + total);
  char* w = out.data() + at;
  auto put = [&w](std::string_view s) {
    if (s.empty()) return;  // an empty view's data() may be null: no memcpy
    std::memcpy(w, s.data(), s.size());
    w += s.size();
  };
  put("HTTP/1.1 "sv);
  put(std::string_view(status, status_len));
  put(" "sv);
  put(head.reason);
  put("\r\n"sv);
  if (!head.has_server) put(kServer);
  if (!head.has_date) {
    put("Date: "sv);
    put(date);
    put("\r\n"sv);
  }
  for (const Header& h : head.headers) {
    put(h.name);
    put(": "sv);
    put(h.value);
    put("\r\n"sv);
  }
  switch (framing) {
    case Framing::kContentLength:
      put("Content-Length: "sv);
      put(std::string_view(len_text, len_len));
      put("\r\n"sv);
      break;
    case Framing::kChunked:
      put("Transfer-Encoding: chunked\r\n"sv);
      break;
    case Framing::kUntilClose:
    case Framing::kNone:
      break;
  }
  put(connection);
  put("\r\n"sv);
}

std::string error_response(int status, std::string_view detail, bool head_request) {
  AppHead head;
  head.status = status;
  head.reason = std::string(reason_phrase(status));
  head.headers.push_back({"Content-Type", "text/plain; charset=utf-8"});
  std::string body = head.reason;
  if (!detail.empty()) {
    body += ": ";
    body += detail;
  }
  body += "\n";
  std::string out;
  serialize_head(head, Framing::kContentLength, body.size(), false, false, out);
  if (!head_request) out += body;
  return out;
}

}  // namespace greenfork::worker::http
