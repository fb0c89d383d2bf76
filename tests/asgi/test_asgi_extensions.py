"""ASGI HTTP extensions through real arbiterd + gworker -k asgi:
http.response.pathsend (the file goes out with sendfile on the I/O thread,
Content-Length from its size) and http.response.trailers (chunked trailer
fields when the request says `TE: trailers`, dropped otherwise), checked on
raw sockets and with http.client."""
from __future__ import annotations

import http.client
import json
import os
import socket
from urllib.parse import quote

import pytest

from asgi_support import serving


@pytest.fixture(scope="module")
def ext():
    with serving("extension_apps:app") as (base, arb):
        yield arb.port


def exchange(port: int, request: bytes) -> bytes:
    """Sends `request` (which asks to close) and reads until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(1 << 16):
            data += chunk
        return data


def get(port: int, path: str, *headers: str, version: str = "1.1") -> bytes:
    extra = "".join(h + "\r\n" for h in headers)
    return exchange(port, f"GET {path} HTTP/{version}\r\nHost: x\r\n{extra}Connection: close\r\n\r\n"
                    .encode())


def test_scope_offers_the_extensions(ext):
    conn = http.client.HTTPConnection("127.0.0.1", ext, timeout=20)
    conn.request("GET", "/extensions")
    assert json.loads(conn.getresponse().read()) == {"http.response.pathsend": {},
                                                     "http.response.trailers": {},
                                                     "http.response.early_hint": {}}
    conn.close()


def test_pathsend_sends_the_file(ext, tmp_path):
    data = os.urandom(3 * 1024 * 1024 + 17)
    f = tmp_path / "blob.bin"
    f.write_bytes(data)
    conn = http.client.HTTPConnection("127.0.0.1", ext, timeout=30)
    for _ in range(2):  # keep-alive: the connection goes on after a file
        conn.request("GET", "/file?" + quote(str(f)))
        r = conn.getresponse()
        assert r.status == 200 and r.getheader("content-type") == "application/octet-stream"
        assert r.getheader("content-length") == str(len(data))
        assert r.getheader("transfer-encoding") is None
        assert r.read() == data
    conn.request("HEAD", "/file?" + quote(str(f)))
    r = conn.getresponse()
    assert r.getheader("content-length") == str(len(data)) and r.read() == b""
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    conn.request("GET", "/file?" + quote(str(empty)))
    r = conn.getresponse()
    assert (r.status, r.getheader("content-length"), r.read()) == (200, "0", b"")
    conn.close()


def test_pathsend_refuses_a_relative_or_missing_path(ext):
    # The app fails after http.response.start: the connection is closed
    # with no response (as any ASGI exception after the start).
    for target in ("/file?relative/path", "/file?/no/such/file"):
        assert get(ext, target) == b""
    assert get(ext, "/").startswith(b"HTTP/1.1 200")


def test_trailers_when_the_client_takes_them(ext):
    data = get(ext, "/trailers", "TE: trailers")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"Transfer-Encoding: chunked" in head
    assert b"\r\nTrailer: x-checksum, x-count\r\n" in head
    assert body == b"6\r\nhello \r\n5\r\nworld\r\n0\r\nx-checksum: abc123\r\nx-count: 2\r\n\r\n"
    data = get(ext, "/trailers-whole", "TE: deflate, trailers")
    assert data.endswith(b"\r\n\r\n5\r\nwhole\r\n0\r\nx-done: yes\r\n\r\n"), data


def test_trailers_dropped_without_te_trailers(ext):
    for headers, version in (((), "1.1"), (("TE: deflate",), "1.1")):
        data = get(ext, "/trailers", *headers, version=version)
        assert b"Trailer:" not in data
        assert data.endswith(b"\r\n\r\n6\r\nhello \r\n5\r\nworld\r\n0\r\n\r\n"), data
    # HTTP/1.0: no chunked coding, so no trailers: the body ends with the connection.
    data = get(ext, "/trailers", "TE: trailers", version="1.0")
    assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"\r\n\r\nhello world"), data


def test_trailers_then_the_next_request_on_the_connection(ext):
    with socket.create_connection(("127.0.0.1", ext), timeout=20) as s:
        s.sendall(b"GET /trailers HTTP/1.1\r\nHost: x\r\nTE: trailers\r\n\r\n"
                  b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(1 << 16):
            data += chunk
    first, sep, second = data.partition(b"x-count: 2\r\n\r\n")
    assert sep and second.startswith(b"HTTP/1.1 200") and second.endswith(b"ok"), data


def test_trailers_not_announced_is_an_app_error(ext):
    data = get(ext, "/trailers-bad", "TE: trailers")
    # Started and streaming: the connection is closed without the last chunk.
    assert data.startswith(b"HTTP/1.1 200") and not data.endswith(b"0\r\n\r\n"), data
