#include "greenfork/arbiter/metrics/http_request.hpp"

#include <algorithm>
#include <cctype>

namespace greenfork::arbiter {
namespace {

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
  });
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

const char* reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

}  // namespace

HeadParse parse_request_head(std::string_view buffer, HttpRequestHead* head) {
  size_t end = buffer.find("\r\n\r\n");
  size_t lf = buffer.find("\n\n");
  if (end == std::string_view::npos || (lf != std::string_view::npos && lf < end)) end = lf;
  if (end == std::string_view::npos) {
    return buffer.size() > kMaxRequestHead ? HeadParse::kTooLarge : HeadParse::kNeedMore;
  }
  if (end > kMaxRequestHead) return HeadParse::kTooLarge;
  std::string_view text = buffer.substr(0, end);
  bool first = true;
  while (!text.empty() || first) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (first) {
      first = false;
      const size_t sp1 = line.find(' ');
      const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
      if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos) return HeadParse::kBad;
      const std::string_view method = line.substr(0, sp1);
      const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
      const std::string_view version = line.substr(sp2 + 1);
      if (!is_token(method) || target.empty() || target.front() != '/') return HeadParse::kBad;
      if (version == "HTTP/1.1") head->version_minor = 1;
      else if (version == "HTTP/1.0") head->version_minor = 0;
      else return HeadParse::kBad;
      for (char c : target) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return HeadParse::kBad;
      }
      head->method = std::string(method);
      head->path = std::string(target.substr(0, target.find('?')));
      continue;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) return HeadParse::kBad;
    if (iequals(line.substr(0, colon), "accept")) {
      if (!head->accept.empty()) head->accept += ", ";
      head->accept += std::string(trim(line.substr(colon + 1)));
    }
  }
  return HeadParse::kGood;
}

std::string serialize_response(const HttpResponse& r, bool with_body) {
  std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
  out += "Content-Type: " + r.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  if (!r.allow.empty()) out += "Allow: " + r.allow + "\r\n";
  out += "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n";
  if (with_body) out += r.body;
  return out;
}

}  // namespace greenfork::arbiter
