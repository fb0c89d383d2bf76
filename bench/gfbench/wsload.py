"""The WebSocket echo load (scenario `ws-echo`): N client connections, each
keeping `window` small text messages in flight, for a bounded time; the
result is echoed messages per second.

A small client of its own (non-blocking sockets and epoll, frames built
once): per message it does a slice of a bytes object, so that the client's
cost stays well under the servers' on a shared machine. The messages have a
fixed size and the servers send nothing else in a run (their keepalive pings
come every 20 s, runs are shorter; no compression offered), so the echoed
count is the bytes received divided by the echoed frame's size.
"""

from __future__ import annotations

import base64
import os
import selectors
import socket
import time
from typing import List, Optional

from .fmt import fmt_mib, fmt_x

MESSAGE = b"0123456789abcdefghijklmnopqrstuv"  # 32 bytes of text
_MASK = b"\x11\x22\x33\x44"
# A client frame (FIN, text, masked) and the server's echo (unmasked).
_CLIENT_FRAME = bytes([0x81, 0x80 | len(MESSAGE)]) + _MASK + \
    bytes(b ^ _MASK[i % 4] for i, b in enumerate(MESSAGE))
_ECHO_FRAME = bytes([0x81, len(MESSAGE)]) + MESSAGE
_ECHO_SIZE = len(_ECHO_FRAME)
_ECHOES = _ECHO_FRAME * (2 + (1 << 16) // _ECHO_SIZE)  # any 64 KiB read, from any offset


class Load:
    def __init__(self, port: int, path: str, connections: int, window: int = 8):
        self.port, self.path = port, path
        self.connections, self.window = connections, window
        self.socks: List[socket.socket] = []
        self.received = [0] * connections  # echo bytes per connection
        self.sel = selectors.DefaultSelector()

    def open(self, timeout: float = 20.0) -> None:
        """Connects and upgrades every connection (blocking, one by one)."""
        for i in range(self.connections):
            s = socket.create_connection(("127.0.0.1", self.port), timeout=timeout)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            key = base64.b64encode(os.urandom(16))
            s.sendall(b"GET " + self.path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " +
                      key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = s.recv(4096)
                if not chunk:
                    raise ConnectionError("closed during the WebSocket handshake")
                head += chunk
            if not head.startswith(b"HTTP/1.1 101"):
                raise ConnectionError("no 101: " + head.split(b"\r\n", 1)[0].decode(errors="replace"))
            extra = head.split(b"\r\n\r\n", 1)[1]
            s.setblocking(False)
            self.socks.append(s)
            self.received[i] = len(extra)
            self.sel.register(s, selectors.EVENT_READ, i)

    def _check(self, i: int, data: bytes) -> None:
        """The bytes are echo frames, in order (nothing else is counted)."""
        at = self.received[i] % _ECHO_SIZE
        if data != _ECHOES[at:at + len(data)] and \
                data != (_ECHO_FRAME * (len(data) // _ECHO_SIZE + 2))[at:at + len(data)]:
            raise ConnectionError(f"not an echo of the messages: {data[:40]!r}")

    def run(self, seconds: float) -> int:
        """Drives the echo for `seconds`; the messages echoed meanwhile."""
        start = sum(r // _ECHO_SIZE for r in self.received)
        for s in self.socks:  # fill every window
            s.send(_CLIENT_FRAME * self.window)
        sent = [self.window] * len(self.socks)
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            for key, _ in self.sel.select(timeout=0.5):
                i = key.data
                try:
                    data = key.fileobj.recv(1 << 16)
                except BlockingIOError:
                    continue
                if not data:
                    raise ConnectionError("the server closed a WebSocket")
                self._check(i, data)
                self.received[i] += len(data)
                done = self.received[i] // _ECHO_SIZE
                more = done + self.window - sent[i]
                if more > 0:
                    key.fileobj.send(_CLIENT_FRAME * more)
                    sent[i] += more
        # What was sent beyond the echoes is still in flight: drain it so
        # the next run() starts with empty windows.
        drain_until = time.monotonic() + 5
        while time.monotonic() < drain_until and \
                any(r // _ECHO_SIZE < n for r, n in zip(self.received, sent)):
            for key, _ in self.sel.select(timeout=0.2):
                try:
                    data = key.fileobj.recv(1 << 16)
                except BlockingIOError:
                    continue
                self.received[key.data] += len(data)
        total = sum(r // _ECHO_SIZE for r in self.received)
        return total - start

    def close(self) -> None:
        for s in self.socks:
            try:
                s.setblocking(True)
                s.settimeout(1)
                s.send(bytes([0x88, 0x82]) + _MASK + bytes(
                    b ^ _MASK[i % 4] for i, b in enumerate((1000).to_bytes(2, "big"))))
            except OSError:
                pass
            s.close()
        self.sel.close()


def measure(port: int, path: str, connections: int, warmup: float, duration: float) -> dict:
    """{"msgs_per_s": ..., "messages": ...} of one echo run after a warm-up."""
    load = Load(port, path, connections)
    try:
        load.open()
        if warmup > 0:
            load.run(warmup)
        t0 = time.monotonic()
        n = load.run(duration)
        took = time.monotonic() - t0
        return {"msgs_per_s": n / took, "messages": n}
    finally:
        load.close()


def table(rows) -> List[str]:
    uv = next((r for r in rows if r.server == "uvicorn" and "msgs_per_s" in r.extra), None)
    head = ["server", "messages/s", "messages", "RSS/worker", "× uvicorn"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if "msgs_per_s" not in r.extra:
            lines.append("| " + " | ".join([r.server, r.note or "failed"] + ["–"] * 3) + " |")
            continue
        ratio: Optional[float] = (r.extra["msgs_per_s"] / uv.extra["msgs_per_s"]
                                  if uv and uv.extra["msgs_per_s"] else None)
        lines.append("| " + " | ".join([r.server, f"{r.extra['msgs_per_s']:,.0f}",
                                        f"{r.extra['messages']:,}", fmt_mib(r.rss_kib),
                                        fmt_x(ratio)]) + " |")
    return lines
