"""Issue 14: --limit-request-line and --limit-request-field_size count bytes
as Gunicorn does, so a deployment moved from Gunicorn refuses exactly what
it refused before.

Gunicorn (gunicorn/http/message.py) measures the request line without its
CRLF (refused when longer than the limit) and a header field line WITH its
CRLF (header_length = len(line) + len("\\r\\n"), refused when above the
limit). At the default 8190 an 8189-byte header line is refused by Gunicorn;
gworker accepted it. Each boundary is tried at limit-1, limit and limit+1
against a real gworker.
"""

from __future__ import annotations

import sys

import pytest

from gftest import BUILD_DIR, SOURCE_DIR, Spawned, binary, free_port, http_get, wait_until

sys.path.insert(0, str(SOURCE_DIR / "tests/http"))
from httpwire import Wire, parse_responses  # noqa: E402

ECHO = f"native:{BUILD_DIR / 'tests/support/native_echo/libnative_echo.so'}"


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """gworker with the default limits, and one with small ones (flags)."""
    out = {}
    procs = []
    for key, flags in (("default", []),
                       ("small", ["--limit-request-line", "100",
                                  "--limit-request-field_size", "60"])):
        port = free_port()
        proc = Spawned([binary("gworker"), "-b", f"127.0.0.1:{port}", *flags, ECHO],
                       logdir=tmp_path_factory.mktemp(key)).start()
        procs.append(proc)
        out[key] = port
    try:
        for port in out.values():
            wait_until(lambda: http_get(port, "/status?code=204", timeout=2).status == 204,
                       timeout=30, message=f"gworker on {port}")
        yield out
    finally:
        for proc in procs:
            proc.stop(timeout=5)


def status_of(port: int, data: bytes) -> int:
    """The status of the one response to `data`; a refusal also closes."""
    with Wire(port) as w:
        w.send(data)
        first = w.response()
        if first.status >= 400:
            assert (first.header("Connection") or "").lower() == "close"
            assert parse_responses(w.read_until_close(10.0)) == []
    return first.status


def request_line_of(length: int) -> bytes:
    """GET /aaa...a HTTP/1.1 of exactly `length` bytes (CRLF not counted)."""
    fixed = len("GET / HTTP/1.1")
    return b"GET /" + b"a" * (length - fixed) + b" HTTP/1.1\r\nHost: x\r\n\r\n"


def header_line_of(length_with_crlf: int) -> bytes:
    """A request with one header line of `length_with_crlf` bytes, CRLF included."""
    value = b"v" * (length_with_crlf - 2 - len("X-Edge: "))
    return b"GET / HTTP/1.1\r\nHost: x\r\nX-Edge: " + value + b"\r\n\r\n"


@pytest.mark.parametrize("server,limit", [("default", 4094), ("small", 100)])
@pytest.mark.parametrize("delta,expected", [(-1, 200), (0, 200), (1, 414)])
def test_request_line_limit_counts_without_crlf(servers, server, limit, delta, expected):
    assert status_of(servers[server], request_line_of(limit + delta)) == expected


@pytest.mark.parametrize("server,limit", [("default", 8190), ("small", 60)])
@pytest.mark.parametrize("delta,expected", [(-1, 200), (0, 200), (1, 431)])
def test_header_line_limit_counts_its_crlf(servers, server, limit, delta, expected):
    assert status_of(servers[server], header_line_of(limit + delta)) == expected


def test_8189_byte_header_line_is_refused_as_by_gunicorn(servers):
    """The issue's own example: 8189 bytes + CRLF at the default 8190."""
    data = b"GET / HTTP/1.1\r\nHost: x\r\nX-Edge: " + b"v" * (8189 - len("X-Edge: ")) + b"\r\n\r\n"
    assert status_of(servers["default"], data) == 431
