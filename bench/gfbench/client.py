"""A small HTTP/1.1 client that sends exactly N keep-alive requests.

wrk runs for a time, not a count; the instruction and syscall counts need a
fixed number of requests so that a run with N requests minus a run with none
is the cost of N requests. One connection, one request at a time (so the
server's work per request does not depend on how requests happen to batch),
a new connection only when the server closes one. Loopback only; every read
has a timeout and the whole run a deadline.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass


@dataclass
class ClientResult:
    requests: int = 0
    connections: int = 0
    seconds: float = 0.0


class ClientError(RuntimeError):
    pass


def _request(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: gfbench\r\n\r\n".encode()


class _Conn:
    def __init__(self, port: int, timeout: float):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def response(self) -> bool:
        """Reads one response; returns whether the connection stays open."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or parts[1] != "200":
            raise ClientError(f"unexpected status line {lines[0]!r}")
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if "content-length" not in fields:
            raise ClientError("response without Content-Length: " + " | ".join(lines))
        length = int(fields["content-length"])
        while len(self.buf) < length:
            self._fill()
        self.buf = self.buf[length:]
        return fields.get("connection", "").lower() != "close"

    def close(self) -> None:
        self.sock.close()


def keepalive(port: int, count: int, path: str = "/", timeout: float = 30.0,
              deadline_s: float = 600.0) -> ClientResult:
    """Sends `count` GETs over keep-alive connections, one at a time."""
    res = ClientResult()
    t0 = time.monotonic()
    req = _request(path)
    conn = None
    try:
        while res.requests < count:
            if time.monotonic() - t0 > deadline_s:
                raise ClientError(f"only {res.requests} of {count} requests "
                                  f"within {deadline_s:.0f} s")
            if conn is None:
                conn = _Conn(port, timeout)
                res.connections += 1
            try:
                conn.sock.sendall(req)
                keep = conn.response()
            except (EOFError, ConnectionResetError, BrokenPipeError):
                if conn.buf:
                    raise ClientError("connection closed mid-response") from None
                # closed (or reset: our request was unread) between requests,
                # as at a server's keep-alive limit: a new connection, the same request
                conn.close()
                conn = None
                if res.connections > count // 10 + 10:
                    raise ClientError("the server keeps closing connections") from None
                continue
            res.requests += 1
            if not keep:
                conn.close()
                conn = None
    finally:
        if conn is not None:
            conn.close()
    res.seconds = time.monotonic() - t0
    return res
