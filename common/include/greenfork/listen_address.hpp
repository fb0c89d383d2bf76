// Listen addresses as users write them (`-b`, `bind = [...]`), and binding
// them. Shared by arbiterd (ListenerSet) and a standalone gworker (`-b`).
//
//   StatusOr<ListenAddress> a = parse_listen_address("[::1]:8000");
//   if (!a.ok()) return a.status();    // "bad address '[::1': missing ']'"
//   StatusOr<int> fd = bind_listener(*a, 2048, 0);
//   if (!fd.ok()) return fd.status();  // "bind [::1]:8000: Address already in use"
//
// Accepted forms (Gunicorn's, plus systemd's fd passing):
//   HOST:PORT      127.0.0.1:8000, localhost:8000, 0.0.0.0:80, :8000 (all IPv4)
//   [V6]:PORT      [::1]:8000, [::]:8000
//   HOST / [V6]    port 8000, Gunicorn's default
//   PORT           all digits: 0.0.0.0:PORT
//   tcp://...      the same as without the prefix
//   unix:/PATH     also unix://PATH; relative paths are kept relative
//   fd://N         an already-open listening socket, inherited
// Parsing does no I/O; host names are resolved by bind_listener.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "greenfork/status.hpp"

namespace greenfork {

struct ListenAddress {
  enum Kind { kTcp, kUnix, kFd };

  Kind kind = kTcp;
  std::string host;     // kTcp: as written, brackets removed ("::1")
  bool ipv6 = false;    // kTcp: host was written in brackets
  uint16_t port = 0;    // kTcp
  std::string path;     // kUnix
  int fd = -1;          // kFd

  // Canonical text: "127.0.0.1:8000", "[::1]:8000", "unix:/run/x.sock",
  // "fd://3". Two specs naming the same socket give the same text (as far as
  // that is knowable without resolving names), so it is the key to dedupe on.
  std::string to_string() const;
  // A LISTEN_FDNAMES entry for this address: to_string() with ':' and '%'
  // percent-encoded ("127.0.0.1%3A8000"), since ':' separates the names.
  std::string fd_name() const;

  bool operator==(const ListenAddress&) const = default;
};

// Gunicorn's default port for a bare HOST.
inline constexpr uint16_t kDefaultPort = 8000;

// Errors: "bad address 'x': <why>".
StatusOr<ListenAddress> parse_listen_address(const std::string& text);

// Creates, binds and listens: SOCK_CLOEXEC, SO_REUSEADDR (TCP), IPV6_V6ONLY
// for IPv6 hosts. For unix: `socket_umask` is applied around bind() only; a
// socket file nobody accepts on (left by a dead process) is replaced, one a
// live process listens on is the error "unix:/x: already in use by a running
// process", and a non-socket file is never removed. kFd addresses are not
// bound: use adopt_listener. Errors: "bind 127.0.0.1:80: Permission denied".
// reuse_port: SO_REUSEPORT on a TCP socket (Gunicorn's --reuse-port).
StatusOr<int> bind_listener(const ListenAddress& address, int backlog, mode_t socket_umask,
                            bool reuse_port = false);

// Checks that fd is an open listening stream socket (for fd://N and
// systemd's LISTEN_FDS) and returns what it is bound to, as a kTcp or kUnix
// address (port and numeric host filled in from getsockname()).
// Errors: "fd://7: not a socket", "fd://7: socket is not listening".
StatusOr<ListenAddress> inspect_listener(int fd);

// Whether two addresses name the same socket, comparing numeric hosts
// (after resolving literal addresses, e.g. "[::ffff:127.0.0.1]" is not
// 127.0.0.1 here) and unix paths; used to match inherited sockets to specs.
bool same_endpoint(const ListenAddress& a, const ListenAddress& b);

}  // namespace greenfork
