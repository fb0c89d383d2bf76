// HTTP's small lexical facts, in one place for the request parser, the
// response head writer and the WSGI gateway (RFC 9110 5.6).
//
//   http_token::is_token("X-Custom")                 -> true
//   http_token::iequals("Content-Length", "content-length") -> true
//   http_token::trim(" \tv a l\t")                   -> "v a l"
//   http_token::has_token("keep-alive, Close", "close") -> true
//   http_token::is_hop_by_hop("Transfer-Encoding")  -> true
//
// ASCII only, as HTTP's case-insensitivity is; no locale is consulted.
#pragma once

#include <string_view>

namespace greenfork::http_token {

// tchar (RFC 9110 5.6.2): ALPHA, DIGIT and !#$%&'*+-.^_`|~
bool is_tchar(char c);

// A non-empty run of tchar: a method, a header name.
bool is_token(std::string_view s);

// 'A'..'Z' -> 'a'..'z', everything else unchanged.
constexpr char ascii_lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }

// Case-insensitive equality of header names and tokens.
bool iequals(std::string_view a, std::string_view b);

// Without the optional whitespace (SP, HTAB) around a field value.
std::string_view trim(std::string_view v);

// Whether a comma-separated list ("a, b ,c") holds `token` (case-insensitive).
bool has_token(std::string_view list, std::string_view token);

// Response header fields that belong to the connection, not to the app
// (RFC 9110 7.6.1: Connection, Keep-Alive, Proxy-Connection, TE,
// Transfer-Encoding, Upgrade; RFC 2616 13.5.1, which PEP 3333 forbids WSGI
// apps to send, and Gunicorn drops: also Proxy-Authenticate,
// Proxy-Authorization and Trailers; and Trailer, as no trailers are sent).
// Every app kind's response goes through one filter that drops these and
// keeps only "close" from Connection (worker/src/http/response_head.cpp).
bool is_hop_by_hop(std::string_view name);

}  // namespace greenfork::http_token
