#include "response_head.hpp"

#include <charconv>
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

StatusOr<AppHead> check_app_head(int status, std::string_view reason, std::vector<Header> headers) {
  if (status < 100 || status > 999) {
    return Status::error("invalid status code " + std::to_string(status));
  }
  if (!is_field_value(reason)) return Status::error("invalid reason phrase");
  AppHead head;
  head.status = status;
  head.reason = reason.empty() ? std::string(reason_phrase(status)) : std::string(reason);
  head.headers.reserve(headers.size());
  for (Header& h : headers) {
    if (!http_token::is_token(h.name)) return Status::error("invalid header name '" + h.name + "'");
    if (!is_field_value(h.value)) return Status::error("invalid value for header " + h.name);
    if (http_token::is_hop_by_hop(h.name)) {
      // The engine owns the connection and the framing, for every app kind;
      // of Connection, only "close" is honoured.
      if (http_token::iequals(h.name, "connection") && http_token::has_token(h.value, "close")) {
        head.close = true;
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
      if (head.content_length && *head.content_length != n) {
        return Status::error("conflicting Content-Length headers");
      }
      if (head.content_length) continue;
      head.content_length = n;
      continue;  // re-emitted by serialize_head with the framing
    }
    if (http_token::iequals(h.name, "date")) head.has_date = true;
    if (http_token::iequals(h.name, "server")) head.has_server = true;
    head.headers.push_back(std::move(h));
  }
  return head;
}

void serialize_head(const AppHead& head, Framing framing, uint64_t length, bool keep_alive,
                    bool http10_keep_alive, std::string& out) {
  out.append("HTTP/1.1 ");
  char num[24];
  auto [end, ec] = std::to_chars(num, num + sizeof num, head.status);
  (void)ec;
  out.append(num, end);
  out.push_back(' ');
  out.append(head.reason);
  out.append("\r\n");
  if (!head.has_server) out.append("Server: greenfork\r\n");
  if (!head.has_date) {
    out.append("Date: ");
    out.append(http_date());
    out.append("\r\n");
  }
  for (const Header& h : head.headers) {
    out.append(h.name);
    out.append(": ");
    out.append(h.value);
    out.append("\r\n");
  }
  switch (framing) {
    case Framing::kContentLength: {
      out.append("Content-Length: ");
      auto [e2, ec2] = std::to_chars(num, num + sizeof num, length);
      (void)ec2;
      out.append(num, e2);
      out.append("\r\n");
      break;
    }
    case Framing::kChunked:
      out.append("Transfer-Encoding: chunked\r\n");
      break;
    case Framing::kUntilClose:
    case Framing::kNone:
      break;
  }
  if (!keep_alive) {
    out.append("Connection: close\r\n");
  } else if (http10_keep_alive) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
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
