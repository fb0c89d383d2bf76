"""Hostile HTTP/2 clients (python3-h2's hpack and hyperframe, frames sent by
hand): Rapid Reset, CONTINUATION floods, bad prefaces, zero-window stalls,
oversized headers, too many streams, PING floods and silent clients. Each
gets its bounded answer and the worker keeps serving others."""

from __future__ import annotations

import time

import pytest
from hyperframe.frame import (ContinuationFrame, DataFrame, HeadersFrame, PingFrame,
                              RstStreamFrame, WindowUpdateFrame)

from h2_support import H2Server, RawH2, curl, request_headers

ENHANCE_YOUR_CALM = 0xB
PROTOCOL_ERROR = 0x1
REFUSED_STREAM = 0x7


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    with H2Server(tmp, "native", "--write-timeout", "2", "--header-timeout", "2",
                  "--keep-alive", "2", "--limit-request-field_size", "200",
                  "--limit-request-fields", "20", "--limit-request-body", "100000") as srv:
        yield srv


def still_serves(srv) -> None:
    out = curl("--http2-prior-knowledge", srv.url("/text"))
    assert out.returncode == 0 and out.stdout.startswith(b"GET /text"), out


def test_a_well_behaved_raw_client(server):
    with RawH2(server.port) as c:
        c.headers(1, "/text")
        c.read(lambda f: c.ended(1))
        assert c.status(1) == "200"


def test_rapid_reset_gets_goaway_enhance_your_calm(server):
    with RawH2(server.port) as c:
        batch = b""
        for i in range(600):
            sid = 1 + 2 * i
            batch += HeadersFrame(sid, data=c.encoder.encode(request_headers("/text")),
                                  flags=["END_HEADERS", "END_STREAM"]).serialize()
            batch += RstStreamFrame(sid, error_code=8).serialize()  # CANCEL
            if len(batch) > 16384:
                try:
                    c.send(batch)
                except OSError:
                    break
                batch = b""
        try:
            c.send(batch)
        except OSError:
            pass
        c.read(lambda f: c.goaway() is not None, timeout=20)
        g = c.goaway()
        assert g is not None and g.error_code == ENHANCE_YOUR_CALM, c.frames[-5:]
        c.read(lambda f: False, timeout=10)
        assert c.eof
    still_serves(server)


def test_continuation_flood_is_cut_off(server):
    with RawH2(server.port) as c:
        block = c.encoder.encode(request_headers("/text"))
        c.send(HeadersFrame(1, data=block).serialize())  # no END_HEADERS
        sent = 0
        try:
            for _ in range(2000):
                c.send(ContinuationFrame(1, data=b"").serialize() * 10)
                sent += 10
        except OSError:
            pass
        c.read(lambda f: c.goaway() is not None, timeout=20)
        g = c.goaway()
        assert g is not None or c.eof
        if g is not None:
            assert g.error_code in (ENHANCE_YOUR_CALM, PROTOCOL_ERROR)
        c.read(lambda f: False, timeout=10)
        assert c.eof
    still_serves(server)


def test_bad_preface(server):
    # Not the h2 preface: an HTTP/1.1 parse error (400) and close.
    with RawH2(server.port, preface=False) as c:
        c.send(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n")
        c.sock.settimeout(10)
        data = b""
        while True:
            chunk = c.sock.recv(4096)
            if not chunk:
                break
            data += chunk
        assert data.startswith(b"HTTP/1.1 400"), data
    # The preface, then no SETTINGS frame: GOAWAY PROTOCOL_ERROR.
    with RawH2(server.port, preface=False) as c:
        c.send(RawH2.PREFACE + b"\x00\x00\x04\x08\x00\x00\x00\x00\x00\x00\x00\xff\xff")
        c.read(lambda f: c.goaway() is not None, timeout=10)
        assert c.goaway() is not None and c.goaway().error_code == PROTOCOL_ERROR
    still_serves(server)


def test_silent_client_is_closed_by_header_timeout(server):
    with RawH2(server.port, preface=False) as c:
        c.send(RawH2.PREFACE[:10])
        start = time.monotonic()
        c.read(lambda f: False, timeout=15)
        assert c.eof and time.monotonic() - start < 10
    # After the preface and SETTINGS, an idle connection: --keep-alive... after
    # a request; before one, --header-timeout.
    with RawH2(server.port) as c:
        c.headers(1, "/text")
        c.read(lambda f: c.ended(1))
        start = time.monotonic()
        c.read(lambda f: False, timeout=15)
        assert c.eof and time.monotonic() - start < 10


def test_zero_window_stall_ends_at_write_timeout(server):
    # INITIAL_WINDOW_SIZE 0: the response can never be sent; --write-timeout 2.
    with RawH2(server.port, settings={0x4: 0}) as c:
        c.headers(1, "/large?bytes=1000000")
        start = time.monotonic()
        c.read(lambda f: False, timeout=20)
        assert c.eof, c.frames
        assert time.monotonic() - start < 15
        assert c.status(1) == "200"
    # A window opened a little at a time keeps the stream going.
    with RawH2(server.port, settings={0x4: 0}) as c:
        c.headers(1, "/large?bytes=300000")
        c.read(lambda f: c.status(1) is not None)
        for _ in range(60):
            c.send(WindowUpdateFrame(1, window_increment=10000).serialize() +
                   WindowUpdateFrame(0, window_increment=10000).serialize())
            c.read(lambda f: c.ended(1), timeout=0.2)
            if c.ended(1):
                break
        assert c.ended(1) and not c.resets(1)
    still_serves(server)


def test_oversized_headers_get_431(server):
    with RawH2(server.port) as c:
        c.headers(1, "/text", extra=[("x-big", "v" * 500)])
        c.headers(3, "/text", extra=[(f"x-h{i}", "v") for i in range(40)])
        c.headers(5, "/text")
        c.read(lambda f: c.ended(1) and c.ended(3) and c.ended(5))
        assert c.status(1) == "431"
        assert c.status(3) == "431"
        assert c.status(5) == "200"  # the connection goes on


def test_too_many_streams_are_refused(server):
    with RawH2(server.port) as c:
        # SETTINGS_MAX_CONCURRENT_STREAMS is 100: the 101st open stream is refused.
        c.read(lambda f: any(getattr(x, "settings", {}).get(0x3) == 100 for x in f))
        for i in range(101):
            c.headers(1 + 2 * i, "/slow?ms=3000", end_stream=False)
        c.read(lambda f: bool(c.resets(201)) or c.goaway() is not None, timeout=20)
        # A stream error (REFUSED_STREAM) while our SETTINGS are not acked,
        # a connection error (PROTOCOL_ERROR, RFC 9113 5.1.2) once they are.
        refused = c.resets(201)
        g = c.goaway()
        if refused:
            assert refused[0].error_code in (REFUSED_STREAM, PROTOCOL_ERROR)
        else:
            assert g is not None and g.error_code == PROTOCOL_ERROR and g.last_stream_id == 199, g
    still_serves(server)


def test_ping_flood_is_bounded(server):
    with RawH2(server.port, preface=True) as c:
        # Never reads the PING acks: the worker stops reading (its output is
        # over the bound) or nghttp2 refuses to queue more acks.
        c.sock.setblocking(False)
        sent = 0
        stopped = False
        deadline = time.monotonic() + 20
        try:
            while sent < 2_000_000 and time.monotonic() < deadline:
                c.sock.send(PingFrame(0, opaque_data=b"12345678").serialize() * 100)
                sent += 100
        except (BlockingIOError, OSError):
            stopped = True  # the worker stopped reading, or closed
        assert stopped, "two million PINGs taken while their acks were never read"
        c.sock.setblocking(True)
    still_serves(server)


def test_body_over_limit_request_body_gets_413(server):
    with RawH2(server.port) as c:
        c.headers(1, "/bodylen", method="POST", end_stream=False)
        c.send(DataFrame(1, data=b"y" * 16000).serialize() * 8)  # 128 KB > 100,000
        c.read(lambda f: c.ended(1))
        assert c.status(1) == "413"
        c.headers(3, "/bodylen", method="POST", end_stream=False)
        c.send(DataFrame(3, data=b"y" * 1000, flags=["END_STREAM"]).serialize())
        c.read(lambda f: c.ended(3))
        assert c.status(3) == "200"
