"""200,000 requests to the hello example leave the worker's RSS flat, and big
bodies do not stay behind in connections, idle or busy."""
from __future__ import annotations

import http.client
import os
import socket
import time

import pytest

from gftest import source, wait_until
from wsgi_support import rss_kib, serving, worker_pids

REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
BODY = b"Hello, World!\n"
BATCH = 50


def pump(sock: socket.socket, count: int, deadline: float) -> None:
    """count keep-alive requests on one connection, pipelined in batches."""
    done = 0
    pending = b""
    while done < count:
        n = min(BATCH, count - done)
        sock.sendall(REQUEST * n)
        got = 0
        while got < n:
            assert time.monotonic() < deadline, f"too slow: {done + got} requests"
            chunk = sock.recv(262144)
            assert chunk, "server closed the connection"
            pending += chunk
            got += pending.count(BODY)
            pending = pending[pending.rfind(BODY) + len(BODY):] if BODY in pending else pending
        done += n


@pytest.mark.skipif(os.environ.get("GF_SANITIZED") == "1",
                    reason="ASan's quarantine keeps freed memory resident; "
                           "LeakSanitizer does the leak check in this build")
def test_rss_flat_over_200k_requests():
    with serving("app:app", chdir=source("examples/hello"), workers=1) as (port, arb):
        kids = worker_pids(arb)
        assert len(kids) == 1, kids
        worker = kids[0]
        deadline = time.monotonic() + 90
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            pump(s, 20_000, deadline)  # warm up: caches, allocator pools
            before = rss_kib(worker)
            pump(s, 180_000, deadline)
            after = rss_kib(worker)
        assert worker_pids(arb) == [worker], "the worker was replaced"
        # A leak of one small object per request would be >= 5 MiB here.
        assert after - before < 3 * 1024, f"RSS grew {before} -> {after} KiB"


@pytest.mark.skipif(os.environ.get("GF_SANITIZED") == "1",
                    reason="ASan's quarantine keeps freed memory resident")
def test_idle_keep_alive_connections_do_not_hold_big_body_buffers():
    """16 connections each echo 2 MiB, then wait idle: within a second or two
    the worker gives the request and response buffers back instead of
    keeping them per connection."""
    # --keep-alive 60: the connections stay open (closing would free anything).
    with serving("gateway_app:app", "--keep-alive", "60", chdir=source("tests/wsgi/apps"),
                 workers=1) as (port, arb):
        worker = worker_pids(arb)[0]
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(16)]
        body = os.urandom(2 << 20)
        conns[0].request("POST", "/echo", body=body)  # warm up the allocator
        assert conns[0].getresponse().read() == body
        before = rss_kib(worker)
        for conn in conns:
            conn.request("POST", "/echo", body=body)
            assert conn.getresponse().read() == body
        # Kept per connection, the buffers would be >= 16 x 4 MiB.
        wait_until(lambda: rss_kib(worker) - before < 16 * 1024, timeout=10,
                   message=f"RSS back near {before} KiB with the connections idle")
        assert worker_pids(arb) == [worker], "the worker was replaced"
        for conn in conns:
            conn.close()


@pytest.mark.skipif(os.environ.get("GF_SANITIZED") == "1",
                    reason="ASan's quarantine keeps freed memory resident")
def test_busy_keep_alive_connections_do_not_each_keep_big_body_buffers():
    """16 keep-alive connections take turns echoing 1 MiB (the in-memory body
    limit), none of them idle long enough for the idle release: each
    request's buffers go back after it, so the worker holds about one
    request's worth, not one per connection (>= 16 x 3 MiB when kept)."""
    with serving("gateway_app:app", "--keep-alive", "60", chdir=source("tests/wsgi/apps"),
                 workers=1) as (port, arb):
        worker = worker_pids(arb)[0]
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(16)]
        body = os.urandom(1 << 20)
        conns[0].request("POST", "/echo", body=body)  # warm up the allocator
        assert conns[0].getresponse().read() == body
        before = rss_kib(worker)
        peak = before
        deadline = time.monotonic() + 120
        for _ in range(3):
            for conn in conns:
                assert time.monotonic() < deadline, "echoes too slow"
                conn.request("POST", "/echo", body=body)
                assert conn.getresponse().read() == body
                peak = max(peak, rss_kib(worker))
        assert peak - before < 16 * 1024, f"RSS grew {before} -> {peak} KiB under load"
        assert worker_pids(arb) == [worker], "the worker was replaced"
        for conn in conns:
            conn.close()
