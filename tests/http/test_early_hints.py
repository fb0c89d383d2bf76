"""103 Early Hints (RFC 8297) end to end over raw sockets and curl:
environ["wsgi.early_hints"] (Gunicorn 25's callable) for sync and gthread,
the ASGI http.response.early_hint extension (and Gunicorn's
http.response.informational) for -k asgi. The 103 comes before the final
response on HTTP/1.1, never to an HTTP/1.0 client, never once the response
has started; a header with CR/LF is refused and nothing of it is sent."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

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
