"""PEP 3333 through real arbiterd + gworker + HTTP clients, on the gateway
test app both plain and wrapped in wsgiref.validate.validator, with the
sync worker (the app runs on gworker's I/O thread) and with gthread (the
app runs on 4 app threads)."""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import socket
import tempfile
import threading
import time

import pytest

from gftest import Spawned, binary, free_port, wait_until
from wsgi_support import APPS, control_socket, get, raw, serving


WORKER_CLASSES = {"sync": ("-k", "sync"), "gthread": ("-k", "gthread", "--threads", "4")}


@pytest.fixture(scope="module", params=[(spec, kind) for kind in WORKER_CLASSES
                                        for spec in ("gateway_app:app", "gateway_app:validated")],
                ids=lambda p: f"{p[1]}-{p[0].split(':')[1]}")
def served(request):
    spec, kind = request.param
    with serving(spec, *WORKER_CLASSES[kind], workers=2) as (port, arb):
        yield port, arb, spec.endswith("validated"), kind


def recv_until(sock: socket.socket, done, data: bytes = b"") -> bytes:
    """Reads until done(bytes so far); fails if the server closes first."""
    while not done(data):
        piece = sock.recv(65536)
        assert piece, data
        data += piece
    return data


@pytest.fixture
def server(served):
    port, arb, validated, _ = served
    return port, arb, validated


@pytest.fixture
def worker_class(served):
    return served[3]


def environ_of(port, path, **kw):
    r = get(port, path, **kw)
    assert r.status == 200, r.body
    return json.loads(r.body)


def test_hello(server):
    port, _, _ = server
    r = get(port, "/hello")
    assert (r.status, r.body) == (200, b"hello\n")
    assert r.header("Content-Type") == "text/plain"


def test_environ_over_http(server, worker_class):
    port, _, _ = server
    env = environ_of(port, "/environ/a%20b/%C3%A9%2Fx?q=1&r=%20",
                     headers={"X-Custom": "v", "Content-Type": "text/x-test"})
    assert env["REQUEST_METHOD"] == "GET"
    assert env["PATH_INFO"] == "/environ/a b/\u00c3\u00a9/x"  # bytes as latin-1
    assert bytes(env["path_info_latin1"]).decode("utf-8") == "/environ/a b/é/x"
    assert env["RAW_URI"] == "/environ/a%20b/%C3%A9%2Fx?q=1&r=%20"
    assert env["QUERY_STRING"] == "q=1&r=%20"
    assert env["SCRIPT_NAME"] == ""
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["SERVER_NAME"] == "127.0.0.1"
    assert env["SERVER_PORT"] == str(port)
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert int(env["REMOTE_PORT"]) > 0
    assert env["HTTP_X_CUSTOM"] == "v"
    assert env["CONTENT_TYPE"] == "text/x-test"
    assert "HTTP_CONTENT_TYPE" not in env
    assert env["HTTP_HOST"].startswith("127.0.0.1")
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.multithread"] is (worker_class == "gthread")
    assert env["wsgi.multiprocess"] is True
    assert env["wsgi.run_once"] is False
    assert env["wsgi.input_terminated"] is True
    assert env["wsgi.version"] == [1, 0]


def test_repeated_headers_and_cookies(server):
    port, _, _ = server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest("GET", "/headers")
    conn.putheader("X-Multi", "a")
    conn.putheader("X-Multi", "b")
    conn.putheader("Cookie", "one=1")
    conn.putheader("Cookie", "two=2")
    conn.endheaders()
    r = conn.getresponse()
    headers = json.loads(r.read())
    conn.close()
    assert headers["HTTP_X_MULTI"] == "a,b"
    assert headers["HTTP_COOKIE"] == "one=1; two=2"
    r = get(port, "/set_cookies")
    assert [v for k, v in r.headers if k.lower() == "set-cookie"] == ["a=1", "b=2"]


def test_head_has_headers_but_no_body(server):
    port, _, _ = server
    data = raw(port, b"HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"Content-Length: 6" in head
    assert body == b""


def test_generator_is_streamed_chunked(server):
    port, _, _ = server
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/stream?n=200")
    r = conn.getresponse()
    assert r.getheader("Transfer-Encoding") == "chunked"
    assert r.read() == b"".join(b"chunk %d\n" % i for i in range(200))
    conn.close()


def test_generator_blocks_are_not_delayed(server):
    """PEP 3333: each block goes out before the app produces the next."""
    port, _, _ = server
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        t0 = time.monotonic()
        s.sendall(b"GET /stream?n=3&delay_ms=700 HTTP/1.1\r\nHost: x\r\n\r\n")
        first = recv_until(s, lambda d: b"chunk 0" in d)
        first_at = time.monotonic() - t0
        rest = recv_until(s, lambda d: d.endswith(b"0\r\n\r\n"), first)
        total = time.monotonic() - t0
    assert b"chunk 2" in rest
    assert total >= 1.3
    assert first_at < 0.6, f"first block after {first_at:.2f}s of {total:.2f}s"


def test_write_callable(server):
    port, _, _ = server
    assert get(port, "/write").body == b"written by write() and returned\n"


def test_file_wrapper(server):
    port, _, _ = server
    expected = (APPS / "gateway_app.py").read_bytes()
    r = get(port, "/file?skip=100")
    assert r.status == 200
    assert r.body == expected[100:]
    assert r.header("Content-Length") == str(len(expected) - 100)


def test_big_response(server):
    port, _, _ = server
    r = get(port, "/big?size=3000000", timeout=20)
    assert r.body == b"x" * 3000000


def test_upload_20_mb_streamed(server):
    port, _, _ = server
    body = os.urandom(1 << 20) * 20
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/digest?chunk=65536", body=body,
                 headers={"Content-Type": "application/octet-stream"})
    r = conn.getresponse()
    result = json.loads(r.read())
    conn.close()
    assert result == {"length": len(body), "sha256": hashlib.sha256(body).hexdigest()}


def test_chunked_upload(server):
    port, _, _ = server
    pieces = [os.urandom(10000) for _ in range(30)]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/echo", body=iter(pieces), encode_chunked=True,
                 headers={"Transfer-Encoding": "chunked"})
    r = conn.getresponse()
    data = r.read()
    conn.close()
    assert r.status == 200
    assert data == b"".join(pieces)


def test_exception_before_start_response_is_500_and_logged(server):
    port, arb, _ = server
    r = get(port, "/error_before")
    assert r.status == 500
    wait_until(lambda: "RuntimeError: boom before start_response" in arb.stderr_text(),
               timeout=10, message="the traceback in the error log")
    assert "Traceback (most recent call last)" in arb.stderr_text()


def test_exception_after_start_closes_the_connection(server):
    port, arb, _ = server
    data = raw(port, b"GET /error_after HTTP/1.1\r\nHost: x\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert b"first" in body
    assert not body.endswith(b"0\r\n\r\n"), "an unfinished response must not look complete"
    wait_until(lambda: "boom after the response started" in arb.stderr_text(), timeout=10)


def test_bad_header_from_app_is_500_never_sent(server):
    port, arb, validated = server
    for path in ("/bad_header", "/bad_header_name", "/bad_status"):
        data = raw(port, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        assert data.startswith(b"HTTP/1.1 500"), data[:200]
        assert b"evil" not in data and b"never sent" not in data and b"X: y" not in data
    if not validated:
        wait_until(lambda: "invalid value for response header 'X-Injected'" in arb.stderr_text(),
                   timeout=10)


def test_exc_info_replaces_status(server):
    port, _, _ = server
    r = get(port, "/exc_info")
    assert (r.status, r.body) == (503, b"recovered")


def test_wsgi_errors_reach_the_error_log(server):
    port, arb, _ = server
    assert get(port, "/errors").status == 204
    wait_until(lambda: "line two continued" in arb.stderr_text(), timeout=10)


def test_threads_serve_slow_requests_concurrently(server, worker_class):
    if worker_class != "gthread":
        pytest.skip("one request at a time is the sync worker's promise")
    port, _, _ = server
    results = []

    def one():
        results.append(get(port, "/slow?ms=600", timeout=20).status)

    t0 = time.monotonic()
    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    elapsed = time.monotonic() - t0
    assert results == [200] * 4
    assert elapsed < 1.8, f"4 x 600 ms requests took {elapsed:.2f}s: not concurrent"


def test_interpreter_is_the_embedded_one(server):
    port, _, _ = server
    info = environ_of(port, "/sys", timeout=30)
    assert info["executable"] == "/usr/bin/python3"
    assert info["prefix"] == "/usr"
    assert info["child_prefix"] == "/usr"  # subprocess with sys.executable works
    assert info["path0"] == str(APPS)
    assert info["venv_marker"] is False


def test_multiprocessing_spawns_the_embedded_interpreter(server):
    port, _, _ = server
    assert environ_of(port, "/mp?method=spawn", timeout=60) == {"result": [1, 2, 3]}


def test_script_name_mount():
    with serving("gateway_app:validated", extra_env={"SCRIPT_NAME": "/mount"},
                 ready_path="/mount/hello") as (port, _):
        env = environ_of(port, "/mount/environ/x%20y?z=1")
        assert env["SCRIPT_NAME"] == "/mount"
        assert env["PATH_INFO"] == "/environ/x y"
        assert env["RAW_URI"] == "/mount/environ/x%20y?z=1"


def test_https_scheme_only_from_trusted_proxies():
    with serving("gateway_app:validated", "--forwarded-allow-ips", "127.0.0.1") as (port, _):
        env = environ_of(port, "/environ", headers={"X-Forwarded-Proto": "https"})
        assert env["wsgi.url_scheme"] == "https"
    with serving("gateway_app:validated", "--forwarded-allow-ips", "10.9.9.9") as (port, _):
        env = environ_of(port, "/environ", headers={"X-Forwarded-Proto": "https"})
        assert env["wsgi.url_scheme"] == "http"


def test_unix_socket_server_name_from_host():
    sock_dir = tempfile.mkdtemp(prefix="gfwsgi", dir="/tmp")  # short: unix paths max 108 bytes
    sock_path = f"{sock_dir}/app.sock"
    with control_socket() as ctl, \
            Spawned([binary("arbiterd"), "--control-socket", ctl, "-w", "1", "-b",
                     f"unix:{sock_path}", "--chdir", str(APPS), "gateway_app:validated"]) as arb:
        class UnixConnection(http.client.HTTPConnection):
            def connect(self):
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.settimeout(10)
                self.sock.connect(sock_path)

        def fetch():
            conn = UnixConnection("localhost", timeout=10)
            conn.request("GET", "/environ", headers={"Host": "example.test:8443"})
            body = conn.getresponse().read()
            conn.close()
            return json.loads(body)

        env = wait_until(fetch, timeout=30, message="the unix socket serving")
        assert env["SERVER_NAME"] == "example.test"
        assert env["SERVER_PORT"] == "8443"
        assert env["HTTP_HOST"] == "example.test:8443"
    shutil.rmtree(sock_dir, ignore_errors=True)


def test_client_leaving_mid_stream_still_closes_the_iterable():
    with serving("gateway_app:validated", "-k", "gthread", "--threads", "2") as (port, _):
        before = environ_of(port, "/stats")
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /stream?n=400&delay_ms=20 HTTP/1.1\r\nHost: x\r\n\r\n")
            recv_until(s, lambda d: b"chunk 1\n" in d)
        # The app notices at its next write (EPIPE/ECONNRESET) and close() runs.
        wait_until(lambda: environ_of(port, "/stats")["closed"] > before["closed"], timeout=20,
                   message="close() after the client left")
        assert get(port, "/hello").body == b"hello\n"


def test_sync_worker_never_runs_two_requests_at_once():
    """Without request buffering, a request whose body is still arriving
    runs on the app thread; one that comes meanwhile on another connection
    waits for it instead of running beside it on the I/O thread
    (wsgi.multithread is False)."""
    with serving("gateway_app:app", "--no-request-buffering", workers=1) as (port, _):
        body = os.urandom(300_000)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as up:
            up.sendall(b"POST /digest HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                       b"Content-Length: %d\r\n\r\n" % len(body))
            # 100 Continue comes when the app reads wsgi.input: it is running.
            interim = recv_until(up, lambda d: b"\r\n\r\n" in d)
            assert interim.startswith(b"HTTP/1.1 100"), interim
            during = []
            other = threading.Thread(target=lambda: during.append(environ_of(port, "/stats")))
            other.start()
            other.join(1.0)
            assert other.is_alive(), "a second request ran while the first was in the app"
            up.sendall(body)
            data = recv_until(up, lambda d: b"}" in d)
        other.join(10)
        assert json.loads(data.partition(b"\r\n\r\n")[2]) == {
            "length": len(body), "sha256": hashlib.sha256(body).hexdigest()}
        assert during and during[0]["active"] == 1 and during[0]["peak"] == 1, during


def test_sync_worker_drops_a_stalled_reader_at_the_write_timeout():
    """The sync worker writes a large response from its I/O thread; a client
    that stops reading is dropped after --write-timeout, and the worker
    serves the next request."""
    port = free_port()
    with Spawned([binary("gworker"), "-b", f"127.0.0.1:{port}", "--write-timeout", "1",
                  "--chdir", str(APPS), "gateway_app:app"]) as gw:
        wait_until(lambda: get(port, "/hello", timeout=2).status == 200, timeout=30,
                   message="gworker serving")
        stalled = socket.socket()
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.settimeout(20)
        stalled.connect(("127.0.0.1", port))
        size = 40_000_000
        stalled.sendall(b"GET /big?size=%d HTTP/1.1\r\nHost: x\r\n\r\n" % size)
        stalled.recv(1024)  # the response has started
        t0 = time.monotonic()
        assert get(port, "/hello", timeout=15).body == b"hello\n"
        assert time.monotonic() - t0 < 10
        received = 0
        try:
            while piece := stalled.recv(1 << 20):
                received += len(piece)
        except ConnectionResetError:
            pass
        stalled.close()
        assert received < size, "the stalled reader got the whole response"
        assert gw.poll() is None


def test_sync_worker_answers_keep_alive_requests_that_came_while_it_was_busy(tmp_path):
    """While an inline request holds the I/O thread past the keep-alive
    timeout, idle connections send their next request: each is answered,
    none is closed as idle."""
    with serving("gateway_app:app", "--keep-alive", "1", workers=1) as (port, _):
        idle = [http.client.HTTPConnection("127.0.0.1", port, timeout=15) for _ in range(8)]
        for conn in idle:
            conn.request("GET", "/hello")
            assert conn.getresponse().read() == b"hello\n"
        mark = tmp_path / "in-the-app"
        busy = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
        busy.request("GET", f"/slow?ms=2500&mark={mark}")
        wait_until(mark.exists, timeout=10, message="the slow request in the app")
        for conn in idle:  # their keep-alive second runs out while the app holds the loop
            conn.request("GET", "/hello")
        assert busy.getresponse().status == 200
        for conn in idle:
            assert conn.getresponse().read() == b"hello\n"
            conn.close()
        busy.close()
