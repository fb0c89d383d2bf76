"""--protocol uwsgi end to end: gworker behind a real nginx (`uwsgi_pass`,
`include uwsgi_params`) for WSGI and ASGI apps — GET with a query, POST
with a body, headers, client address, a streamed response — and raw uwsgi
packets: a good one is answered and the connection closed; a malformed,
cut or plain-HTTP one, or one from a peer outside --uwsgi-allow-from, is
closed unanswered and logged."""

from __future__ import annotations

import json
import shutil
import socket
import struct
import subprocess
import time
from pathlib import Path

import pytest

from gftest import Spawned, free_port, wait_until

APPS = Path(__file__).resolve().parent / "apps"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
UWSGI_PARAMS = "/etc/nginx/uwsgi_params"

KINDS = {
    "wsgi": (["-k", "gthread", "--threads", "2"], "echo_wsgi:app"),
    "sync": (["-k", "sync"], "echo_wsgi:app"),
    "asgi": (["-k", "asgi", "--lifespan", "off"], "echo_asgi:app"),
}


def packet(pairs, modifier1=0) -> bytes:
    block = b""
    for k, v in pairs:
        k, v = k.encode("latin-1"), v.encode("latin-1")
        block += struct.pack("<H", len(k)) + k + struct.pack("<H", len(v)) + v
    return bytes([modifier1]) + struct.pack("<H", len(block)) + b"\x00" + block


def exchange(port: int, data: bytes, timeout: float = 15, shut: bool = False) -> bytes:
    """Sends `data`, returns all the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        if shut:
            s.shutdown(socket.SHUT_WR)
        out = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:  # closed with our bytes unread
                return out
            if not chunk:
                return out
            out += chunk
        raise AssertionError(f"the connection stayed open; got {out[:200]!r}")


def split(response: bytes):
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return lines[0], headers, body


def answers(port: int) -> bool:
    try:
        return exchange(port, packet([("REQUEST_URI", "/ready")]), timeout=3).startswith(b"HTTP/1.1 ")
    except OSError:
        return False


@pytest.fixture
def uwsgi_worker(gworker):
    def start(kind: str, *flags: str):
        kind_flags, app = KINDS[kind]
        server = gworker(*kind_flags, "--protocol", "uwsgi", "--chdir", str(APPS), *flags,
                         app=app, wait=False)
        return server
    return start


def serving(server) -> None:
    wait_until(lambda: answers(server.port), timeout=30, message="gworker --protocol uwsgi")


@pytest.fixture
def nginx(tmp_path):
    """Starts nginx in front of a uwsgi port: nginx(upstream_port) -> its port."""
    if not Path(NGINX).exists():
        pytest.fail("nginx is not installed (scripts/install-deps.sh lists nginx-light)")
    started = []

    def start(upstream: int) -> int:
        port = free_port()
        d = tmp_path / f"nginx{len(started)}"
        for sub in ("body", "uwsgi", "proxy", "fastcgi", "scgi", "logs"):
            (d / sub).mkdir(parents=True)
        conf = d / "nginx.conf"
        conf.write_text(f"""
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log info;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {d}/body;
  uwsgi_temp_path {d}/uwsgi;
  proxy_temp_path {d}/proxy;
  fastcgi_temp_path {d}/fastcgi;
  scgi_temp_path {d}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      include {UWSGI_PARAMS};
      uwsgi_pass 127.0.0.1:{upstream};
    }}
  }}
}}
""")
        proc = Spawned([NGINX, "-p", str(d), "-c", str(conf), "-e", f"{d}/logs/error.log"],
                       logdir=tmp_path)
        proc.start()
        started.append(proc)

        def up():
            if proc.poll() is not None:
                raise AssertionError(f"nginx exited {proc.poll()}:\n{proc.output()}\n"
                                     + (d / "logs/error.log").read_text())
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_until(up, timeout=20, message="nginx listening")
        return port

    yield start
    for proc in started:
        proc.stop(timeout=5)


def http(port: int, method: str, target: str, headers=(), body: bytes = b""):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(method, target, body=body or None, headers=dict(headers))
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


@pytest.mark.parametrize("kind", ["wsgi", "sync", "asgi"])
def test_behind_nginx_get_post_headers_and_stream(kind, uwsgi_worker, nginx):
    server = uwsgi_worker(kind)
    serving(server)
    port = nginx(server.port)

    status, headers, body = http(port, "GET", "/a%20b/c?x=1&y=%C3%A9",
                                 [("X-Custom-Thing", "v1"), ("Cookie", "a=1")])
    assert status == 200, body
    assert headers["x-app"] == ("asgi" if kind == "asgi" else "wsgi")
    doc = json.loads(body)
    assert doc["method"] == "GET"
    assert doc["path"] == "/a b/c"
    assert doc["query"] == "x=1&y=%C3%A9"
    assert doc["scheme"] == "http"
    if kind == "asgi":
        hdrs = dict((k, v) for k, v in doc["headers"])
        assert hdrs["x-custom-thing"] == "v1" and hdrs["cookie"] == "a=1"
        assert doc["client"][0] == "127.0.0.1" and doc["client"][1] > 0
        assert doc["server"] == ["127.0.0.1", port]
        assert doc["http_version"] == "1.1"
    else:
        assert doc["raw_uri"] == "/a%20b/c?x=1&y=%C3%A9"
        assert doc["headers"]["HTTP_X_CUSTOM_THING"] == "v1"
        assert doc["headers"]["HTTP_COOKIE"] == "a=1"
        assert doc["remote_addr"] == "127.0.0.1" and int(doc["remote_port"]) > 0
        assert doc["server_port"] == str(port)
        assert doc["protocol"] == "HTTP/1.1"

    payload = b"field=value&" + b"x" * 200_000
    status, headers, body = http(port, "POST", "/submit",
                                 [("Content-Type", "application/x-www-form-urlencoded")],
                                 payload)
    assert status == 200
    doc = json.loads(body)
    assert doc["method"] == "POST" and doc["body"].encode("latin-1") == payload
    if kind != "asgi":
        assert doc["content_type"] == "application/x-www-form-urlencoded"
        assert doc["content_length"] == str(len(payload))

    status, headers, body = http(port, "GET", "/stream")
    assert status == 200 and body == b"one,two,three"

    status, headers, body = http(port, "HEAD", "/")
    assert status == 200 and body == b""


def test_raw_packet_answered_then_closed(uwsgi_worker):
    server = uwsgi_worker("wsgi")
    serving(server)
    body = b"hello body"
    data = packet([("REQUEST_METHOD", "PUT"), ("REQUEST_URI", "/p?q=1"), ("PATH_INFO", "/p"),
                   ("QUERY_STRING", "q=1"), ("SERVER_PROTOCOL", "HTTP/1.1"),
                   ("CONTENT_LENGTH", str(len(body))), ("REMOTE_ADDR", "203.0.113.9"),
                   ("REMOTE_PORT", "4242"), ("SERVER_NAME", "example.org"), ("SERVER_PORT", "443"),
                   ("HTTPS", "on"), ("HTTP_HOST", "example.org")])
    # The body trickles in after the packet, in pieces.
    with socket.create_connection(("127.0.0.1", server.port), timeout=15) as s:
        s.sendall(data + body[:3])
        time.sleep(0.05)  # pacing the client's bytes, not synchronisation
        s.sendall(body[3:])
        out = b""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    status, headers, payload = split(out)
    assert status == "HTTP/1.1 200 OK"
    assert headers["connection"] == "close"
    assert "transfer-encoding" not in headers
    doc = json.loads(payload)
    assert doc["method"] == "PUT" and doc["body"] == "hello body"
    assert doc["remote_addr"] == "203.0.113.9" and doc["remote_port"] == "4242"
    assert doc["server_name"] == "example.org" and doc["server_port"] == "443"
    assert doc["scheme"] == "https"


def test_streamed_response_is_close_delimited(uwsgi_worker):
    server = uwsgi_worker("wsgi")
    serving(server)
    status, headers, body = split(exchange(server.port, packet([("REQUEST_URI", "/stream")])))
    assert status == "HTTP/1.1 200 OK"
    assert "transfer-encoding" not in headers and "content-length" not in headers
    assert body == b"one,two,three"


@pytest.mark.parametrize("data, why", [
    (packet([("REQUEST_URI", "/")], modifier1=5), "unsupported modifier1 5"),
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "unsupported modifier1 71"),
    (b"\x00\x05\x00\x00\x01\x00a\x09\x00", "truncated value of a"),
    (b"\x00\x03\x00\x00\x01\x00a", "truncated value length of a"),
    (packet([("HTTP_X_A", "v\r\nSet-Cookie: s=1")]), "bad value of HTTP_X_A"),
    (packet([("REQUEST_URI", "/a b")]), "bad REQUEST_URI"),
    (packet([("CONTENT_LENGTH", "-3")]), "bad CONTENT_LENGTH"),
])
def test_malformed_packets_are_closed_unanswered_and_logged(data, why, uwsgi_worker):
    server = uwsgi_worker("wsgi")
    serving(server)
    assert exchange(server.port, data) == b""
    wait_until(lambda: why in server.proc.stderr_text(), timeout=10,
               message=f"the log line for {why!r}")
    assert answers(server.port)  # the worker goes on


def test_cut_packet_is_closed_at_eof(uwsgi_worker):
    server = uwsgi_worker("wsgi")
    serving(server)
    full = packet([("REQUEST_URI", "/"), ("HTTP_HOST", "x")])
    assert exchange(server.port, full[:9], shut=True) == b""
    body_missing = packet([("REQUEST_URI", "/"), ("CONTENT_LENGTH", "100")]) + b"only some"
    assert exchange(server.port, body_missing, shut=True) == b""
    assert answers(server.port)


def test_cut_packet_is_closed_at_the_header_timeout(uwsgi_worker):
    server = uwsgi_worker("wsgi", "--header-timeout", "1")
    serving(server)
    start = time.monotonic()
    assert exchange(server.port, b"\x00\x40\x00\x00\x01", timeout=15) == b""
    assert time.monotonic() - start < 10


def test_peer_outside_uwsgi_allow_from_is_refused(uwsgi_worker):
    server = uwsgi_worker("wsgi", "--uwsgi-allow-from", "10.0.0.0/8")
    wait_until(lambda: server.proc.poll() is not None or "Booted" in server.proc.stderr_text(),
               timeout=30, message="gworker booted")
    assert exchange(server.port, packet([("REQUEST_URI", "/")])) == b""
    wait_until(lambda: "not in --uwsgi-allow-from" in server.proc.stderr_text(), timeout=10,
               message="the refusal logged")


def test_bad_protocol_flag_exits_2(tmp_path):
    from gftest import binary
    out = subprocess.run([binary("gworker"), "--protocol", "spdy", "x:app"], capture_output=True,
                         text=True, timeout=30)
    assert out.returncode == 2
    assert "--protocol" in out.stderr
    out = subprocess.run([binary("gworker"), "--protocol", "uwsgi", "--uwsgi-allow-from", "300.1.1.1",
                          "x:app"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2
    assert "--uwsgi-allow-from" in out.stderr


def test_early_hints_are_not_sent_over_uwsgi(gworker):
    server = gworker("--protocol", "uwsgi", "--chdir", str(APPS), app="hints_wsgi:app", wait=False)
    serving(server)
    status, _, body = split(exchange(server.port, packet([("REQUEST_URI", "/"),
                                                          ("SERVER_PROTOCOL", "HTTP/1.1")])))
    assert status == "HTTP/1.1 200 OK" and body == b"final"


def _arbiterd(tmp_path, *args):
    from gftest import binary
    port = free_port()
    ctl = tmp_path / "ctl.sock"
    proc = Spawned([binary("arbiterd"), "--control-socket", str(ctl), "-w", "1",
                    "-b", f"127.0.0.1:{port}", "--chdir", str(APPS), *args], logdir=tmp_path)
    proc.port = port
    return proc


def test_arbiterd_forwards_protocol_flag(tmp_path):
    with _arbiterd(tmp_path, "--protocol", "uwsgi", "echo_wsgi:app") as arb:
        wait_until(lambda: arb.poll() is None and answers(arb.port), timeout=30,
                   message=f"arbiterd --protocol uwsgi serving\n{arb.output()}")


def test_arbiterd_config_file_protocol_and_allow_list(tmp_path):
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text('protocol = "uwsgi"\nuwsgi_allow_ips = "10.0.0.0/8"\n')
    with _arbiterd(tmp_path, "-c", str(conf), "echo_wsgi:app") as arb:
        wait_until(lambda: "Booted" in arb.output(), timeout=30,
                   message=f"arbiterd's worker booted\n{arb.output()}")
        assert exchange(arb.port, packet([("REQUEST_URI", "/")])) == b""
        wait_until(lambda: "not in --uwsgi-allow-from" in arb.output(), timeout=10,
                   message="the refusal logged")
