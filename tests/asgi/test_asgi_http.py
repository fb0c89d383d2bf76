"""ASGI 3 HTTP through real arbiterd + gworker -k asgi (tests/asgi/apps/
raw_asgi.py): the scope field by field, streaming both ways, back-pressure,
disconnects, errors before and after http.response.start, framing."""
from __future__ import annotations

import json
import socket
import threading
import time

import httpx
import pytest

from asgi_support import events, serving, wait_for_event
from gftest import wait_until


@pytest.fixture(scope="module")
def raw():
    with serving("raw_asgi:app", "--root-path", "/mount", "--no-request-buffering") as (base, arb):
        yield base


def test_scope_field_by_field(raw):
    r = httpx.post(raw + "/scope/a%20b/%C3%A9?x=1&y=%20", content=b"payload",
                   headers={"X-Custom": "Value One", "X-Dup": "1"}, timeout=10)
    assert r.status_code == 200
    data = r.json()
    s = data["scope"]
    assert s["type"] == "http"
    assert s["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert s["http_version"] == "1.1"
    assert s["method"] == "POST"
    assert s["scheme"] == "http"
    assert s["path"] == "/scope/a b/\u00e9"
    assert s["raw_path"] == {"bytes": "/scope/a%20b/%C3%A9"}
    assert s["query_string"] == {"bytes": "x=1&y=%20"}
    assert s["root_path"] == "/mount"
    port = int(raw.rsplit(":", 1)[1])
    assert s["server"] == ["127.0.0.1", port]
    assert s["client"][0] == "127.0.0.1" and isinstance(s["client"][1], int)
    assert s["state"] == {"started": "yes"}  # the lifespan's state, copied
    names = [h[0]["bytes"] for h in s["headers"]]
    assert names == [n.lower() for n in names]  # lowercase
    assert ["x-custom", "x-dup"] == [n for n in names if n.startswith("x-")]  # in order
    assert [h[1]["bytes"] for h in s["headers"] if h[0]["bytes"] == "x-custom"] == ["Value One"]
    assert data["scope"]["header_types"] == ["bytes"]
    types = s["types"]
    for key in ("type", "http_version", "method", "scheme", "path", "root_path"):
        assert types[key] == "str", key
    for key in ("raw_path", "query_string"):
        assert types[key] == "bytes", key
    assert types["headers"] == "list" and types["client"] == "tuple"
    assert data["body"] == "payload" and data["messages"] == 1


def test_http_10_scope_and_close_delimited_stream(raw):
    port = int(raw.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(b"GET /stream?2 HTTP/1.0\r\nHost: x\r\n\r\n")
        reply = b""
        while chunk := c.recv(65536):
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding" not in head and b"Content-Length" not in head
    assert body == b"part0\npart1\n"


def test_streamed_response_is_chunked(raw):
    with httpx.stream("GET", raw + "/stream?5", timeout=10) as r:
        assert r.headers["transfer-encoding"] == "chunked"
        assert "content-length" not in r.headers
        assert r.read() == b"".join(b"part%d\n" % i for i in range(5))


def test_response_content_length_kept_and_header_case(raw):
    r = httpx.get(raw + "/sized", timeout=10)
    assert r.content == b"0123456789"
    assert r.headers["content-length"] == "10" and "transfer-encoding" not in r.headers
    assert r.headers["x-mixed-case"] == "Value"


def test_head_has_no_body(raw):
    port = int(raw.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(b"HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n")
        reply = b""
        while chunk := c.recv(65536):
            reply += chunk
    first, _, rest = reply.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200")
    # The next response follows the HEAD's head directly: no body bytes.
    assert rest.startswith(b"HTTP/1.1 200"), reply
    assert rest.endswith(b'{"hello": "world"}')


def test_request_body_streams_in_and_out(raw):
    pieces = [b"a" * 70000, b"b" * 70000, b"c" * 70000]

    def gen():
        for p in pieces:
            yield p
            time.sleep(0.05)
    with httpx.stream("POST", raw + "/echo-stream", content=gen(), timeout=20) as r:
        assert r.headers["transfer-encoding"] == "chunked"
        assert r.read() == b"".join(pieces)
    # The app saw the body in several http.request messages (more_body).
    got = [e["echo_messages"] for e in events(raw) if "echo_messages" in e]
    assert got and got[-1] >= 2


def test_upload_waits_for_the_app_to_read(raw):
    """Back-pressure: an app that has not called receive() yet leaves the
    body in the client (the socket is not read ahead), then gets it all."""
    size = 64 * 1024 * 1024
    result = {}

    def upload():
        with socket.create_connection(("127.0.0.1", int(raw.rsplit(":", 1)[1])), timeout=60) as c:
            c.sendall(b"POST /hold HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size)
            block = b"z" * (1 << 20)
            sent = 0
            for _ in range(size // len(block)):
                c.sendall(block)
                sent += len(block)
                result["sent"] = sent
            reply = b""
            while b'"messages"' not in reply:
                chunk = c.recv(65536)
                if not chunk:
                    break
                reply += chunk
            result["reply"] = reply
    t = threading.Thread(target=upload, daemon=True)
    t.start()
    wait_for_event(raw, {"hold": "waiting"})
    # Give the client time to push what the kernel buffers allow: it stalls
    # far short of the body while the app holds.
    wait_until(lambda: result.get("sent", 0) > 0, timeout=10, message="upload started")
    time.sleep(1.0)  # the upload must stay stalled over time, not just now
    stalled_at = result["sent"]
    assert stalled_at < size // 2, stalled_at
    httpx.get(raw + "/release", timeout=10)
    t.join(timeout=60)
    assert not t.is_alive()
    body = result["reply"].partition(b"\r\n\r\n")[2]
    data = json.loads(body)
    assert data["length"] == size and data["messages"] > 1


def test_exception_before_start_is_500(raw):
    r = httpx.get(raw + "/raise-early", timeout=10)
    assert r.status_code == 500
    r = httpx.get(raw + "/no-response", timeout=10)
    assert r.status_code == 500


def test_exception_after_start_closes_the_connection(raw):
    port = int(raw.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(b"GET /raise-late HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = b""
        while chunk := c.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200")
    assert b"partial" in reply
    assert not reply.endswith(b"0\r\n\r\n")  # no terminating chunk: incomplete
    assert httpx.get(raw + "/", timeout=10).status_code == 200  # the worker goes on


def test_disconnect_while_waiting(raw):
    port = int(raw.rsplit(":", 1)[1])
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.sendall(b"GET /wait-disconnect HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.2)
    c.close()
    wait_for_event(raw, {"wait_disconnect": "http.disconnect"})


def test_disconnect_while_streaming(raw):
    port = int(raw.rsplit(":", 1)[1])
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.sendall(b"GET /stream-forever HTTP/1.1\r\nHost: x\r\n\r\n")
    got = b""
    while len(got) < 8192:
        got += c.recv(65536)
    c.close()
    wait_for_event(raw, {"stream_receive": "http.disconnect"})
    # spec_version 2.4: send() after the client left raises an OSError.
    wait_for_event(raw, {"stream_send": "ClientDisconnected"})


def test_concurrent_requests_share_one_loop(raw):
    """20 requests that each sleep 1 s on one worker finish in about 1 s."""
    results = []

    def one():
        results.append(httpx.get(raw + "/sleep?1", timeout=30).status_code)
    threads = [threading.Thread(target=one) for _ in range(20)]
    start = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == [200] * 20
    assert time.monotonic() - start < 8
