"""Bounded body read-ahead (worker/src/engine/body_gate.hpp): with request
buffering, a sync worker whose app is busy holds only a few large bodies in
memory at a time; the others wait in the socket buffers, and every client
is served."""
from __future__ import annotations

import hashlib
import os
import socket
import threading
import time

import pytest

from gftest import read_http_response, wait_until
from wsgi_support import serving, worker_pids

BODY_MIB = 4
CLIENTS = 16


def status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def post(port: int, body: bytes, deadline: float) -> bytes:
    head = (f"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
        s.sendall(head + body)
        got = b""
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        return got


@pytest.mark.skipif(os.environ.get("GF_SANITIZED") == "1",
                    reason="ASan's quarantine keeps freed memory resident")
def test_large_bodies_read_ahead_are_bounded_and_all_served():
    # 8 MiB in memory per body: without the gate every 4 MiB body would be
    # read whole as soon as it arrives (16 x 4 MiB); the gate's budget for
    # one app thread is 2 x 8 MiB.
    with serving("body_gate_app:app", "--body-buffer-size", str(8 << 20), "--timeout", "120",
                 workers=1) as (port, arb):
        worker = worker_pids(arb)[0]
        deadline = time.monotonic() + 90
        bodies = [os.urandom(1024) * (BODY_MIB * 1024) for _ in range(CLIENTS)]
        # Warm up: the allocator and the interpreter have seen one such body.
        first = post(port, bodies[0], deadline)
        assert first.startswith(b"HTTP/1.1 200"), first[:200]
        before = status_kib(worker, "VmRSS")
        with open(f"/proc/{worker}/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
        answers: list[bytes | None] = [None] * CLIENTS

        def client(i: int) -> None:
            answers[i] = post(port, bodies[i], deadline)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=max(1.0, deadline - time.monotonic()))
        assert not any(t.is_alive() for t in threads), "clients still waiting"
        for i, answer in enumerate(answers):
            want = f"{len(bodies[i])} {hashlib.sha256(bodies[i]).hexdigest()}".encode()
            assert answer is not None and answer.startswith(b"HTTP/1.1 200"), (i, answer)
            assert want in answer, (i, answer[-120:])
        peak = status_kib(worker, "VmHWM")
        assert worker_pids(arb) == [worker], "the worker was replaced"
        # The budget (16 MiB) plus the app's own copy of one body and slack;
        # all bodies at once would be 64 MiB.
        assert peak - before < 36 * 1024, f"peak RSS {before} -> {peak} KiB"
        # Idle again: the bodies' memory goes back to the kernel (malloc keeps
        # freed megabytes for the next body until the reaper trims it).
        wait_until(lambda: status_kib(worker, "VmRSS") - before < 8 * 1024, timeout=10,
                   message=f"RSS back near {before} KiB once idle")


def test_stalled_uploads_give_their_share_up():
    """Five clients start 1 MiB uploads and stall (the budget, 4 MiB, holds
    four): a small request is answered at once; a sixth large upload is
    answered once the stalled ones have been silent a second (they give
    their read-ahead share up); they are answered when they finish."""
    size = 1 << 20
    with serving("body_gate_app:app", workers=1) as (port, arb):
        deadline = time.monotonic() + 60
        head = (f"POST /up HTTP/1.1\r\nHost: t\r\nContent-Length: {size}\r\n\r\n").encode()
        slow = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(5)]
        try:
            for s in slow:
                s.sendall(head + b"x" * 1000)
            big = socket.create_connection(("127.0.0.1", port), timeout=30)
            big_body = os.urandom(size)
            big.sendall(head + big_body)
            small = socket.create_connection(("127.0.0.1", port), timeout=30)
            t0 = time.monotonic()
            small.sendall(b"POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello")
            head, answer = read_http_response(small, timeout=deadline - time.monotonic())
            assert head.startswith(b"HTTP/1.1 200"), head[:200]
            assert hashlib.sha256(b"hello").hexdigest().encode() in answer
            assert time.monotonic() - t0 < 10, "a small request waited for the stalled uploads"
            small.close()
            # Without giving the shares up this waits for the stalled
            # senders' body timeout (30 s), past the 25 s this read waits.
            t0 = time.monotonic()
            _, answer = read_http_response(big, timeout=min(deadline - t0, 25))
            assert hashlib.sha256(big_body).hexdigest().encode() in answer
            big.close()
            for s in slow:
                s.sendall(b"x" * (size - 1000))
            for s in slow:
                want = hashlib.sha256(b"x" * size).hexdigest().encode()
                assert want in read_http_response(s, timeout=deadline - time.monotonic())[1]
        finally:
            for s in slow:
                s.close()
