"""103 Early Hints (RFC 8297) end to end over raw sockets and curl:
environ["wsgi.early_hints"] (Gunicorn 25's callable) for sync and gthread,
the ASGI http.response.early_hint extension (and Gunicorn's
http.response.informational) for -k asgi. The 103 comes before the final
response on HTTP/1.1, never to an HTTP/1.0 client, never once the response
has started; a header with CR/LF is refused and nothing of it is sent."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import h2.config
import h2.connection
import h2.events
import pytest

from gftest import wait_until
from httpwire import Wire, request

APPS = Path(__file__).resolve().parent / "apps"
STYLE = "</style.css>; rel=preload; as=style"
SCRIPT = "</app.js>; rel=preload; as=script"

KINDS = {
    "sync": (["-k", "sync"], "hints_wsgi:app"),
    "gthread": (["-k", "gthread", "--threads", "4"], "hints_wsgi:app"),
    "asgi": (["-k", "asgi", "--lifespan", "off"], "hints_asgi:app"),
}


def answers(port: int) -> bool:
    try:
        with Wire(port, timeout=2) as w:
            w.send(request("GET", "/ready", version="HTTP/1.0"))
            return w.response().status == 200
    except OSError:
        return False


@pytest.fixture(params=sorted(KINDS))
def srv(request, gworker):
    flags, app = KINDS[request.param]
    server = gworker(*flags, "--chdir", str(APPS), app=app, wait=False)
    wait_until(lambda: answers(server.port), timeout=30,
               message=f"gworker {request.param} answering")
    server.kind = request.param
    return server


def test_103_then_the_final_response_on_one_keep_alive_connection(srv):
    with Wire(srv.port) as w:
        for _ in range(3):  # framing stays intact across requests
            w.send(request("GET", "/"))
            hints = w.response()
            assert hints.status == 103 and hints.reason == "Early Hints", hints
            assert hints.version == "HTTP/1.1"
            assert [v for k, v in hints.headers if k.lower() == "link"] == [STYLE, SCRIPT]
            final = w.response()
            assert final.status == 200
            assert final.body.startswith(b"final")
            assert (final.header("Connection") or "").lower() != "close"


def test_no_103_for_an_http10_client(srv):
    with Wire(srv.port) as w:
        w.send(request("GET", "/", version="HTTP/1.0"))
        data = w.read_until_close(15)
    assert b" 103 " not in data
    assert data.startswith(b"HTTP/1.1 200 OK\r\n"), data[:200]
    assert data.endswith(b"final") or b"final ext=" in data


def test_a_header_with_crlf_is_refused_and_nothing_is_sent(srv):
    with Wire(srv.port) as w:
        w.send(request("GET", "/bad"))
        r = w.response()
        assert r.status == 200, r  # no 103 before it
        assert r.body.startswith(b"ValueError"), r.body
        assert r.header("Set-Cookie") is None


def test_no_103_once_the_response_has_started(srv):
    with Wire(srv.port) as w:
        w.send(request("GET", "/late"))
        r = w.response()
        assert r.status == 200
        if srv.kind == "asgi":
            assert r.body.startswith(b"RuntimeError"), r.body
        else:
            assert r.body == b"head out;late"
        w.send(request("GET", "/"))  # the connection is still in step
        assert w.response().status == 103
        assert w.response().status == 200


def test_curl_shows_the_103(srv):
    curl = shutil.which("curl")
    if curl is None:
        pytest.fail("curl is not installed (scripts/install-deps.sh lists it)")
    out = subprocess.run([curl, "-sv", "-o", "/dev/null", f"http://127.0.0.1:{srv.port}/"],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert "< HTTP/1.1 103 Early Hints" in out.stderr
    assert f"< link: {STYLE}".lower() in out.stderr.lower()  # ASGI names are lower-case
    assert "< HTTP/1.1 200 OK" in out.stderr
    assert out.stderr.index("103 Early Hints") < out.stderr.index("200 OK")


def test_wsgi_bad_header_name_is_refused(gworker):
    server = gworker("--chdir", str(APPS), app="hints_wsgi:app", wait=False)
    wait_until(lambda: answers(server.port), timeout=30, message="gworker answering")
    with Wire(server.port) as w:
        w.send(request("GET", "/badname"))
        r = w.response()
        assert r.status == 200 and r.body.startswith(b"ValueError"), r


def test_asgi_advertises_the_extension_and_takes_gunicorns_message(gworker):
    server = gworker("-k", "asgi", "--lifespan", "off", "--chdir", str(APPS),
                     app="hints_asgi:app", wait=False)
    wait_until(lambda: answers(server.port), timeout=30, message="gworker answering")
    with Wire(server.port) as w:
        w.send(request("GET", "/informational"))
        hints = w.response()
        assert hints.status == 103
        assert hints.header_all("link") == [STYLE]
        final = w.response()
        assert final.body == b"final ext=1"


def test_native_app_early_hints(gworker):
    from gftest import BUILD_DIR
    lib = BUILD_DIR / "tests/http/libnative_hints.so"
    if not lib.exists():
        pytest.fail(f"{lib} is not built (target native_hints)")
    server = gworker(app=f"native:{lib}", wait=False)
    wait_until(lambda: answers(server.port), timeout=30, message="gworker answering")
    with Wire(server.port) as w:
        w.send(request("GET", "/"))
        hints = w.response()
        assert hints.status == 103 and hints.header_all("Link") == [STYLE, SCRIPT]
        assert w.response().body == b"final rc=1"
        w.send(request("GET", "/bad"))
        r = w.response()
        assert r.status == 200 and r.body == b"final rc=-1"
    with Wire(server.port) as w:
        w.send(request("GET", "/", version="HTTP/1.0"))
        data = w.read_until_close(15)
        assert b" 103 " not in data and data.endswith(b"final rc=0")


def h2c_exchange(port: int, path: str, timeout: float = 20.0):
    """One GET over h2c (prior knowledge) with python3-h2's client: the
    informational (1xx) header lists, the final headers and the body."""
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.send_headers(1, [(":method", "GET"), (":path", path), (":scheme", "http"),
                          (":authority", "localhost")], end_stream=True)
    informational, final, body, ended = [], None, b"", False
    deadline = time.monotonic() + timeout
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(conn.data_to_send())
        while not ended and time.monotonic() < deadline:
            data = sock.recv(65536)
            if not data:
                break
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.InformationalResponseReceived):
                    informational.append(event.headers)
                elif isinstance(event, h2.events.ResponseReceived):
                    final = event.headers
                elif isinstance(event, h2.events.DataReceived):
                    body += event.data
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    ended = True
            sock.sendall(conn.data_to_send())
    assert ended, (informational, final, body)
    return informational, final, body


@pytest.fixture(params=sorted(KINDS))
def h2srv(request, gworker):
    flags, app = KINDS[request.param]
    server = gworker(*flags, "--http-protocols", "h1,h2", "--chdir", str(APPS), app=app, wait=False)
    wait_until(lambda: answers(server.port), timeout=30,
               message=f"gworker {request.param} answering")
    return server


def test_103_over_http2_is_a_non_final_headers_frame_before_the_response(h2srv):
    informational, final, body = h2c_exchange(h2srv.port, "/")
    assert len(informational) == 1, informational
    hints = informational[0]
    assert (b":status", b"103") in hints
    assert [v for k, v in hints if k == b"link"] == [STYLE.encode(), SCRIPT.encode()]
    assert (b":status", b"200") in final
    assert body.startswith(b"final")
    # Once the response has started nothing is sent, over HTTP/2 too.
    informational, final, body = h2c_exchange(h2srv.port, "/late")
    assert informational == [], informational
    assert (b":status", b"200") in final
