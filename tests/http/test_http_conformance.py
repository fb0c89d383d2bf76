"""gworker speaks HTTP/1.1 as clients expect, checked over raw sockets:
keep-alive, pipelining in order, chunked bodies in and out, 100-continue,
HEAD, Date/Server, HTTP/1.0, and the request reaching the app intact."""

from __future__ import annotations

import email.utils
import json
import time
from datetime import datetime, timezone

import pytest

from httpwire import Wire, chunked, request


@pytest.fixture
def srv(gworker):
    return gworker()


def echo(resp) -> dict:
    assert resp.status == 200, resp
    return json.loads(resp.body.decode("ascii"))


def latin1(s: str) -> bytes:
    return s.encode("latin-1")


def test_keep_alive_serves_many_requests_on_one_connection(srv):
    with Wire(srv.port) as w:
        counts = []
        for i in range(25):
            w.send(request("GET", f"/k{i}"))
            r = w.response()
            assert echo(r)["target"] == f"/k{i}"
            assert (r.header("Connection") or "").lower() != "close"
            counts.append(int(r.header("X-Echo-Count")))
        assert counts == sorted(counts) and len(set(counts)) == 25


def test_pipelined_requests_answered_in_order(srv):
    batch = [request("GET", "/slow?ms=300")]
    for i in range(8):
        if i % 2:
            batch.append(request("POST", f"/p{i}", body=f"body-{i}".encode()))
        else:
            batch.append(request("GET", f"/p{i}"))
    batch.append(request("GET", "/p-last", [("Connection", "close")]))
    with Wire(srv.port) as w:
        w.send(b"".join(batch))  # one write: the server sees them all at once
        first = w.response()
        assert first.body == b"slow done\n"
        for i in range(8):
            doc = echo(w.response())
            assert doc["target"] == f"/p{i}"
            assert latin1(doc["body"]) == (f"body-{i}".encode() if i % 2 else b"")
        last = w.response()
        assert echo(last)["target"] == "/p-last"
        assert last.header("Connection").lower() == "close"
        assert w.closed_within(3.0), "server kept the connection after Connection: close"


def test_connection_close_is_honoured(srv):
    with Wire(srv.port) as w:
        w.send(request("GET", "/", [("Connection", "close")]))
        r = w.response()
        assert r.status == 200 and r.header("Connection").lower() == "close"
        assert w.closed_within(3.0)


def test_http10_closes_unless_keep_alive_asked(srv):
    with Wire(srv.port) as w:
        w.send(request("GET", "/old", version="HTTP/1.0", host=False))
        r = w.response()
        assert r.version in ("HTTP/1.0", "HTTP/1.1")
        assert echo(r)["http_minor"] == 0
        assert w.closed_within(3.0), "HTTP/1.0 without keep-alive must close"
    with Wire(srv.port) as w:
        for i in range(3):
            w.send(request("GET", f"/ka{i}", [("Connection", "keep-alive")],
                           version="HTTP/1.0", host=False))
            r = w.response()
            assert echo(r)["target"] == f"/ka{i}"
            assert (r.header("Connection") or "").lower() == "keep-alive"


def test_request_reaches_app_intact(srv):
    body = bytes(range(256)) * 4
    with Wire(srv.port) as w:
        w.send(request("PUT", "/a%20b/c?x=1&y=%2F",
                       [("X-Custom", "v a l"), ("Accept", "a"), ("Accept", "b"),
                        ("X-Latin", "caf\xe9")], body))
        doc = echo(w.response())
    assert doc["method"] == "PUT"
    assert doc["target"] == "/a%20b/c?x=1&y=%2F"
    assert doc["path"] == "/a%20b/c" and doc["query"] == "x=1&y=%2F"
    assert doc["content_length"] == len(body)
    assert latin1(doc["body"]) == body
    headers = [tuple(h) for h in doc["headers"]]
    assert ("X-Custom", "v a l") in headers
    assert [v for k, v in headers if k == "Accept"] == ["a", "b"]
    assert ("X-Latin", "caf\xe9") in headers


def test_underscore_header_never_passes_for_dashed_one(srv):
    with Wire(srv.port) as w:
        w.send(request("GET", "/", [("X_Forwarded_For", "6.6.6.6"), ("X-Forwarded-For", "10.0.0.1"),
                                    ("Under_Score", "u")]))
        doc = echo(w.response())
    names = [k for k, _ in doc["headers"]]
    assert "X_Forwarded_For" not in names and "Under_Score" not in names
    assert ["X-Forwarded-For", "10.0.0.1"] in doc["headers"]


def test_chunked_request_body_with_trailers(srv):
    with Wire(srv.port) as w:
        w.send(request("POST", "/", [("Transfer-Encoding", "chunked")])
               + chunked(b"Wiki", b"pedia", b" in\r\n\r\nchunks.", trailers=[("X-Sum", "1")]))
        doc = echo(w.response())
        assert latin1(doc["body"]) == b"Wikipedia in\r\n\r\nchunks."
        assert doc["content_length"] == -1
        # the connection is still good after a chunked body
        w.send(request("GET", "/after"))
        assert echo(w.response())["target"] == "/after"


def test_large_chunked_request_body_streams_to_app(srv):
    piece = bytes(range(256)) * 256  # 64 KiB
    pieces = [piece] * 24            # 1.5 MiB in 24 chunks
    expected_sum = (sum(piece) * 24) % (1 << 32)
    with Wire(srv.port) as w:
        w.send(request("POST", "/bodylen", [("Transfer-Encoding", "chunked")]))
        for p in pieces:
            w.send(chunked(p)[:-5])  # each chunk without the last-chunk
        w.send(b"0\r\n\r\n")
        r = w.response(timeout=30)
    assert r.status == 200
    assert r.body == f"len={len(piece) * 24} sum={expected_sum}\n".encode()


def test_unknown_length_large_response_is_chunked(srv):
    with Wire(srv.port) as w:
        w.send(request("GET", "/stream?chunks=4&size=40000"))
        r = w.response(timeout=20)
        assert r.status == 200
        assert r.chunked, f"expected chunked framing, headers {r.headers}"
        assert r.header("Content-Length") is None
        assert r.body == b"".join(bytes([97 + i]) * 40000 for i in range(4))
        w.send(request("GET", "/next"))
        assert echo(w.response())["target"] == "/next"


def test_unknown_length_small_response_gets_content_length(srv):
    with Wire(srv.port) as w:
        w.send(request("GET", "/stream?chunks=3&size=10"))
        r = w.response()
        assert r.status == 200 and not r.chunked
        assert r.header("Content-Length") == "30"
        assert r.body == b"a" * 10 + b"b" * 10 + b"c" * 10


def test_large_response_with_length(srv):
    n = 5 * 1024 * 1024 + 7
    with Wire(srv.port) as w:
        w.send(request("GET", f"/large?bytes={n}"))
        r = w.response(timeout=30)
    assert r.status == 200 and not r.chunked
    assert r.header("Content-Length") == str(n)
    pattern = b"0123456789abcdef"
    assert r.body == (pattern * (n // 16 + 1))[:n]


def test_expect_continue_sent_when_app_reads(srv):
    with Wire(srv.port) as w:
        w.send(request("POST", "/", [("Expect", "100-continue"), ("Content-Length", "5")]))
        interim = w.response(timeout=5)
        assert interim.status == 100, f"expected 100 Continue first, got {interim}"
        w.send(b"hello")
        doc = echo(w.response())
        assert latin1(doc["body"]) == b"hello"


def test_expect_continue_not_sent_when_app_does_not_read(gworker):
    # Without request buffering the app decides; with it (the default) the
    # engine reads the body first and so says 100 Continue itself, as nginx.
    srv = gworker("--no-request-buffering")
    with Wire(srv.port) as w:
        w.send(request("POST", "/nobody", [("Expect", "100-continue"), ("Content-Length", "5")]))
        r = w.response(timeout=5)
        assert r.status == 200, f"the app never read the body, so no 100 Continue: got {r}"
        assert r.body == b"body not read\n"


def test_head_has_no_body(srv):
    with Wire(srv.port) as w:
        # HEAD then GET in one write: any body bytes after HEAD would corrupt the GET.
        w.send(request("HEAD", "/large?bytes=1000") + request("GET", "/after-head"))
        h = w.response(method="HEAD")
        assert h.status == 200
        assert h.header("Content-Length") in (None, "1000")
        assert echo(w.response())["target"] == "/after-head"


def test_head_of_streamed_response_has_no_body(srv):
    with Wire(srv.port) as w:
        w.send(request("HEAD", "/stream?chunks=3&size=40000") + request("GET", "/after-head"))
        h = w.response(method="HEAD", timeout=20)
        assert h.status == 200
        assert echo(w.response())["target"] == "/after-head"


def test_date_and_server_headers(srv):
    with Wire(srv.port) as w:
        w.send(request("GET", "/"))
        r = w.response()
    assert r.header("Server"), "no Server header"
    date = r.header("Date")
    assert date, "no Date header"
    when = email.utils.parsedate_to_datetime(date)
    assert date.endswith(" GMT")
    assert abs((datetime.now(timezone.utc) - when).total_seconds()) < 5
    assert len(r.header_all("Date")) == 1 and len(r.header_all("Server")) == 1


def test_app_status_and_empty_body(srv):
    with Wire(srv.port) as w:
        w.send(request("GET", "/status?code=404") + request("GET", "/status?code=204"))
        a = w.response()
        assert a.status == 404 and a.body == b""
        b = w.response()
        assert b.status == 204 and b.header("Content-Length") in (None, "0")
        w.send(request("GET", "/again"))
        assert echo(w.response())["target"] == "/again"


def test_many_requests_quickly(srv):
    start = time.monotonic()
    with Wire(srv.port) as w:
        w.send(b"".join(request("GET", f"/q{i}") for i in range(200)))
        for i in range(200):
            assert echo(w.response())["target"] == f"/q{i}"
    assert time.monotonic() - start < 10
