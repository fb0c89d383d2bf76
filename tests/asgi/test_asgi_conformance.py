"""-k asgi against the ASGI HTTP message format (2.4), message by message,
for what test_asgi_http.py does not cover: optional keys left out, headers
as tuples, bytes-only headers and bodies, refused messages raising inside
the app, HEAD and bodiless statuses, receive() after the body, the state
copy per request, duplicates in the scope, and unix sockets.
tests/asgi/apps/spec_apps.py is the app."""
from __future__ import annotations

import json
import socket

import httpx
import pytest

from asgi_support import serving, wait_for_event


@pytest.fixture(scope="module")
def spec():
    with serving("spec_apps:app") as (base, arb):
        base_port = int(base.rsplit(":", 1)[1])
        yield base, base_port, arb


def exchange(port: int, request: bytes) -> bytes:
    """Everything the server sends for a request, until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(request)
        reply = b""
        while chunk := c.recv(65536):
            reply += chunk
    return reply


def test_state_is_a_copy_per_request(spec):
    base, _, _ = spec
    assert httpx.get(base + "/state-mutate", timeout=10).status_code == 200
    r = httpx.get(base + "/state-read", timeout=10)
    assert r.json() == ["shared"]


def test_optional_keys_left_out(spec):
    base, _, _ = spec
    r = httpx.get(base + "/minimal", timeout=10)
    assert r.status_code == 200 and r.content == b""
    assert r.headers.get("content-length") == "0"


def test_request_message_keys(spec):
    base, _, _ = spec
    r = httpx.post(base + "/request-message", content=b"abc", timeout=10)
    assert r.json() == {"keys": ["body", "more_body", "type"], "body": "abc", "more_body": False}
    r = httpx.get(base + "/request-message", timeout=10)
    assert r.json() == {"keys": ["body", "more_body", "type"], "body": "", "more_body": False}


def test_headers_as_tuples_and_duplicates_kept(spec):
    _, port, _ = spec
    reply = exchange(port, b"GET /tuple-headers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = reply.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0].startswith(b"HTTP/1.1 200")
    assert b"x-a: 1" in [line.lower() for line in lines]
    assert b"x-b: 2" in [line.lower() for line in lines]
    assert [line.lower() for line in lines if line.lower().startswith(b"set-cookie")] == \
        [b"set-cookie: a=1", b"set-cookie: b=2"]
    assert body == b"tuples"


def test_str_header_or_body_is_the_apps_error(spec):
    base, port, arb = spec
    r = httpx.get(base + "/str-header", timeout=10)
    assert r.status_code == 500
    # A str body after http.response.start: 500 if nothing was sent yet,
    # else a closed connection; never a crash.
    reply = exchange(port, b"GET /str-body HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply == b"" or reply.startswith(b"HTTP/1.1 500"), reply
    r = httpx.get(base + "/no-status", timeout=10)
    assert r.status_code == 500
    assert httpx.get(base + "/", timeout=10).status_code == 200
    out = arb.output()
    assert "Exception in ASGI application" in out and "must be bytes" in out


def test_refused_messages_raise_inside_the_app(spec):
    base, _, _ = spec
    r = httpx.get(base + "/start-twice", timeout=10)
    assert r.status_code == 200 and r.content == b"once"
    r = httpx.get(base + "/body-after-complete", timeout=10)
    assert r.content == b"complete"
    wait_for_event(base, {"start_twice": "RuntimeError"})
    wait_for_event(base, {"body_after_complete": "RuntimeError"})


def test_head_keeps_content_length_and_sends_no_body(spec):
    _, port, _ = spec
    reply = exchange(port, b"HEAD /sized-body HTTP/1.1\r\nHost: x\r\n\r\n"
                           b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, rest = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"content-length: 5" in head.lower()
    assert rest.startswith(b"HTTP/1.1 200"), reply


@pytest.mark.parametrize("status", [204, 304])
def test_bodiless_status_sends_no_body(spec, status):
    _, port, _ = spec
    reply = exchange(port, b"GET /status?%d HTTP/1.1\r\nHost: x\r\n\r\n"
                           b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % status)
    head, _, rest = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 %d" % status)
    assert b"transfer-encoding" not in head.lower()
    if status == 204:
        assert b"content-length" not in head.lower()
    assert rest.startswith(b"HTTP/1.1 200"), reply


@pytest.mark.parametrize("status", [100, 101, 103])
def test_informational_status_is_not_a_final_response(spec, status):
    # A 1xx in http.response.start would leave the client waiting for the
    # final response: the app's error, a 500.
    _, port, _ = spec
    reply = exchange(port, b"GET /status?%d HTTP/1.1\r\nHost: x\r\n\r\n" % status)
    assert reply.startswith(b"HTTP/1.1 500"), reply


def test_receive_after_the_body(spec):
    base, _, _ = spec
    r = httpx.post(base + "/receive-after-body", content=b"xyz", timeout=10)
    assert r.content == b"done"
    wait_for_event(base, {"receive_after_body": [
        [["body", "xyz"], ["more_body", False], ["type", "http.request"]],
        "blocked", "http.disconnect"]})


def test_http_10_scope_and_duplicate_request_headers(spec):
    _, port, _ = spec
    reply = exchange(port, b"GET /scope HTTP/1.0\r\nHost: x\r\nX-Dup: 1\r\nx-dup: 2\r\n"
                           b"Other: o\r\nX-DUP: 3\r\n\r\n")
    assert reply.split(b" ", 2)[1] == b"200", reply
    s = json.loads(reply.partition(b"\r\n\r\n")[2])
    assert s["http_version"] == "1.0"
    assert s["headers"] == [["host", "x"], ["x-dup", "1"], ["x-dup", "2"], ["other", "o"],
                            ["x-dup", "3"]]
    assert s["client"] == "tuple" and s["server"] == "tuple"


def test_response_headers_cannot_inject(spec):
    _, port, _ = spec
    for path in (b"/bad-header", b"/bad-header-name"):
        reply = exchange(port, b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path)
        assert reply.startswith(b"HTTP/1.1 500"), reply
        assert b"injected" not in reply


def test_unix_socket_scope(tmp_path):
    path = str(tmp_path / "asgi.sock")
    with serving("raw_asgi:app", "-b", f"unix:{path}") as (base, _):
        transport = httpx.HTTPTransport(uds=path)
        with httpx.Client(transport=transport, base_url="http://x") as c:
            s = c.get("/scope", timeout=10).json()["scope"]
    assert s["client"] is None
    assert s["server"] == [path, None]


def test_head_answered_by_the_app_and_its_own_headers(spec):
    _, port, _ = spec
    # An app that answers HEAD itself (the length, no body): the length stays.
    reply = exchange(port, b"HEAD /head-empty HTTP/1.1\r\nHost: x\r\n\r\n"
                           b"GET /own-headers HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, rest = reply.partition(b"\r\n\r\n")
    assert b"content-length: 5" in head.lower()
    # The app's Server and Date replace the server's; its Connection: close
    # is honoured.
    head, _, body = rest.partition(b"\r\n\r\n")
    lines = [line.lower() for line in head.split(b"\r\n")]
    assert [x for x in lines if x.startswith(b"server:")] == [b"server: myapp"]
    assert len([x for x in lines if x.startswith(b"date:")]) == 1
    assert b"connection: close" in lines and body == b"mine"


def test_absolute_form_target(spec):
    _, port, _ = spec
    reply = exchange(port, b"GET http://x/scope?q=%20 HTTP/1.1\r\nHost: x\r\n"
                           b"Connection: close\r\n\r\n")
    s = json.loads(reply.partition(b"\r\n\r\n")[2])
    assert (s["path"], s["raw_path"], s["query_string"]) == ("/scope", "/scope", "q=%20")


@pytest.mark.parametrize("spec_name,body", [
    ("spec_apps:Asgi2App", b"asgi2 class /x"),
    ("spec_apps:asgi2_function", b"asgi2 function /x"),
    ("spec_apps:asgi3_object", b"ok"),
])
def test_asgi2_apps_are_called_as_asgi2(spec_name, body):
    # uvicorn's --interface auto: a legacy (double callable) app works.
    with serving(spec_name) as (base, arb):
        assert httpx.get(base + "/x", timeout=10).content == body
        assert "Application startup complete." in arb.output()
