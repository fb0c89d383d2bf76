"""Timeouts close connections that stall (whole-head deadline, keep-alive
idle, body idle), and idle half-sent connections cost nothing: hundreds of
them are held while normal requests are answered promptly."""

from __future__ import annotations

import socket
import time

from httpwire import Wire, request

HEAD_START = b"GET / HTTP/1.1\r\nHost: x\r\n"


def closes_within(w: Wire, seconds: float) -> float:
    """Seconds until the server closed; fails if it answers 200 or never closes.
    A 408 before the close is accepted."""
    start = time.monotonic()
    try:
        data = w.read_until_close(seconds)
    except socket.timeout:
        raise AssertionError(f"connection still open after {seconds}s") from None
    assert data == b"" or data.startswith(b"HTTP/1.1 408"), f"unexpected answer {data[:200]!r}"
    return time.monotonic() - start


def trickle(w: Wire, data: bytes, every: float, until: float) -> bool:
    """Sends data one byte at a time every `every` s until `until` (monotonic)
    or until the server closes; True when the server closed."""
    for b in data:
        if time.monotonic() >= until:
            return False
        try:
            w.send(bytes([b]))
        except (BrokenPipeError, ConnectionResetError):
            return True
        w.sock.settimeout(every)
        try:
            chunk = w.sock.recv(4096)
        except socket.timeout:
            continue
        except ConnectionResetError:
            return True
        if not chunk or chunk.startswith(b"HTTP/1.1 408"):
            return True
        raise AssertionError(f"unexpected answer while trickling: {chunk[:200]!r}")
    return False


def test_slow_head_is_dropped_at_the_header_deadline(gworker):
    srv = gworker("--header-timeout", "1", "--keep-alive", "5")
    with Wire(srv.port) as w:
        start = time.monotonic()
        # A slowloris: a header byte every 0.2 s, never idle long, never done.
        closed = trickle(w, HEAD_START + b"X-Slow: " + b"z" * 200, every=0.2, until=start + 6)
        elapsed = time.monotonic() - start
    assert closed, "a head trickled for 6 s was never cut off"
    assert elapsed < 3.5, f"the 1 s header deadline took {elapsed:.1f}s"


def test_silent_connection_is_closed(gworker):
    srv = gworker("--header-timeout", "1", "--keep-alive", "1")
    with Wire(srv.port) as w:
        assert closes_within(w, 5.0) < 4.0


def test_idle_keep_alive_connection_is_closed(gworker):
    srv = gworker("--keep-alive", "1", "--header-timeout", "10")
    with Wire(srv.port) as w:
        w.send(request("GET", "/"))
        assert w.response().status == 200
        elapsed = closes_within(w, 6.0)
    assert 0.7 <= elapsed < 4.0, f"closed after {elapsed:.2f}s idle, --keep-alive 1"


def test_keep_alive_connection_reused_within_the_idle_time(gworker):
    srv = gworker("--keep-alive", "3")
    with Wire(srv.port) as w:
        for i in range(3):
            w.send(request("GET", f"/r{i}"))
            assert w.response().status == 200
            # not idle long enough to be closed: the next request still works
            assert not w.closed_within(0.5)


def test_stalled_body_is_dropped(gworker):
    srv = gworker("--body-timeout", "1", "--header-timeout", "10", "--keep-alive", "10")
    with Wire(srv.port) as w:
        w.send(request("POST", "/", [("Content-Length", "100")]) + b"x" * 10)
        start = time.monotonic()
        try:
            data = w.read_until_close(6.0)
        except socket.timeout:
            raise AssertionError("a body stalled for 6 s kept its connection") from None
        elapsed = time.monotonic() - start
    assert not data.startswith(b"HTTP/1.1 200"), data[:200]
    assert elapsed < 4.0, f"body idle timeout 1 s took {elapsed:.1f}s"


def test_slow_but_moving_body_is_served(gworker):
    srv = gworker("--body-timeout", "1")
    body = b"0123456789"
    with Wire(srv.port) as w:
        w.send(request("POST", "/bodylen", [("Content-Length", str(len(body)))]))
        for b in body[:-1]:  # 0.3 s between bytes: slow, never idle for 1 s
            w.send(bytes([b]))
            assert not w.closed_within(0.3), "a moving body was cut off"
        w.send(body[-1:])
        r = w.response()
    assert r.status == 200 and r.body.startswith(b"len=10 ")


def test_idle_half_sent_connections_do_not_block_others(gworker):
    srv = gworker("--header-timeout", "60", "--keep-alive", "60")
    idle = []
    try:
        for i in range(200):
            s = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
            s.sendall(HEAD_START + f"X-Idle: {i}\r\n".encode())
            idle.append(s)
        # Normal clients are answered promptly while the 200 are held.
        slowest = 0.0
        for i in range(50):
            start = time.monotonic()
            with Wire(srv.port, timeout=5) as w:
                w.send(request("GET", f"/busy{i}", [("Connection", "close")]))
                assert w.response().status == 200
            slowest = max(slowest, time.monotonic() - start)
        assert slowest < 1.0, f"a request took {slowest:.2f}s next to 200 idle connections"
        # The idle ones are still open, and each finishes when its client does.
        for s in idle:
            s.setblocking(False)
            try:
                assert s.recv(1) != b"", "an idle half-sent connection was closed"
            except BlockingIOError:
                pass
            s.setblocking(True)
        for s in idle[:20]:
            s.sendall(b"Connection: close\r\n\r\n")
        for s in idle[:20]:
            s.settimeout(10)
            data = b""
            while chunk := s.recv(65536):
                data += chunk
            assert data.startswith(b"HTTP/1.1 200"), data[:200]
    finally:
        for s in idle:
            s.close()
