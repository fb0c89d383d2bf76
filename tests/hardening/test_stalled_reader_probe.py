"""Issue 14: a client that does not read a big response held an app thread.

A sync worker wrote a response past its 64 KiB buffer from the app's
thread (the I/O thread, for the inline sync worker), blocking until the
client had read it or --write-timeout passed: one client that asks for 50 MB
and never reads held a `-w 1` pool for the whole write timeout. The response
is now handed to a buffer the event loop owns (bounded per connection, a
single hand-over taken whole), the app thread goes back to work at once, and
the loop drops the connection when the client takes nothing for
--write-timeout.
"""

from __future__ import annotations

import socket
import tempfile
import time

import pytest

from gftest import Spawned, binary, free_port, http_get, wait_until

APP = '''
def app(environ, start_response):
    if environ["PATH_INFO"] == "/big":
        size = int(environ["QUERY_STRING"])
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(size))])
        return [b"x" * size]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "6")])
    return [b"hello\\n"]
'''

SIZE = 50_000_000
WRITE_TIMEOUT = 5.0


def server_side_open(server_port: int, client_port: int) -> bool:
    """True while the server's end of the connection is ESTABLISHED (a close
    moves it to FIN_WAIT1, its unsent bytes still queued)."""
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            local, remote, state = fields[1], fields[2], fields[3]
            if (int(local.split(":")[1], 16) == server_port
                    and int(remote.split(":")[1], 16) == client_port):
                return state == "01"
    return False


@pytest.mark.parametrize("worker_class", [["-k", "sync"], ["-k", "gthread", "--threads", "1"]],
                         ids=["sync", "gthread-1"])
def test_a_client_that_never_reads_does_not_hold_the_pool(tmp_path, worker_class):
    (tmp_path / "big_app.py").write_text(APP)
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="gfstall", dir="/tmp") as short, \
            Spawned([binary("arbiterd"), "--control-socket", f"{short}/ctl.sock", "-w", "1",
                     *worker_class, "-b", f"127.0.0.1:{port}", "--chdir", str(tmp_path),
                     "--write-timeout", str(WRITE_TIMEOUT), "big_app:app"], logdir=tmp_path):
        wait_until(lambda: http_get(port, "/", timeout=2).status == 200, timeout=30,
                   message="the pool serving")

        stuck = socket.socket()
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.settimeout(30)
        stuck.connect(("127.0.0.1", port))
        try:
            stuck.sendall(b"GET /big?%d HTTP/1.1\r\nHost: x\r\n\r\n" % SIZE)
            assert stuck.recv(64).startswith(b"HTTP/1.1 200")  # the response has started
            sent_at = time.monotonic()
            for _ in range(3):
                start = time.monotonic()
                assert http_get(port, "/", timeout=15).body == b"hello\n"
                elapsed = time.monotonic() - start
                assert elapsed < 2, f"a GET waited {elapsed:.1f}s behind a client that never reads"
            # The stuck connection is dropped once it took nothing for the write
            # timeout (the worker's socket goes); reading then finds what was
            # in flight, then the end.
            client_port = stuck.getsockname()[1]
            assert server_side_open(port, client_port)
            wait_until(lambda: not server_side_open(port, client_port),
                       timeout=WRITE_TIMEOUT + 15,
                       message="the worker dropping the stuck connection")
            assert time.monotonic() - sent_at > WRITE_TIMEOUT - 1
            received = 0
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    piece = stuck.recv(1 << 20)
                except ConnectionResetError:
                    break
                if not piece:
                    break
                received += len(piece)
            else:
                raise AssertionError("the stuck connection was never closed")
            assert received < SIZE, "the stalled reader got the whole response"
        finally:
            stuck.close()
