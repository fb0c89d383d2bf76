"""Issue 14, fault 4: slow uploads must not stall a sync pool.

Four clients that send 70 KB of a 1 MB POST and pause used to hold both app
threads of an `arbiterd -w 2` sync pool (each app thread waiting in
wsgi.input.read() for bytes that did not come), so a plain GET waited for
the body timeout. gworker now reads a request body in its event loop before
the app runs (in memory up to --body-buffer-size, then in an unlinked file
in --worker-tmp-dir), as nginx does in front of Gunicorn; an app thread only
ever waits on the app. --no-request-buffering hands requests over at once
for apps that stream uploads.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import os
import socket
import tempfile
import time

from gftest import Spawned, binary, free_port, http_get, http_request, wait_until, worker_pids

APP = '''
import hashlib, os

def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/echo":
        mark = environ.get("QUERY_STRING", "")
        if mark:  # tells the test the app runs (before it reads the body)
            open(mark, "w").close()
        data = b""
        while True:
            piece = environ["wsgi.input"].read(65536)
            if not piece:
                break
            data += piece
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("X-Sha256", hashlib.sha256(data).hexdigest())])
        return [data]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "6")])
    return [b"hello\\n"]
'''

MB = 1 << 20


@contextlib.contextmanager
def pool(tmp_path, *flags: str):
    """arbiterd -w 2 (sync) serving the echo app; yields (port, arbiterd)."""
    (tmp_path / "upload_app.py").write_text(APP)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="gfslow", dir="/tmp") as short, \
            Spawned([binary("arbiterd"), "--control-socket", f"{short}/ctl.sock", "-w", "2",
                     "-k", "sync", "-b", f"127.0.0.1:{port}", "--chdir", str(tmp_path),
                     "--body-timeout", "60", *flags, "upload_app:app"], logdir=tmp_path) as arb:
        wait_until(lambda: http_get(port, "/", timeout=2).status == 200, timeout=30,
                   message="the pool serving")
        wait_until(lambda: len(worker_pids(arb.pid)) == 2, timeout=30, message="two workers")
        yield port, arb


def stalled_upload(port: int, path: str = "/echo") -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (path.encode(), MB))
    s.sendall(b"u" * 70_000)
    return s


def upload(port: int, body: bytes) -> None:
    r = http_request(port, "/echo", "POST", body=body, timeout=30)
    assert r.status == 200
    assert r.header("X-Sha256") == hashlib.sha256(body).hexdigest()
    assert r.body == body


def test_stalled_uploads_leave_the_sync_pool_serving(tmp_path):
    bodies = tmp_path / "bodies"
    bodies.mkdir()
    with pool(tmp_path, "--body-buffer-size", "65536", "--worker-tmp-dir", str(bodies)) as (port, arb):
        stalled = [stalled_upload(port) for _ in range(4)]
        try:
            # Past 64 KiB each body moved to an unlinked file in --worker-tmp-dir.
            def spilled():
                n = 0
                for pid in worker_pids(arb.pid):
                    for fd in os.listdir(f"/proc/{pid}/fd"):
                        with contextlib.suppress(OSError):
                            n += os.readlink(f"/proc/{pid}/fd/{fd}").startswith(str(bodies))
                return n
            wait_until(lambda: spilled() == 4, timeout=10, message="four bodies spilled to files")
            assert os.listdir(bodies) == [], "the temporary files are unlinked"
            start = time.monotonic()
            for _ in range(4):
                assert http_get(port, "/", timeout=15).body == b"hello\n"
            elapsed = time.monotonic() - start
            assert elapsed < 4, f"four GETs took {elapsed:.1f}s beside four stalled uploads"
            # A whole 1 MiB upload (in a file) still reaches the app intact.
            upload(port, os.urandom(MB))
        finally:
            for s in stalled:
                s.close()


def test_uploads_held_in_memory_are_intact(tmp_path):
    with pool(tmp_path, "--body-buffer-size", str(2 * MB)) as (port, _):
        stalled = [stalled_upload(port) for _ in range(4)]
        try:
            assert http_get(port, "/", timeout=5).body == b"hello\n"
            upload(port, os.urandom(MB))
            upload(port, b"")
        finally:
            for s in stalled:
                s.close()


def test_without_request_buffering_the_app_streams_the_upload(tmp_path):
    with pool(tmp_path, "--no-request-buffering") as (port, _):
        mark = tmp_path / "in-the-app"
        body = os.urandom(MB)
        with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
            s.sendall(b"POST /echo?%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
                      % (str(mark).encode(), len(body)))
            s.sendall(body[:70_000])
            # The app runs while most of the body is still to come.
            wait_until(mark.exists, timeout=10, message="the app streaming the body")
            s.sendall(body[70_000:])
            response = http.client.HTTPResponse(s)
            response.begin()
            assert response.status == 200
            assert response.read() == body
