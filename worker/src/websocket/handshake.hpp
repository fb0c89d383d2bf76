// The opening handshake (RFC 6455 section 4.2) as pure functions over the
// engine's parsed request head: is it a WebSocket upgrade, is it a valid one
// (else the status to refuse it with), and the 101 response head.
//
//   if (is_websocket_upgrade(head)) {
//     UpgradeCheck c = check_upgrade_request(head);
//     if (!c.ok()) return refuse(c.status, c.reason, c.headers);   // 400 / 426
//     auto deflate = negotiate_permessage_deflate(c.request.extensions, {});
//     StatusOr<std::string> head101 = build_accept_response(c.request, {
//         .subprotocol = app_choice, .extensions = deflate ? deflate->response : ""});
//   }
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "greenfork/status.hpp"
#include "greenfork/worker/app.hpp"
#include "greenfork/worker/http/request_parser.hpp"

namespace greenfork::worker::websocket {

// What a valid upgrade request asks for.
struct UpgradeRequest {
  std::string key;                        // Sec-WebSocket-Key, as sent
  std::vector<std::string> subprotocols;  // Sec-WebSocket-Protocol offers, in order
  std::string extensions;                 // every Sec-WebSocket-Extensions value, ", "-joined
};

struct UpgradeCheck {
  int status = 0;                // 0: valid; else 400 or 426 to answer with
  std::string reason;            // why it was refused, for the body and the log
  std::vector<Header> headers;   // to add to the refusal (426: Sec-WebSocket-Version: 13)
  UpgradeRequest request;        // when valid
  bool ok() const { return status == 0; }
};

// Whether the request asks to switch to WebSocket at all: an Upgrade field
// holding the "websocket" token (case-insensitive). Other requests are plain
// HTTP; these go to check_upgrade_request().
bool is_websocket_upgrade(const http::RequestHead& head);

// RFC 6455 4.2.1: GET, HTTP/1.1 or later, Upgrade holds "websocket",
// Connection holds "Upgrade", one Sec-WebSocket-Key that is the base64 of 16
// bytes, and Sec-WebSocket-Version 13 (anything else is 426 with
// "Sec-WebSocket-Version: 13"; none at all is 400 with the same field).
// Sec-WebSocket-Protocol offers must be tokens. Everything else is 400.
UpgradeCheck check_upgrade_request(const http::RequestHead& head);

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
std::string accept_key(std::string_view key);

// The Sec-WebSocket-Protocol offers of a request: comma-separated tokens
// from every such field, in order. nullopt when one is not a token.
std::optional<std::vector<std::string>> parse_subprotocols(const std::vector<Header>& headers);

struct AcceptOptions {
  std::optional<std::string> subprotocol;  // must be one of the request's offers
  std::string extensions;                  // Sec-WebSocket-Extensions value, "" for none
  std::vector<Header> headers;             // the app's extra headers (ASGI websocket.accept)
};

// "HTTP/1.1 101 Switching Protocols" with Upgrade, Connection,
// Sec-WebSocket-Accept, the chosen subprotocol and extensions, then the
// extra headers, and the blank line. Extra headers that belong to the
// handshake or the connection (Upgrade, Connection, Sec-WebSocket-*,
// Content-Length and the other hop-by-hop fields) are dropped. An error
// (INVALID_ARGUMENT) when the subprotocol was not offered or is not a token,
// or an extra header's name is not a token or its value holds CR, LF, NUL or
// another control byte.
StatusOr<std::string> build_accept_response(const UpgradeRequest& request, const AcceptOptions& options);

}  // namespace greenfork::worker::websocket
