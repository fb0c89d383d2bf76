"""gthread's promise through the cheap hand-off (app threads keep the GIL
across back-to-back requests, idle threads are woken one at a time, one
wake-up per batch): with --threads 2 on one worker, a request blocked in the
app never holds up another that the second thread can serve, also when it
arrives in the middle of a burst; and no more than N requests run at once."""
from __future__ import annotations

import select
import socket
import time

import pytest

from gftest import wait_until
from wsgi_support import serving

DEADLINE = 20.0  # a quick request's answer, on a loaded machine


class Client:
    """One keep-alive HTTP/1.1 connection, read by hand."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        self.buf = b""

    def send(self, path: str) -> None:
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\n\r\n".encode())

    def ready(self, timeout: float) -> bool:
        """True when response bytes are there (or were read already)."""
        return bool(self.buf) or bool(select.select([self.sock], [], [], timeout)[0])

    def response(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self.buf:
            piece = self.sock.recv(65536)
            assert piece, "the server closed the connection"
            self.buf += piece
        head, rest = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        length = next(int(l.split(":", 1)[1]) for l in lines if l.lower().startswith("content-length:"))
        while len(rest) < length:
            piece = self.sock.recv(65536)
            assert piece, "the server closed the connection"
            rest += piece
        self.buf = rest[length:]
        return int(lines[0].split()[1]), rest[:length]

    def get(self, path: str) -> tuple[int, bytes]:
        self.send(path)
        return self.response()

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def port():
    with serving("handoff_app:app", "-k", "gthread", "--threads", "2", workers=1) as (p, _):
        yield p


@pytest.fixture
def clients(port):
    made: list[Client] = []

    def make() -> Client:
        made.append(Client(port))
        return made[-1]
    yield make
    for c in made:
        c.close()


def blocked(client: Client, key: str) -> bool:
    status, body = client.get("/waiting")
    assert status == 200
    return key in body.decode().split(",")


def test_a_request_blocked_on_an_event_does_not_hold_up_others(clients):
    a, b = clients(), clients()
    a.send("/block?id=event")
    wait_until(lambda: blocked(b, "event"), timeout=DEADLINE, message="/block running")
    for _ in range(50):
        assert b.get("/hello") == (200, b"hello\n")
    assert not a.ready(0), "the blocked request finished on its own"
    assert b.get("/release?id=event") == (200, b"ok")
    assert a.response() == (200, b"released event")


@pytest.mark.parametrize("path", ["/sleep?ms=6000", "/spin?ms=6000"], ids=["sleep", "spin"])
def test_a_sleeping_or_busy_request_does_not_hold_up_others(clients, path):
    """time.sleep gives the GIL up; a busy loop holds it, and CPython's
    switch interval hands it over: either way the other thread serves."""
    a, b = clients(), clients()
    assert b.get("/hello") == (200, b"hello\n")  # both connections are served
    a.send(path)
    for _ in range(20):
        assert b.get("/hello") == (200, b"hello\n")
    assert not a.ready(0), f"{path} was over before the quick requests"
    assert a.response()[0] == 200


def test_a_blocked_request_in_the_middle_of_bursts(clients):
    """Requests of many connections arrive together (one batch, one wake-up,
    run back to back by the thread holding the GIL); one of them blocks:
    the rest of the burst, and the next bursts, are served meanwhile."""
    conns = [clients() for _ in range(8)]
    for c in conns:  # every connection accepted and served once
        assert c.get("/hello") == (200, b"hello\n")
    for rnd in range(5):
        key = f"burst{rnd}"
        blocker, quick = conns[4], conns[:4] + conns[5:]
        for c in conns[:4]:
            c.send("/hello")
        blocker.send(f"/block?id={key}")
        for c in conns[5:]:
            c.send("/hello")
        for c in quick:
            assert c.response() == (200, b"hello\n")
        # Another burst while it is still blocked.
        for c in quick:
            c.send("/hello")
        for c in quick:
            assert c.response() == (200, b"hello\n")
        wait_until(lambda: blocked(conns[0], key), timeout=DEADLINE, message=f"{key} blocked")
        assert not blocker.ready(0)
        assert conns[1].get(f"/release?id={key}") == (200, b"ok")
        assert blocker.response() == (200, f"released {key}".encode())


def test_no_more_requests_run_at_once_than_threads(clients, tmp_path):
    """--threads 2: with one request blocked and one sleeping, a third waits
    for the sleeper's thread."""
    a, b, c, d = clients(), clients(), clients(), clients()
    a.send("/block?id=two")
    wait_until(lambda: blocked(d, "two"), timeout=DEADLINE, message="/block running")
    t0 = time.monotonic()
    mark = tmp_path / "sleeping"
    b.send(f"/sleep?ms=2000&mark={mark}")
    wait_until(mark.exists, timeout=DEADLINE, message="/sleep running")
    c.send("/hello")
    assert c.response() == (200, b"hello\n")
    waited = time.monotonic() - t0
    assert b.response() == (200, b"slept")
    assert waited >= 1.5, f"a third request ran at once ({waited:.2f} s) with 2 threads busy"
    assert d.get("/release?id=two") == (200, b"ok")
    assert a.response() == (200, b"released two")
