"""Connections spread over the workers (issue 18): a burst of keep-alive
connections, like `wrk -c64` opening its connections, is shared by both
gworkers of a pool instead of landing on whichever woke first; and a -k sync
worker busy in a slow request does not take a client the other worker could
serve at once."""

from __future__ import annotations

import collections
import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest

from arbiter_e2e_support import env_without_systemd
from gftest import (BUILD_DIR, Spawned, binary, free_port, http_get, read_http_response, wait_until,
                    worker_pids)

HELLO = BUILD_DIR / "examples/native/libhello.so"
CONNECTIONS = 64
BURSTS = 10  # per pool
POOLS = 5    # fresh arbiterd each: a pool's spread tends to stick
DEADLINE_S = 20.0


def ready_workers(ctl: str) -> int:
    out = subprocess.run([binary("gctl"), "--socket", f"unix:{ctl}", "--json", "status"],
                         capture_output=True, text=True, timeout=10)
    if out.returncode != 0:
        return 0
    return json.loads(out.stdout)["pools"][0]["ready"]


def socket_owners(pids: list[int]) -> dict[int, int]:
    """socket inode -> the pid (of pids) that holds it."""
    owners = {}
    for pid in pids:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                owners[int(target[8:-1])] = pid
    return owners


def server_side_inodes(port: int) -> dict[int, int]:
    """For each established connection to 127.0.0.1:port: the client's
    port -> the inode of the server's socket (from /proc/net/tcp)."""
    out = {}
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            local, remote, state, inode = fields[1], fields[2], fields[3], int(fields[9])
            if state == "01" and int(local.split(":")[1], 16) == port:
                out[int(remote.split(":")[1], 16)] = inode
    return out


def burst(port: int, workers: list[int]) -> collections.Counter:
    """Opens CONNECTIONS connections at once (like `wrk -c64` starting),
    then one request on each; once every response is in (the connections
    still open), counts the connections each worker holds."""
    deadline = time.monotonic() + DEADLINE_S
    socks = []
    try:
        for _ in range(CONNECTIONS):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            socks.append(s)
        for s in socks:
            _, writable, _ = select.select([], [s], [], max(0.1, deadline - time.monotonic()))
            assert writable, "connect timed out"
            s.setblocking(True)
            s.sendall(b"GET / HTTP/1.1\r\nHost: spread\r\n\r\n")
        for s in socks:
            head, body = read_http_response(s, timeout=max(0.1, deadline - time.monotonic()))
            assert head.startswith(b"HTTP/1.1 200") and body == b"Hello, World!", (head, body)
        by_client_port = server_side_inodes(port)
        owners = socket_owners(workers)
        return collections.Counter(owners.get(by_client_port.get(s.getsockname()[1], -1), 0)
                                   for s in socks)
    finally:
        for s in socks:
            s.close()


def bursts_on_a_fresh_pool(tmp: Path) -> list[list[int]]:
    """arbiterd -w 2 serving the native hello app (an inline handler, as in
    the bench's native row); BURSTS bursts; per burst the connections of
    each worker, largest first."""
    port = free_port()
    ctl = tmp / "ctl.sock"
    argv = [binary("arbiterd"), "--control-socket", str(ctl), "-w", "2", "-b", f"127.0.0.1:{port}",
            "--", binary("gworker"), f"native:{HELLO}"]
    with Spawned(argv, logdir=tmp / "logs", env=env_without_systemd()) as arb:
        wait_until(lambda: ready_workers(str(ctl)) == 2, timeout=30, message="2 READY workers")
        wait_until(lambda: http_get(port, "/", timeout=2).status == 200, timeout=15)
        workers = worker_pids(arb.pid)
        assert len(workers) == 2, workers
        out = []
        for _ in range(BURSTS):
            counts = burst(port, workers)
            assert sum(counts.values()) == CONNECTIONS
            assert 0 not in counts, f"connections held by no worker: {counts}"
            out.append(sorted(counts.values(), reverse=True) + [0] * (2 - len(counts)))
        assert arb.poll() is None, arb.output()
        arb.stop()
    return out


def test_bursts_of_connections_are_shared_by_both_workers():
    if not HELLO.exists():
        pytest.fail(f"{HELLO} is not built (target hello)")
    bursts = []
    for i in range(POOLS):
        tmp = Path(tempfile.mkdtemp(prefix="gfs-", dir="/tmp"))  # short unix socket paths
        try:
            bursts += bursts_on_a_fresh_pool(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    # The smaller of the two shares of a burst, averaged over all the
    # bursts: an even spread is 32 of 64. Before issue 18 it was 13-15 (one
    # worker took 52 or all 64 in about half of the bursts); with the accept
    # thread 28-30 with the test alone on a loaded 2-core machine, 24 with
    # another suite running beside it (ctest -j2). A worker that gets no CPU
    # during a burst misses it, so single bursts may still be uneven.
    smaller = sum(b[1] for b in bursts) / len(bursts)
    assert smaller >= CONNECTIONS * 5 / 16, f"per-worker connections in each burst: {bursts}"


SLOW_APP = """import os
import time


def app(environ, start_response):
    if environ["PATH_INFO"] == "/slow":
        open(os.path.join(os.path.dirname(__file__), "slow-started"), "w").close()
        time.sleep(3.0)
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
"""


def get(port: int, path: str) -> float:
    """Seconds for one request on a new connection."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: spread\r\nConnection: close\r\n\r\n".encode())
        read_http_response(s, timeout=10)
    return time.monotonic() - started


def test_a_busy_sync_worker_leaves_new_clients_to_the_idle_one(tmp_path):
    (tmp_path / "slowapp.py").write_text(SLOW_APP)
    tmp = Path(tempfile.mkdtemp(prefix="gfs-", dir="/tmp"))
    try:
        port = free_port()
        ctl = tmp / "ctl.sock"
        argv = [binary("arbiterd"), "--control-socket", str(ctl), "-w", "2", "-b", f"127.0.0.1:{port}",
                "--chdir", str(tmp_path), "slowapp:app"]
        with Spawned(argv, logdir=tmp / "logs", env=env_without_systemd()):
            wait_until(lambda: ready_workers(str(ctl)) == 2, timeout=30, message="2 READY workers")
            wait_until(lambda: get(port, "/") < 10, timeout=15)
            slow_done = threading.Event()

            def keep_one_busy():
                try:
                    get(port, "/slow")
                finally:
                    slow_done.set()

            busy = threading.Thread(target=keep_one_busy)
            busy.start()
            fast = []
            try:
                # From the moment one worker is inside the 3 s request.
                wait_until(lambda: (tmp_path / "slow-started").exists() or slow_done.is_set(),
                           timeout=15, message="the slow request running")
                while not slow_done.is_set() and len(fast) < 40:
                    fast.append(get(port, "/fast"))
                    slow_done.wait(0.05)
            finally:
                busy.join(timeout=30)
            # Each /fast went to the idle worker: none waited for the /slow (3 s).
            assert fast and max(fast) < 0.5, f"fast requests' seconds: {[round(x, 3) for x in fast]}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
