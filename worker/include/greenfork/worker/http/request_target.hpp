// The request-target's forms (RFC 9112 3.2) and its split into the path and
// query an application sees, as Gunicorn splits it (util.split_request_uri).
//
//   split_request_target("/a%20b?x=1")          -> {"/a%20b", "x=1"}
//   split_request_target("http://h:8/a?q=1")    -> {"/a", "q=1"}
//   split_request_target("https://h")           -> {"/", ""}
//   split_request_target("*")                   -> {"*", ""}
//
// An absolute-form target ("scheme://authority/path?query", what proxies
// send) loses its scheme and authority, and an empty path becomes "/"
// (RFC 9112 3.2.1: the path of an empty origin-form is "/"). A fragment
// ("#...", which clients must not send) is dropped from both parts, as
// Gunicorn does. The path stays percent-encoded.
#pragma once

#include <string>
#include <string_view>

namespace greenfork::worker::http {

struct TargetParts {
  std::string path;   // "/a%20b": never empty for origin and absolute forms
  std::string query;  // "x=1": after '?', without it; "" when there is none
};

TargetParts split_request_target(std::string_view target);

// origin-form "/p", "*" (only when `options`), or absolute-form
// "scheme://host..." with a non-empty host. authority-form ("h:443") belongs
// to CONNECT, which is refused before this is asked.
bool valid_target_form(std::string_view target, bool options);

}  // namespace greenfork::worker::http
