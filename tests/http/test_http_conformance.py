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


# An absolute-form target (what proxies send, RFC 9112 3.2.2) reaches the app
# as the path and query of the URI, as Gunicorn passes it; RAW_URI and the
# native target() keep what the client sent.
ABSOLUTE_FORMS = [
    ("http://example.com/a?q=1", "/a", "q=1"),
    ("http://example.com:8080/a/b%20c?x=1&y", "/a/b%20c", "x=1&y"),
    ("https://example.com/s", "/s", ""),
    ("http://example.com", "/", ""),
    ("http://example.com?only=query", "/", "only=query"),
]


@pytest.mark.parametrize("target,path,query", ABSOLUTE_FORMS)
def test_absolute_form_target_reaches_native_app_as_path(srv, target, path, query):
    with Wire(srv.port) as w:
        w.send(request("GET", target, [("Host", "example.com")]))
        doc = echo(w.response())
    assert (doc["target"], doc["path"], doc["query"]) == (target, path, query)


def test_absolute_form_target_reaches_wsgi_app_as_path_info(gworker):
    from gftest import SOURCE_DIR, http_get, wait_until
    srv = gworker("--chdir", str(SOURCE_DIR / "tests/wsgi/apps"), app="gateway_app:app",
                  wait=False)
    wait_until(lambda: http_get(srv.port, "/hello", timeout=2).status == 200, timeout=30,
               message="gateway_app serving")
    for target, path, query in [("http://example.com/environ?q=1", "/environ", "q=1"),
                                ("https://example.com:8443/environ/x%20y", "/environ/x y", ""),
                                ("http://example.com/environ", "/environ", "")]:
        with Wire(srv.port) as w:
            w.send(request("GET", target, [("Host", "example.com")]))
            r = w.response()
        assert r.status == 200, (target, r.status, r.body[:200])
        env = json.loads(r.body)
        assert (env["PATH_INFO"], env["QUERY_STRING"], env["RAW_URI"]) == (path, query, target)
    # "http://h" has the path "/": the app's root route answers it.
    with Wire(srv.port) as w:
        w.send(request("GET", "http://example.com", [("Host", "example.com")]))
        r = w.response()
    assert (r.status, r.body) == (200, b"hello\n")


# A refused HEAD request gets its error as a HEAD response (RFC 9110 9.3.2):
# the status line and headers, Content-Length as a GET would get it, and not
# one byte of body before the close.
BAD_HEADS = {
    "malformed_header": b"HEAD / HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n",
    "bare_lf": b"HEAD / HTTP/1.1\r\nHost: x\nX-A: b\r\n\r\n",
    "long_target": b"HEAD /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    "cl_and_te": b"HEAD / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n",
}


@pytest.mark.parametrize("name", sorted(BAD_HEADS))
def test_error_answer_to_head_has_no_body(srv, name):
    with Wire(srv.port) as w:
        w.send(BAD_HEADS[name])
        raw = w.read_until_close(10.0)
    head, sep, rest = raw.partition(b"\r\n\r\n")
    assert sep and rest == b"", f"{name}: body bytes after the head: {raw[:300]!r}"
    assert head.startswith((b"HTTP/1.1 400 ", b"HTTP/1.1 414 ")), head
    fields = dict(line.split(b": ", 1) for line in head.split(b"\r\n")[1:])
    assert fields[b"Connection"] == b"close"
    # The same refusal to a GET: its body is as long as HEAD's Content-Length.
    with Wire(srv.port) as w:
        w.send(b"GET" + BAD_HEADS[name][len(b"HEAD"):])
        get_raw = w.read_until_close(10.0)
    get_head, _, get_body = get_raw.partition(b"\r\n\r\n")
    assert get_head.split(b"\r\n")[0] == head.split(b"\r\n")[0]
    assert int(fields[b"Content-Length"]) == len(get_body) > 0


def test_error_after_a_served_head_keeps_its_body(srv):
    """The next request's refusal is judged on its own method."""
    with Wire(srv.port) as w:
        w.send(request("HEAD", "/h") + b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: v\r\n\r\n")
        first = w.response("HEAD")
        assert first.status == 200 and first.body == b""
        second = w.response()
        assert second.status == 400 and second.body.startswith(b"Bad Request")


# Native and WSGI apps get the same response-header filtering: both ask for
# the same headers, hop-by-hop ones among them, and the same arrive. (Before,
# the WSGI gateway and the engine each kept their own list, which differed.)
REPLY_APP = '''\
def app(environ, start_response):
    headers = []
    for line in environ.get("HTTP_REPLY", "").split(" | "):
        if line:
            name, value = line.split(": ", 1)
            headers.append((name, value))
    start_response("200 OK", headers)
    return [b"ok\\n"]
'''

ASKED = [("X-Kept", "1"), ("Content-Type", "text/plain"), ("Set-Cookie", "a=1"),
         ("Keep-Alive", "timeout=5"), ("Proxy-Connection", "keep-alive"), ("TE", "trailers"),
         ("Trailer", "X-Sum"), ("Trailers", "X-Sum"), ("Upgrade", "websocket"),
         ("Proxy-Authenticate", "Basic"), ("Proxy-Authorization", "Basic eA=="),
         ("Transfer-Encoding", "chunked"), ("Connection", "keep-alive, close"),
         ("X-Also-Kept", "2")]


def replied(port: int, pairs, wsgi: bool) -> list[tuple[str, str]]:
    """The response headers that arrive when the app asks for `pairs`."""
    if wsgi:  # WSGI: one Reply header, "|"-separated (the environ joins repeats)
        asked = [("Reply", " | ".join(f"{n}: {v}" for n, v in pairs))]
    else:
        asked = [("Reply", f"{n}: {v}") for n, v in pairs]
    with Wire(port) as w:
        w.send(request("GET", "/", asked))
        r = w.response()
    assert (r.status, r.body) == (200, b"ok\n")
    return [(n, v) for n, v in r.headers if n.lower() not in ("date", "server")]


def test_native_and_wsgi_apps_get_the_same_header_filtering(gworker, tmp_path):
    from gftest import BUILD_DIR, http_get, wait_until
    native = gworker(app=f"native:{BUILD_DIR / 'tests/http/libnative_reply_headers.so'}",
                     wait=False)
    (tmp_path / "reply_app.py").write_text(REPLY_APP)
    wsgi = gworker("--chdir", str(tmp_path), app="reply_app:app", wait=False)
    for srv in (native, wsgi):
        wait_until(lambda: http_get(srv.port, "/", timeout=2).status == 200, timeout=30,
                   message=f"reply app on {srv.port}")
    got_native = replied(native.port, ASKED, wsgi=False)
    got_wsgi = replied(wsgi.port, ASKED, wsgi=True)
    assert got_native == got_wsgi
    names = [n.lower() for n, _ in got_native]
    assert names == ["x-kept", "content-type", "set-cookie", "x-also-kept", "content-length",
                     "connection"], got_native
    assert dict(got_native)["Connection"] == "close"  # "close" in the app's list is honoured
