// native_echo: the native test application for gworker's end-to-end tests
// (loaded as `gworker native:/path/libnative_echo.so`, through native_app.h).
//
// Every response carries X-Echo-Pid (the serving process) and X-Echo-Count
// (requests this process has handled, this one included). By path:
//   /slow?ms=N         sleeps N ms (at most 60000), then "slow done\n"
//   /large?bytes=N     N bytes of "0123456789abcdef..." with Content-Length;
//                      add &cl=0 to leave the length out (gworker streams it)
//   /stream?chunks=N&size=M&delay_ms=D
//                      N writes of M bytes ('a'+i), D ms apart, no length
//   /nobody            answers without reading the request body
//   /bodylen           reads the body in 64 KiB pieces: "len=N sum=S\n"
//                      (S = sum of the bytes mod 2^32)
//   /status?code=N     an empty response with that status
//   /text              the request as plain text: "METHOD TARGET HTTP/1.x\n",
//                      one "name: value\n" per header, "\n", then the body
//   anything else      the request as JSON: {"method", "target", "path",
//                      "query", "http_minor", "headers": [[n, v]...],
//                      "content_length", "body"}; strings are latin-1 (one
//                      \u00XX per byte outside printable ASCII)
// The init argument (after '?' in the spec) is ignored except "fail", which
// makes init fail (to test exit code 4).
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>
#include <string_view>
#include <unistd.h>

#include "greenfork/worker/native_app.h"

namespace {

const gf_api* api = nullptr;
std::atomic<uint64_t> handled{0};

std::string_view view(gf_str s) { return {s.data, s.len}; }

// Says in gworker's error log which call failed (so an engine bug shows up
// as "native_echo: read failed" rather than a bare -1), and returns -1.
int failed(const char* what) {
  std::string line = std::string("native_echo: ") + what + " failed";
  api->log_error(line.data(), line.size());
  return -1;
}

// The value of `key` in a query string "a=1&b=2", or `fallback`.
uint64_t query_number(std::string_view query, std::string_view key, uint64_t fallback) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (eq == std::string_view::npos || pair.substr(0, eq) != key) continue;
    uint64_t n = 0;
    for (char c : pair.substr(eq + 1)) {
      if (c < '0' || c > '9') return fallback;
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    return n;
  }
  return fallback;
}

void sleep_ms(uint64_t ms) {
  timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>((ms % 1000) * 1000000)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

int header(gf_response* res, std::string_view name, std::string_view value) {
  if (api->add_header(res, name.data(), name.size(), value.data(), value.size()) == 0) return 0;
  return failed("add_header");
}

int write(gf_response* res, std::string_view data) {
  return api->write(res, data.data(), data.size()) == 0 ? 0 : failed("write");
}

// The whole body; false when the client went away.
bool read_body(gf_request* req, std::string& body) {
  char buf[65536];
  for (;;) {
    int64_t n = api->read(req, buf, sizeof buf);
    if (n < 0) return failed("read") == 0;
    if (n == 0) return true;
    body.append(buf, static_cast<size_t>(n));
  }
}

void json_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c >= 0x20 && c < 0x7f) {
      out.push_back(ch);
    } else {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  out.push_back('"');
}

int respond(gf_response* res, int status, std::string_view type, std::string_view body) {
  if (api->set_status(res, status) != 0) return failed("set_status");
  if (header(res, "Content-Type", type) != 0) return -1;
  if (header(res, "Content-Length", std::to_string(body.size())) != 0) return -1;
  return write(res, body);
}

int echo_json(gf_request* req, gf_response* res) {
  std::string body;
  if (!read_body(req, body)) return -1;
  std::string out = "{\"method\": ";
  json_string(out, view(api->method(req)));
  out += ", \"target\": ";
  json_string(out, view(api->target(req)));
  out += ", \"path\": ";
  json_string(out, view(api->path(req)));
  out += ", \"query\": ";
  json_string(out, view(api->query(req)));
  out += ", \"http_minor\": " + std::to_string(api->http_minor(req));
  out += ", \"scheme\": ";
  json_string(out, view(api->url_scheme(req)));
  if (api->size >= offsetof(gf_api, tls_client_subject) + sizeof api->tls_client_subject) {
    out += ", \"tls_client_subject\": ";
    json_string(out, view(api->tls_client_subject(req)));
  }
  out += ", \"headers\": [";
  gf_str name, value;
  for (size_t i = 0; api->header_at(req, i, &name, &value) == 0; ++i) {
    if (i > 0) out += ", ";
    out.push_back('[');
    json_string(out, view(name));
    out += ", ";
    json_string(out, view(value));
    out.push_back(']');
  }
  out += "], \"content_length\": " + std::to_string(api->content_length(req));
  out += ", \"body\": ";
  json_string(out, body);
  out += "}\n";
  return respond(res, 200, "application/json", out);
}

int echo_text(gf_request* req, gf_response* res) {
  std::string body;
  if (!read_body(req, body)) return -1;
  std::string out(view(api->method(req)));
  out += " ";
  out += view(api->target(req));
  out += " HTTP/1." + std::to_string(api->http_minor(req)) + "\n";
  gf_str name, value;
  for (size_t i = 0; api->header_at(req, i, &name, &value) == 0; ++i) {
    out += view(name);
    out += ": ";
    out += view(value);
    out += "\n";
  }
  out += "\n" + body;
  return respond(res, 200, "text/plain", out);
}

int large(std::string_view query, gf_response* res) {
  uint64_t bytes = query_number(query, "bytes", 1 << 20);
  if (header(res, "Content-Type", "application/octet-stream") != 0) return -1;
  if (query_number(query, "cl", 1) != 0 &&
      header(res, "Content-Length", std::to_string(bytes)) != 0) {
    return -1;
  }
  static constexpr std::string_view kPattern = "0123456789abcdef";
  std::string block;
  while (block.size() < 65536) block += kPattern;
  for (uint64_t left = bytes; left > 0;) {
    size_t n = left < block.size() ? static_cast<size_t>(left) : block.size();
    if (api->write(res, block.data(), n) != 0) return failed("write");
    left -= n;
  }
  return 0;
}

int stream(std::string_view query, gf_response* res) {
  uint64_t chunks = query_number(query, "chunks", 4);
  uint64_t size = query_number(query, "size", 16);
  uint64_t delay = query_number(query, "delay_ms", 0);
  if (header(res, "Content-Type", "text/plain") != 0) return -1;
  for (uint64_t i = 0; i < chunks; ++i) {
    if (i > 0 && delay > 0) sleep_ms(delay);
    std::string piece(static_cast<size_t>(size), static_cast<char>('a' + i % 26));
    if (write(res, piece) != 0) return -1;
  }
  return 0;
}

int body_length(gf_request* req, gf_response* res) {
  char buf[65536];
  uint64_t len = 0;
  uint32_t sum = 0;
  for (;;) {
    int64_t n = api->read(req, buf, sizeof buf);
    if (n < 0) return failed("read");
    if (n == 0) break;
    for (int64_t i = 0; i < n; ++i) sum += static_cast<unsigned char>(buf[i]);
    len += static_cast<uint64_t>(n);
  }
  return respond(res, 200, "text/plain",
                 "len=" + std::to_string(len) + " sum=" + std::to_string(sum) + "\n");
}

int handle(gf_request* req, gf_response* res) {
  uint64_t count = ++handled;
  if (header(res, "X-Echo-Pid", std::to_string(getpid())) != 0) return -1;
  if (header(res, "X-Echo-Count", std::to_string(count)) != 0) return -1;
  std::string_view path = view(api->path(req));
  std::string_view query = view(api->query(req));
  if (path == "/slow") {
    uint64_t ms = query_number(query, "ms", 1000);
    sleep_ms(ms < 60000 ? ms : 60000);
    return respond(res, 200, "text/plain", "slow done\n");
  }
  if (path == "/large") return large(query, res);
  if (path == "/stream") return stream(query, res);
  if (path == "/nobody") return respond(res, 200, "text/plain", "body not read\n");
  if (path == "/bodylen") return body_length(req, res);
  if (path == "/status") {
    int code = static_cast<int>(query_number(query, "code", 200));
    return api->set_status(res, code) == 0 ? 0 : failed("set_status");
  }
  if (path == "/text") return echo_text(req, res);
  return echo_json(req, res);
}

}  // namespace

extern "C" int gf_app_init(const gf_api* host, const char* args, gf_app_config* config) {
  if (host->abi_version != GF_NATIVE_ABI_VERSION) {
    std::snprintf(config->error, sizeof config->error, "ABI %u, built for %d",
                  static_cast<unsigned>(host->abi_version), GF_NATIVE_ABI_VERSION);
    return 1;
  }
  if (args != nullptr && std::string_view(args) == "fail") {
    std::snprintf(config->error, sizeof config->error, "asked to fail");
    return 1;
  }
  api = host;
  return 0;
}

extern "C" int gf_app_handle(void* ctx, gf_request* request, gf_response* response) {
  (void)ctx;
  try {
    return handle(request, response);
  } catch (...) {  // std::bad_alloc: nothing may cross the C ABI
    return -1;
  }
}

extern "C" void gf_app_shutdown(void* ctx) { (void)ctx; }
