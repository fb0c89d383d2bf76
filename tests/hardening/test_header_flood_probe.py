"""Issue 14: connections sending huge header blocks left a worker big.

Hundreds of connections each holding most of a maximal request head (99
fields of 8 KB, within Gunicorn's limits) grow a worker by hundreds of MB;
once they left, the freed memory stayed in malloc's free lists and the
worker stayed at most of its peak. A head is capped at Gunicorn's total
(fields x field size + request line, 431 beyond: tests/http/
test_http_limits.py) and the worker trims malloc after such a burst.
"""

from __future__ import annotations

import os
import socket

import pytest

from gftest import BUILD_DIR, Spawned, binary, free_port, http_get, wait_until

ECHO = BUILD_DIR / "tests/support/native_echo/libnative_echo.so"
CONNECTIONS = 250
HEAD = (b"GET / HTTP/1.1\r\nHost: x\r\n"
        + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * 8000) for i in range(99)))


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(os.environ.get("GF_SANITIZED") == "1",
                    reason="the sanitizers' allocator keeps freed memory (quarantine)")
def test_memory_of_a_header_flood_is_given_back(tmp_path):
    port = free_port()
    with Spawned([binary("gworker"), "-b", f"127.0.0.1:{port}", "--header-timeout", "120",
                  "--worker-connections", "1000", f"native:{ECHO}"], logdir=tmp_path) as gw:
        wait_until(lambda: http_get(port, "/", timeout=2).status == 200, timeout=15)
        before = rss_mb(gw.pid)
        flood = []
        try:
            for _ in range(CONNECTIONS):
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                s.sendall(HEAD)  # never finished: the head stays in the worker
                flood.append(s)
            grown = before + CONNECTIONS * len(HEAD) / 2**20 * 0.8
            wait_until(lambda: rss_mb(gw.pid) > grown, timeout=30,
                       message=f"the worker holding the heads (> {grown:.0f} MB)")
        finally:
            for s in flood:
                s.close()
        wait_until(lambda: rss_mb(gw.pid) < before + 30, timeout=15,
                   message=f"RSS back near {before:.0f} MB (now {rss_mb(gw.pid):.0f} MB)")
        assert http_get(port, "/", timeout=5).status == 200
