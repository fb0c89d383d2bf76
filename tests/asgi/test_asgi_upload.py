"""Request bodies of -k asgi with the default settings: streamed to the
app's receive() with back-pressure (not buffered whole before the app
runs), intact whatever way they arrive: Content-Length (read straight into
the app's bytes), chunked, Expect: 100-continue, pipelined behind one
another on a keep-alive connection, cut by the client, over
--limit-request-body."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import threading
import time

import httpx
import pytest

from asgi_support import APPS, events, serving, wait_for_event
from gftest import Spawned, binary, free_port, read_http_response, wait_until


@contextlib.contextmanager
def gworker(*args: str):
    """A standalone gworker -k asgi on upload_asgi:app (it takes
    --limit-request-body, which arbiterd does not): yields its base URL."""
    port = free_port()
    with Spawned([binary("gworker"), "-b", f"127.0.0.1:{port}", "--worker-class", "asgi",
                  "--chdir", str(APPS), *args, "upload_asgi:app"]) as proc:
        base = f"http://127.0.0.1:{port}"

        def ready():
            assert proc.poll() is None, proc.output()
            try:
                return httpx.get(base + "/", timeout=2).status_code == 200
            except httpx.TransportError:
                return False
        wait_until(ready, timeout=30, message="gworker -k asgi serving")
        yield base


@pytest.fixture(scope="module")
def up():
    with serving("upload_asgi:app") as (base, arb):
        yield base


def _port(base: str) -> int:
    return int(base.rsplit(":", 1)[1])


def _post(path: str, body: bytes, extra: bytes = b"") -> bytes:
    return (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n" %
            (path.encode(), len(body), extra)) + body


def test_body_streams_to_the_app_without_reading_ahead(up):
    """The default (request buffering on) does not hold an async app's body
    back until it is whole: the app runs at once, and while it reads
    nothing the upload stalls in the client, far short of the body."""
    size = 64 * 1024 * 1024
    result = {}

    def upload():
        with socket.create_connection(("127.0.0.1", _port(up)), timeout=60) as c:
            c.sendall(b"POST /hold HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size)
            block = b"z" * (1 << 20)
            for _ in range(size // len(block)):
                c.sendall(block)
                result["sent"] = result.get("sent", 0) + len(block)
            result["reply"] = read_http_response(c)[1]
    t = threading.Thread(target=upload, daemon=True)
    t.start()
    wait_for_event(up, {"hold": "waiting"})
    wait_until(lambda: result.get("sent", 0) > 0, timeout=10, message="the upload started")
    time.sleep(1.0)  # stalled over time, not just now
    stalled_at = result["sent"]
    assert stalled_at < size // 2, stalled_at
    httpx.get(up + "/release", timeout=10)
    t.join(timeout=60)
    assert not t.is_alive()
    data = json.loads(result["reply"])
    assert data["length"] == size and data["messages"] > 1
    assert data["sha256"] == hashlib.sha256(b"z" * size).hexdigest()


def test_pipelined_bodies_stay_apart(up):
    """Three requests in one send: each body read exactly (never into the
    next request's bytes), each answered in order."""
    a, b = os.urandom(1024 * 1024 + 7), os.urandom(300 * 1000)
    wire = _post("/digest", a) + _post("/digest", b) + b"GET /digest HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", _port(up)), timeout=30) as c:
        c.sendall(wire)
        buf = bytearray()
        for want in (a, b, b""):
            head, body = read_http_response(c, buf)
            assert head.startswith(b"HTTP/1.1 200"), head
            got = json.loads(body)
            assert (got["length"], got["sha256"]) == (len(want), hashlib.sha256(want).hexdigest())
            assert not got["disconnected"]


def test_slow_body_in_pieces(up):
    """Pieces with pauses: each message is what has come, the whole intact."""
    data = os.urandom(700 * 1000)
    with socket.create_connection(("127.0.0.1", _port(up)), timeout=30) as c:
        c.sendall(b"POST /digest HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(data))
        for i in range(0, len(data), 100 * 1000):
            c.sendall(data[i:i + 100 * 1000])
            time.sleep(0.05)
        head, body = read_http_response(c)
    got = json.loads(body)
    assert head.startswith(b"HTTP/1.1 200")
    assert got["sha256"] == hashlib.sha256(data).hexdigest() and got["messages"] >= 2


def test_expect_100_continue_then_body(up):
    data = os.urandom(1024 * 1024)
    with socket.create_connection(("127.0.0.1", _port(up)), timeout=30) as c:
        c.sendall(b"POST /digest HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(data))
        buf = bytearray()
        deadline = time.monotonic() + 20
        while b"\r\n\r\n" not in buf:
            assert time.monotonic() < deadline
            buf += c.recv(4096)
        assert buf.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), bytes(buf)
        del buf[:len(b"HTTP/1.1 100 Continue\r\n\r\n")]
        c.sendall(data)
        head, body = read_http_response(c, buf)
    assert head.startswith(b"HTTP/1.1 200")
    assert json.loads(body)["sha256"] == hashlib.sha256(data).hexdigest()


def test_chunked_upload(up):
    data = os.urandom(1024 * 1024 + 3)

    def gen():
        for i in range(0, len(data), 200 * 1000):
            yield data[i:i + 200 * 1000]
    r = httpx.post(up + "/digest", content=gen(), timeout=30)
    assert r.status_code == 200
    assert r.json()["sha256"] == hashlib.sha256(data).hexdigest()


def test_client_leaving_mid_body_is_http_disconnect(up):
    with socket.create_connection(("127.0.0.1", _port(up)), timeout=30) as c:
        c.sendall(b"POST /digest HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
        c.sendall(b"q" * 300000)
    wait_until(lambda: any(e.get("digest", {}).get("disconnected") for e in events(up)),
               timeout=15, message="http.disconnect while the body was read")
    seen = [e["digest"] for e in events(up) if e.get("digest", {}).get("disconnected")]
    assert seen[-1]["length"] <= 300000


def test_limit_request_body_413():
    with gworker("--limit-request-body", "100000") as base:
        # Content-Length over the limit: refused before the app runs.
        r = httpx.post(base + "/digest", content=b"x" * 100001, timeout=20)
        assert r.status_code == 413
        # A chunked body crossing it while the app reads.
        r = httpx.post(base + "/digest", content=iter([b"y" * 60000, b"y" * 60000]), timeout=20)
        assert r.status_code == 413
        assert httpx.post(base + "/digest", content=b"x" * 100000, timeout=20).json()["length"] == 100000


def test_stalled_body_times_out_as_http_disconnect():
    """A client that stops sending mid-body while the app waits in receive()
    is dropped after --body-timeout; the app gets http.disconnect."""
    with gworker("--body-timeout", "1") as base:
        with socket.create_connection(("127.0.0.1", _port(base)), timeout=30) as c:
            c.sendall(b"POST /digest HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n")
            c.sendall(b"s" * 5000)
            c.settimeout(20)
            assert c.recv(65536) == b""  # closed by the server, nothing answered
        wait_until(lambda: any(e.get("digest", {}).get("disconnected") for e in events(base)),
                   timeout=15, message="http.disconnect after the body timeout")
        seen = [e["digest"] for e in events(base) if "digest" in e]
        assert seen[-1] == {"sha256": hashlib.sha256(b"s" * 5000).hexdigest(), "length": 5000,
                            "messages": seen[-1]["messages"], "disconnected": True}
