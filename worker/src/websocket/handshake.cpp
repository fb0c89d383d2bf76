#include "websocket/handshake.hpp"

#include <openssl/evp.h>

#include "greenfork/http_token.hpp"

namespace greenfork::worker::websocket {

namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// 16 bytes in base64: 22 characters and "==".
bool is_nonce(std::string_view key) {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (size_t i = 0; i < 22; ++i) {
    if (!is_base64_char(key[i])) return false;
  }
  return true;
}

std::vector<const Header*> find_all(const std::vector<Header>& headers, std::string_view name) {
  std::vector<const Header*> out;
  for (const Header& h : headers) {
    if (http_token::iequals(h.name, name)) out.push_back(&h);
  }
  return out;
}

bool any_has_token(const std::vector<Header>& headers, std::string_view name, std::string_view token) {
  for (const Header* h : find_all(headers, name)) {
    if (http_token::has_token(h->value, token)) return true;
  }
  return false;
}

UpgradeCheck refuse(int status, std::string reason) {
  UpgradeCheck c;
  c.status = status;
  c.reason = std::move(reason);
  return c;
}

bool clean_value(std::string_view v) {
  for (char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7F) return false;
  }
  return true;
}

bool handshake_owned(std::string_view name) {
  return http_token::is_hop_by_hop(name) || http_token::iequals(name, "Content-Length") ||
         (name.size() >= 14 && http_token::iequals(name.substr(0, 14), "Sec-WebSocket-"));
}

}  // namespace

bool is_websocket_upgrade(const http::RequestHead& head) {
  return any_has_token(head.headers, "Upgrade", "websocket");
}

std::optional<std::vector<std::string>> parse_subprotocols(const std::vector<Header>& headers) {
  std::vector<std::string> out;
  for (const Header* h : find_all(headers, "Sec-WebSocket-Protocol")) {
    std::string_view rest = h->value;
    while (true) {
      const size_t comma = rest.find(',');
      std::string_view item = http_token::trim(rest.substr(0, comma));
      // Empty list elements are allowed (RFC 9110 5.6.1); anything else must be a token.
      if (!item.empty()) {
        if (!http_token::is_token(item)) return std::nullopt;
        out.emplace_back(item);
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

UpgradeCheck check_upgrade_request(const http::RequestHead& head) {
  if (head.method != "GET") return refuse(400, "a WebSocket handshake must be a GET request");
  if (head.http_major < 1 || (head.http_major == 1 && head.http_minor < 1)) {
    return refuse(400, "a WebSocket handshake needs HTTP/1.1");
  }
  if (!any_has_token(head.headers, "Upgrade", "websocket")) {
    return refuse(400, "Upgrade does not name websocket");
  }
  if (!any_has_token(head.headers, "Connection", "upgrade")) {
    return refuse(400, "Connection does not hold Upgrade");
  }
  const std::vector<const Header*> versions = find_all(head.headers, "Sec-WebSocket-Version");
  if (versions.size() != 1 || versions[0]->value != "13") {
    UpgradeCheck c = versions.empty() ? refuse(400, "Sec-WebSocket-Version is missing")
                                      : refuse(426, "only WebSocket version 13 is supported");
    c.headers.push_back({"Sec-WebSocket-Version", "13"});
    return c;
  }
  const std::vector<const Header*> keys = find_all(head.headers, "Sec-WebSocket-Key");
  if (keys.size() != 1) return refuse(400, "expected one Sec-WebSocket-Key");
  if (!is_nonce(keys[0]->value)) return refuse(400, "Sec-WebSocket-Key is not a base64 16-byte nonce");
  std::optional<std::vector<std::string>> protocols = parse_subprotocols(head.headers);
  if (!protocols) return refuse(400, "Sec-WebSocket-Protocol holds something other than tokens");

  UpgradeCheck c;
  c.request.key = keys[0]->value;
  c.request.subprotocols = std::move(*protocols);
  for (const Header* h : find_all(head.headers, "Sec-WebSocket-Extensions")) {
    if (!c.request.extensions.empty()) c.request.extensions += ", ";
    c.request.extensions += h->value;
  }
  return c;
}

std::string accept_key(std::string_view key) {
  std::string input(key);
  input.append(kGuid);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  EVP_Digest(input.data(), input.size(), digest, &digest_len, EVP_sha1(), nullptr);
  unsigned char encoded[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(encoded, digest, static_cast<int>(digest_len));
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<size_t>(n));
}

StatusOr<std::string> build_accept_response(const UpgradeRequest& request, const AcceptOptions& options) {
  std::string out =
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: " + accept_key(request.key) + "\r\n";
  if (options.subprotocol) {
    const std::string& p = *options.subprotocol;
    bool offered = false;
    for (const std::string& o : request.subprotocols) offered = offered || o == p;
    if (!http_token::is_token(p) || !offered) {
      return Status::error(StatusCode::kInvalidArgument,
                           "subprotocol '" + p + "' was not offered by the client");
    }
    out += "Sec-WebSocket-Protocol: " + p + "\r\n";
  }
  if (!options.extensions.empty()) {
    if (!clean_value(options.extensions)) {
      return Status::error(StatusCode::kInvalidArgument, "bad Sec-WebSocket-Extensions value");
    }
    out += "Sec-WebSocket-Extensions: " + options.extensions + "\r\n";
  }
  for (const Header& h : options.headers) {
    if (!http_token::is_token(h.name)) {
      return Status::error(StatusCode::kInvalidArgument, "bad response header name '" + h.name + "'");
    }
    if (!clean_value(h.value)) {
      return Status::error(StatusCode::kInvalidArgument, "control byte in the value of " + h.name);
    }
    if (handshake_owned(h.name)) continue;
    out += h.name + ": " + std::string(http_token::trim(h.value)) + "\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace greenfork::worker::websocket
