"""WSGI on green threads through real arbiterd + gworker -k gevent and
-k eventlet (tests/green/apps/green_app.py): concurrency from monkey-patched
sleeps, monkey patching in effect in the app, request bodies, streaming
responses, errors, graceful TERM with requests in flight, max-requests,
Gunicorn's class names."""
from __future__ import annotations

import concurrent.futures
import contextlib
import hashlib
import json
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from gftest import Spawned, binary, free_port, wait_until

APPS = Path(__file__).resolve().parent / "apps"
KINDS = ["gevent", "eventlet"]


@contextlib.contextmanager
def serving(worker_class: str, *args: str, spec: str = "green_app:app", chdir=APPS,
            workers: int = 1, timeout: float = 60, extra_env: dict | None = None):
    """arbiterd -w N -k CLASS on an app; yields (base_url, arbiterd) once it answers."""
    port = free_port()
    d = tempfile.mkdtemp(prefix="gfgreen", dir="/tmp")
    try:
        with Spawned([binary("arbiterd"), "--control-socket", f"{d}/ctl.sock", "-w", str(workers),
                      "-k", worker_class, "-b", f"127.0.0.1:{port}", "--chdir", str(chdir),
                      *args, spec], extra_env=extra_env) as arb:
            base = f"http://127.0.0.1:{port}"

            def ready():
                if arb.poll() is not None:
                    raise AssertionError(f"arbiterd exited {arb.poll()}:\n{arb.output()}")
                try:
                    return httpx.get(base + "/", timeout=2).status_code == 200
                except httpx.TransportError:
                    return False
            wait_until(ready, timeout=timeout, message=f"-k {worker_class} serving on {port}")
            arb.port = port
            yield base, arb
            out = arb.output()
            assert "ERROR: AddressSanitizer" not in out and "runtime error:" not in out, out
    finally:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module", params=KINDS)
def green(request):
    with serving(request.param) as (base, arb):
        yield request.param, base, arb


def get_all(urls, timeout=60):
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(urls)) as pool:
        return list(pool.map(lambda u: httpx.get(u, timeout=timeout), urls))


def test_100_sleeping_requests_overlap_on_one_worker(green):
    kind, base, _ = green
    httpx.get(base + "/reset", timeout=10)
    start = time.monotonic()
    replies = get_all([base + "/sleep?1"] * 100)
    elapsed = time.monotonic() - start
    assert [r.status_code for r in replies] == [200] * 100
    assert len({r.json()["pid"] for r in replies}) == 1  # one worker
    # Sequentially this takes 100 s; on green threads about 1 s (the bound
    # leaves room for a loaded machine).
    assert elapsed < 15, f"-k {kind}: 100 x 1 s took {elapsed:.1f} s"
    stats = httpx.get(base + "/stats", timeout=10).json()
    # The clients overlap in the app (how many at once depends on how fast
    # the test opens its 100 connections).
    assert stats["max_in_flight"] >= 25, stats


@pytest.mark.parametrize("kind", KINDS)
def test_worker_connections_caps_the_green_threads(kind):
    # HTTP/2 streams of one connection: more requests at once than
    # --worker-connections; the rest wait for a green thread, none is lost.
    with serving(kind, "--worker-connections", "2", "--http-protocols", "h1,h2") as (base, _):
        httpx.get(base + "/reset", timeout=10)
        start = time.monotonic()
        # h2load: one connection, 6 streams at once (h2c, prior knowledge).
        out = subprocess.run(["h2load", "-n", "6", "-c", "1", "-m", "6", base + "/sleep?0.5"],
                             capture_output=True, text=True, timeout=90)
        elapsed = time.monotonic() - start
        assert out.returncode == 0, out.stdout + out.stderr
        assert "6 succeeded, 0 failed" in out.stdout and "status codes: 6 2xx" in out.stdout, out.stdout
        assert httpx.get(base + "/stats", timeout=10).json()["max_in_flight"] == 2
        assert elapsed >= 1.4, f"6 x 0.5 s on 2 green threads took {elapsed:.2f} s"


def test_monkey_patching_is_in_effect(green):
    kind, base, _ = green
    report = httpx.get(base + "/patched", timeout=10).json()
    assert report[f"{kind}_socket"] is True, report
    assert report[f"{kind}_patched"] is True, report
    assert report["time_sleep"] != "time", report  # time.sleep is the library's
    assert httpx.get(base + "/threads", timeout=10).json() == {"out": ["ran"]}


def test_subprocess_under_monkey_patching(green):
    # gevent: child watchers need libev's default loop, which the hub on
    # gworker's app thread therefore uses.
    _, base, _ = green
    assert httpx.get(base + "/subprocess", timeout=30).json() == {"out": "from a child\n"}


def test_environ(green):
    kind, base, _ = green
    env = httpx.get(base + "/environ/a%20b?x=1", headers={"X-Custom": "v"}, timeout=10).json()
    assert env["PATH_INFO"] == "/environ/a b" and env["QUERY_STRING"] == "x=1"
    assert env["RAW_URI"] == "/environ/a%20b?x=1"
    assert env["REQUEST_METHOD"] == "GET" and env["HTTP_X_CUSTOM"] == "v"
    assert env["wsgi.multithread"] is True and env["wsgi.run_once"] is False
    assert env["wsgi.url_scheme"] == "http" and env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["input_type"] == "Input"


def test_request_bodies(green):
    _, base, _ = green
    small = b"hello body"
    r = httpx.post(base + "/echo", content=small, timeout=30).json()
    assert r == {"length": len(small), "sha256": hashlib.sha256(small).hexdigest()}
    big = bytes(range(256)) * (12 * 1024)  # 3 MiB: spills past --body-buffer-size
    r = httpx.post(base + "/echo", content=big, timeout=60).json()
    assert r == {"length": len(big), "sha256": hashlib.sha256(big).hexdigest()}

    def chunked():
        for i in range(4):
            yield b"%d" % i * 70000
    r = httpx.post(base + "/chunks", content=chunked(), timeout=60).json()
    assert sum(r["sizes"]) == 280000 and max(r["sizes"]) <= 100000
    r = httpx.post(base + "/lines", content=b"one\ntwo\nthree", timeout=30).json()
    assert r == {"first": "one\n", "rest": ["two\n", "three"]}


def test_body_streamed_to_the_app_without_buffering():
    with serving("gevent", "--no-request-buffering") as (base, _):
        def slow():
            for i in range(3):
                yield b"y" * 50000
                time.sleep(0.2)
        r = httpx.post(base + "/echo", content=slow(), timeout=60).json()
        data = b"y" * 150000
        assert r == {"length": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_streaming_responses(green):
    _, base, _ = green
    with httpx.stream("GET", base + "/stream?1.5", timeout=30) as r:
        assert r.headers["transfer-encoding"] == "chunked"
        start = time.monotonic()
        chunks = r.iter_bytes()
        first = next(chunks)
        first_at = time.monotonic() - start
        rest = b"".join(chunks)
        total = time.monotonic() - start
    assert (first + rest) == b"part0\npart1\npart2\n"
    # Each block goes out as it is yielded, not at the end.
    assert first_at < total - 1.0, (first_at, total)
    r = httpx.get(base + "/big", timeout=60)
    assert r.content == b"x" * (8 << 20)
    r = httpx.get(base + "/write", timeout=10)
    assert r.content == b"written returned"


def test_errors(green):
    kind, base, arb = green
    assert httpx.get(base + "/error", timeout=10).status_code == 500
    assert httpx.get(base + "/bad-header", timeout=10).status_code == 500
    r = httpx.get(base + "/exc-info", timeout=10)
    assert r.status_code == 503 and r.content == b"unavailable"
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(base + "/error-late", timeout=10)
    # The worker goes on serving.
    assert httpx.get(base + "/", timeout=10).json() == {"hello": "world"}
    wait_until(lambda: "boom mid-stream" in arb.output(), timeout=10,
               message="the app's traceback in the error log")
    assert "RuntimeError: boom before start_response" in arb.output()


def test_reason_phrase_is_kept(green):
    _, base, arb = green
    with socket.create_connection(("127.0.0.1", arb.port), timeout=10) as c:
        c.sendall(b"GET /reason HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        reply = b""
        while chunk := c.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 202 Accepted Later\r\n"), reply
    assert reply.endswith(b"later")


HOOKS_CONF = """
import os
LOG = os.environ["GF_HOOK_LOG"]

def _line(text):
    with open(LOG, "a") as f:
        f.write(text + "\\n")

def pre_request(worker, req):
    _line("pre %s %s" % (req.method, req.path))
    if req.path == "/refused":
        raise PermissionError("pre_request says no")

def post_request(worker, req, environ, resp):
    _line("post %s %s %d %s" % (req.path, resp.status, resp.sent,
                                environ["PATH_INFO"] if environ else "-"))
"""


@pytest.mark.parametrize("kind", KINDS)
def test_pre_and_post_request_hooks(kind, tmp_path):
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text(HOOKS_CONF)
    log = tmp_path / "hooks.log"
    with serving(kind, "-c", str(conf), extra_env={"GF_HOOK_LOG": str(log)}) as (base, _):
        assert httpx.get(base + "/reason", timeout=10).status_code == 202
        assert httpx.get(base + "/refused", timeout=10).status_code == 500
        wait_until(lambda: "post /refused" in log.read_text(), timeout=10,
                   message="post_request for /refused")
    lines = log.read_text().splitlines()
    assert "pre GET /reason" in lines and "post /reason 202 Accepted Later 5 /reason" in lines, lines
    assert "pre GET /refused" in lines, lines
    assert any(line.startswith("post /refused ") for line in lines), lines


def test_half_closed_client_gets_its_answer(green):
    _, base, arb = green
    with socket.create_connection(("127.0.0.1", arb.port), timeout=10) as c:
        c.sendall(b"GET /sleep?0.5 HTTP/1.1\r\nHost: x\r\n\r\n")
        c.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := c.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 200 OK\r\n") and b'"slept": 0.5' in reply, reply


def test_websocket_upgrade_reaches_the_wsgi_app(green):
    # WSGI has no WebSocket scope: as under -k sync (and Gunicorn's gevent
    # worker), an upgrade request is a plain request the app answers (a 400,
    # Engine.IO's long-polling fallback...).
    _, base, arb = green
    with socket.create_connection(("127.0.0.1", arb.port), timeout=10) as c:
        c.sendall(b"GET /environ HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                  b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                  b"Sec-WebSocket-Version: 13\r\n\r\n")
        reply = b""
        while b"\r\n\r\n" not in reply or len(reply.split(b"\r\n\r\n", 1)[1]) < int(
                reply.lower().split(b"content-length: ", 1)[1].split(b"\r\n", 1)[0]):
            chunk = c.recv(65536)
            assert chunk, reply
            reply += chunk
    head, body = reply.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 OK\r\n"), head
    environ = json.loads(body)
    assert environ["HTTP_UPGRADE"] == "websocket", environ
    assert environ["HTTP_SEC_WEBSOCKET_KEY"] == "dGhlIHNhbXBsZSBub25jZQ==", environ
    assert environ["PATH_INFO"] == "/environ", environ


def test_a_leaked_timeout_does_not_stop_the_worker(green):
    # Green threads serve one request after another: a Timeout an earlier
    # request left running fires into an idle one, which ignores it.
    kind, base, arb = green
    pid = httpx.get(base + "/stats", timeout=10).json()["pid"]
    assert httpx.get(base + f"/leak-timeout?{kind}", timeout=10).json() == {"leaked": kind}
    wait_until(lambda: "an idle green thread was woken" in arb.output(), timeout=30,
               message="the stray Timeout logged")
    assert httpx.get(base + "/stats", timeout=10).json()["pid"] == pid
    assert httpx.get(base + "/sleep?0.1", timeout=10).json()["pid"] == pid


@pytest.mark.parametrize("kind", KINDS)
def test_graceful_term_finishes_requests_in_flight(kind):
    with serving(kind, "--graceful-timeout", "20") as (base, arb):
        with concurrent.futures.ThreadPoolExecutor(max_workers=10) as pool:
            futures = [pool.submit(httpx.get, base + "/sleep?2", timeout=30) for _ in range(10)]
            wait_until(lambda: httpx.get(base + "/stats", timeout=5).json()["in_flight"] == 10,
                       timeout=20, message="10 requests in flight")
            arb.signal(signal.SIGTERM)
            replies = [f.result() for f in futures]
        assert [r.status_code for r in replies] == [200] * 10
        assert arb.wait(timeout=30) == 0


@pytest.mark.parametrize("kind", KINDS)
def test_max_requests_restarts_the_worker(kind):
    with serving(kind, "--max-requests", "5") as (base, _):
        first = httpx.get(base + "/stats", timeout=10).json()["pid"]

        def replaced():
            try:
                return httpx.get(base + "/stats", timeout=5).json()["pid"] != first
            except httpx.TransportError:
                return False
        wait_until(replaced, timeout=60, message="a new worker after 5 requests")


@pytest.mark.parametrize("name,kind", [
    ("gunicorn.workers.ggevent.GeventWorker", "gevent"),
    ("egg:gunicorn#gevent", "gevent"),
    ("gunicorn.workers.geventlet.EventletWorker", "eventlet"),
    ("egg:gunicorn#eventlet", "eventlet"),
])
def test_gunicorn_class_names(name, kind):
    with serving(name) as (base, _):
        report = httpx.get(base + "/patched", timeout=10).json()
        assert report[f"{kind}_patched"] is True, report


@pytest.mark.parametrize("kind", KINDS)
def test_missing_app_fails_the_pool(kind):
    port = free_port()
    d = tempfile.mkdtemp(prefix="gfgreen", dir="/tmp")
    try:
        with Spawned([binary("arbiterd"), "--control-socket", f"{d}/ctl.sock", "-w", "2",
                      "-k", kind, "-b", f"127.0.0.1:{port}", "--chdir", str(APPS),
                      "no_such_module:app"]) as arb:
            try:
                code = arb.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pytest.fail(f"arbiterd kept running with a missing app:\n{arb.output()}")
            assert code != 0
            assert "no_such_module" in arb.stderr_text() + arb.stdout_text()
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_gworker_refuses_a_native_app_on_green_threads():
    proc = subprocess.run([binary("gworker"), "-k", "gevent", "native:/nowhere/libapp.so"],
                          capture_output=True, timeout=30)
    assert proc.returncode == 2
    assert b"needs -k sync or -k gthread" in proc.stderr


def test_gworker_refuses_an_unknown_class():
    proc = subprocess.run([binary("gworker"), "-k", "geventt", "app:app"], capture_output=True,
                          timeout=30)
    assert proc.returncode == 2
    assert b"geventt" in proc.stderr
