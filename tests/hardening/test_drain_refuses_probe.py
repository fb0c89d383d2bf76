"""Issue 14: during a graceful TERM drain, new connections hung.

A sync worker runs its app on the I/O thread, so a TERM that came during a
slow request was not seen until the request ended: meanwhile the listener
stayed open and new clients queued on it, to be reset when the drain at
last closed it. gworker now takes signals on a thread of their own, which
stops the listeners it bound itself at once (connect() is refused) while
the in-flight request completes.
"""

from __future__ import annotations

import signal
import socket
import time

from gftest import SOURCE_DIR, Spawned, binary, free_port, http_get, wait_until

APPS = SOURCE_DIR / "tests/wsgi/apps"


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_connections_are_refused_during_the_drain(tmp_path):
    port = free_port()
    with Spawned([binary("gworker"), "-b", f"127.0.0.1:{port}", "--graceful-timeout", "30",
                  "--chdir", str(APPS), "gateway_app:app"], logdir=tmp_path) as gw:
        wait_until(lambda: http_get(port, "/hello", timeout=2).status == 200, timeout=30,
                   message="gworker serving")
        mark = tmp_path / "in-the-app"
        with socket.create_connection(("127.0.0.1", port), timeout=30) as slow:
            slow.sendall(b"GET /slow?ms=4000&mark=%s HTTP/1.1\r\nHost: x\r\n\r\n"
                         % str(mark).encode())
            wait_until(mark.exists, timeout=10, message="the slow request in the app")
            term_at = time.monotonic()
            gw.signal(signal.SIGTERM)
            wait_until(lambda: refused(port), timeout=2.5,
                       message="connect() refused while the slow request runs")
            assert time.monotonic() - term_at < 3.5, "refused only after the request ended"
            data = b""
            while not data.endswith(b"}"):
                piece = slow.recv(4096)
                assert piece, f"closed before the response completed: {data!r}"
                data += piece
        assert data.startswith(b"HTTP/1.1 200")
        assert b"Connection: close" in data
        assert gw.wait(timeout=15) == 0
