"""Issue 14: a request whose body the app did not read sometimes got no
response at all.

The app answered without reading a large body; the connection could not be
kept (too much left to skip), so gworker closed it with the client's bytes
still unread in its socket. Closing a TCP socket with unread input sends a
reset at once and throws away whatever of the response the kernel had not
transmitted yet: a client still busy uploading got part of the response, or
none of it. gworker now reads the whole
body before the app runs (request buffering), and whenever it closes a
connection whose client may still be sending, it sends its FIN first and
reads what still comes for a moment (nginx's lingering close).
"""

from __future__ import annotations

import socket
import threading

import pytest

from gftest import BUILD_DIR, Spawned, binary, free_port, http_get, wait_until

ECHO = BUILD_DIR / "tests/support/native_echo/libnative_echo.so"
ROUNDS = 40


def post(path: str, body: bytes, extra: bytes = b"") -> bytes:
    return (b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (path.encode(), len(body))
            + body + extra)


def exchange(port: int, data: bytes, read_after_send: bool = False) -> bytes:
    """Sends `data` from a thread (the server may stop reading it) and reads
    everything the server sends until it closes; with read_after_send, only
    once the sending ended (a client busy uploading)."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        def send():
            try:
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the server closed first: what it answered still counts
        sender = threading.Thread(target=send)
        sender.start()
        if read_after_send:
            sender.join(20)
        received = b""
        try:
            while piece := s.recv(1 << 16):
                received += piece
        except ConnectionResetError:
            pass  # the response must have come before
        sender.join(20)
        return received


@pytest.fixture(params=["buffered", "streamed"])
def server(request, tmp_path):
    flags = [] if request.param == "buffered" else ["--no-request-buffering"]
    port = free_port()
    with Spawned([binary("gworker"), "-b", f"127.0.0.1:{port}", *flags, f"native:{ECHO}"],
                 logdir=tmp_path):
        wait_until(lambda: http_get(port, "/status?code=204", timeout=2).status == 204,
                   timeout=15)
        yield port


@pytest.mark.parametrize("size", [300_000, 2_000_000])
def test_unread_bodies_are_answered(server, size):
    body = b"b" * size
    for i in range(ROUNDS):
        got = exchange(server, post("/nobody", body))
        assert got.startswith(b"HTTP/1.1 200") and got.endswith(b"body not read\n"), \
            f"round {i}: {got[:200]!r}"


def test_big_responses_to_unread_bodies_arrive_whole(server):
    body = b"u" * 300_000
    size = 3_000_000
    for i in range(ROUNDS // 4):
        got = exchange(server, post(f"/large?bytes={size}", body), read_after_send=True)
        head, _, payload = got.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), f"round {i}: {got[:200]!r}"
        assert len(payload) == size, f"round {i}: {len(payload)} of {size} bytes arrived"


def test_unread_bodies_on_keep_alive_and_pipelined_requests_are_answered(server):
    body = b"p" * 100_000
    for i in range(ROUNDS):
        # Two unread bodies pipelined, then a GET: the first is always
        # answered; what follows is answered or the connection ends cleanly.
        got = exchange(server, post("/nobody", body) + post("/nobody", body)
                       + b"GET /after HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answers = got.count(b"HTTP/1.1 200")
        assert got.startswith(b"HTTP/1.1 200") and b"body not read\n" in got, \
            f"round {i}: {got[:200]!r}"
        assert answers >= 1
