"""Raw-socket HTTP/1.1 client pieces for gworker's end-to-end tests.

http.client hides exactly what these tests look at (framing, 100 Continue,
pipelining, when the server closes), so responses are read by hand here.

    with Wire(port) as w:
        w.send(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n" * 2)
        first, second = w.response(), w.response()
        assert w.closed_within(3.0) is False
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field
from typing import Optional


class ProtocolError(AssertionError):
    pass


@dataclass
class RawResponse:
    status: int
    reason: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    chunked: bool = False
    trailers: list[tuple[str, str]] = field(default_factory=list)
    raw_head: bytes = b""

    def header(self, name: str) -> Optional[str]:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


class Wire:
    """One client connection with a read buffer."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.timeout = timeout
        self.buf = b""
        self.eof = False

    def __enter__(self) -> "Wire":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> bool:
        """Reads more into buf; False at EOF. Raises socket.timeout at the deadline."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("deadline passed while reading")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def _read_line(self, deadline: float, limit: int = 1 << 20) -> bytes:
        while b"\r\n" not in self.buf:
            if len(self.buf) > limit:
                raise ProtocolError("line too long in response")
            if not self._fill(deadline):
                raise ProtocolError(f"connection closed mid-line: {self.buf[:200]!r}")
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read_exact(self, n: int, deadline: float) -> bytes:
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise ProtocolError(f"connection closed after {len(self.buf)} of {n} body bytes")
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def _read_fields(self, deadline: float) -> list[tuple[str, str]]:
        fields = []
        while True:
            line = self._read_line(deadline)
            if line == b"":
                return fields
            name, sep, value = line.partition(b":")
            if not sep or not name or name != name.strip():
                raise ProtocolError(f"malformed header line {line!r}")
            fields.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))

    def response(self, method: str = "GET", timeout: Optional[float] = None) -> RawResponse:
        """Reads one response (a 1xx counts as one) framed as RFC 9112 says."""
        deadline = time.monotonic() + (timeout or self.timeout)
        status_line = self._read_line(deadline)
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"bad status line {status_line!r}")
        headers = self._read_fields(deadline)
        resp = RawResponse(status=int(parts[1]),
                           reason=parts[2].decode("latin-1") if len(parts) > 2 else "",
                           version=parts[0].decode("ascii"), headers=headers,
                           raw_head=status_line)
        if 100 <= resp.status < 200 or resp.status in (204, 304) or method == "HEAD":
            return resp
        te = resp.header("Transfer-Encoding")
        cl = resp.header_all("Content-Length")
        if te is not None:
            if cl:
                raise ProtocolError("response has both Content-Length and Transfer-Encoding")
            if te.lower() != "chunked":
                raise ProtocolError(f"unexpected Transfer-Encoding {te!r}")
            resp.chunked = True
            body = []
            while True:
                size_line = self._read_line(deadline)
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    resp.trailers = self._read_fields(deadline)
                    break
                body.append(self._read_exact(size, deadline))
                if self._read_exact(2, deadline) != b"\r\n":
                    raise ProtocolError("chunk not followed by CRLF")
            resp.body = b"".join(body)
        elif cl:
            if len(cl) != 1 or not cl[0].isdigit():
                raise ProtocolError(f"bad Content-Length {cl!r}")
            resp.body = self._read_exact(int(cl[0]), deadline)
        else:
            while self._fill(deadline):
                pass
            resp.body, self.buf = self.buf, b""
        return resp

    def closed_within(self, seconds: float) -> bool:
        """True if the server closes (EOF or reset) within `seconds` with no
        further bytes; raises ProtocolError if it sends anything instead."""
        deadline = time.monotonic() + seconds
        if self.buf:
            raise ProtocolError(f"unexpected bytes from the server: {self.buf[:200]!r}")
        try:
            if self._fill(deadline):
                raise ProtocolError(f"unexpected bytes from the server: {self.buf[:200]!r}")
        except socket.timeout:
            return False
        return True

    def read_until_close(self, seconds: float) -> bytes:
        """Everything the server sends until it closes; raises socket.timeout."""
        deadline = time.monotonic() + seconds
        while self._fill(deadline):
            pass
        data, self.buf = self.buf, b""
        return data


def request(method: str, target: str, headers: Optional[list[tuple[str, str]]] = None,
            body: bytes = b"", version: str = "HTTP/1.1", host: bool = True) -> bytes:
    """Bytes of one request; adds Host (unless told not to) and Content-Length for a body."""
    lines = [f"{method} {target} {version}".encode("latin-1")]
    names = {k.lower() for k, _ in headers or []}
    if host and "host" not in names:
        lines.append(b"Host: test")
    for k, v in headers or []:
        lines.append(f"{k}: {v}".encode("latin-1"))
    if body and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def chunked(*pieces: bytes, trailers: Optional[list[tuple[str, str]]] = None) -> bytes:
    out = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces if p)
    out += b"0\r\n"
    for k, v in trailers or []:
        out += f"{k}: {v}\r\n".encode("latin-1")
    return out + b"\r\n"


def parse_responses(data: bytes) -> list[RawResponse]:
    """Every complete response in `data` (what a closed connection delivered)."""
    class _Buffered(Wire):
        def __init__(self, payload: bytes):  # noqa: D401 - no socket needed
            self.buf, self.eof, self.timeout = payload, False, 1.0

        def _fill(self, deadline: float) -> bool:
            self.eof = True
            return False

    w = _Buffered(data)
    out = []
    while w.buf:
        out.append(w.response())
    return out
