"""gworker's statsd metrics (--statsd-host, --statsd-prefix, --dogstatsd-tags)
with Gunicorn's names and types, received by a datagram socket in the test."""
from __future__ import annotations

import contextlib
import socket
import textwrap
import time
from collections import Counter
from pathlib import Path

from gftest import Spawned, binary, free_port, http_request, wait_until
from wsgi_support import serving

APP = textwrap.dedent('''
    import logging
    log = logging.getLogger("gunicorn.error")

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/missing":
            start_response("404 Not Found", [("Content-Length", "0")])
            return [b""]
        if path == "/logs":
            log.warning("a warning")
            log.error("an error")
            log.critical("a critical")
            try:
                raise ValueError("x")
            except ValueError:
                log.exception("an exception")
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]
''')


class Receiver:
    """Collects statsd lines sent to a datagram socket."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.sock.settimeout(0)
        self.lines: list[str] = []

    def poll(self) -> list[str]:
        with contextlib.suppress(BlockingIOError):
            while True:
                self.lines.extend(self.sock.recv(65536).decode().split("\n"))
        return self.lines

    def count(self, name: str) -> int:
        """The sum of a counter's values (gworker sums them per flush)."""
        total = 0
        for line in self.poll():
            if line.split(":", 1)[0] == name:
                total += int(line.split(":", 1)[1].split("|")[0])
        return total


def udp_receiver() -> tuple[Receiver, int]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return Receiver(s), s.getsockname()[1]


def test_request_and_log_metrics_through_arbiterd(tmp_path):
    (tmp_path / "statsapp.py").write_text(APP)
    rx, port = udp_receiver()
    with contextlib.closing(rx.sock), \
            serving("statsapp:app", "--statsd-host", f"127.0.0.1:{port}", "--statsd-prefix", "shop",
                    "--dogstatsd-tags", "env:test,team:web", chdir=tmp_path,
                    ready_path="/missing") as (http_port, arb):
        before = rx.count("shop.gunicorn.requests")
        for _ in range(3):
            assert http_request(http_port, "/ok").status == 200
        assert http_request(http_port, "/missing").status == 404
        assert http_request(http_port, "/logs").status == 200
        wait_until(lambda: rx.count("shop.gunicorn.requests") >= before + 5, timeout=20,
                   message="5 request counters")
        wait_until(lambda: rx.count("shop.gunicorn.log.exception") >= 1, timeout=20,
                   message="the log counters")
        lines = list(rx.poll())
    for line in lines:
        if line:
            assert line.startswith("shop.gunicorn.") and line.endswith("|#env:test,team:web"), line
    kinds = Counter()
    for line in lines:
        if not line:
            continue
        name, rest = line.split(":", 1)
        value, mtype = rest.split("|")[:2]
        kinds[name] += int(value) if mtype == "c" else 1
        if name == "shop.gunicorn.request.duration":
            assert mtype == "ms" and float(value) >= 0, line
        elif name.startswith("shop.gunicorn.request"):
            assert mtype == "c" and rest.split("|")[2] == "@1.0", line
    assert kinds["shop.gunicorn.request.duration"] == kinds["shop.gunicorn.requests"], kinds
    assert kinds["shop.gunicorn.request.status.200"] == 4, kinds
    assert kinds["shop.gunicorn.request.status.404"] == kinds["shop.gunicorn.requests"] - 4, kinds
    for level in ("warning", "error", "critical", "exception"):
        assert kinds[f"shop.gunicorn.log.{level}"] == 1, (level, kinds)


def test_unix_datagram_socket_and_no_listener(tmp_path):
    (tmp_path / "statsapp.py").write_text(APP)
    path = tmp_path / "statsd.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(path))
    rx = Receiver(s)
    port = free_port()
    with contextlib.closing(s), \
            Spawned([binary("gworker"), "-b", f"127.0.0.1:{port}", "--chdir", str(tmp_path),
                     "--statsd-host", f"unix:{path}", "statsapp:app"]) as w:
        wait_until(lambda: http_request(port, "/ok").status == 200, timeout=30)
        wait_until(lambda: rx.count("gunicorn.requests") >= 1, timeout=20, message="a counter")
        # The receiver goes away: sends fail and are dropped, serving goes on.
        s.close()
        path.unlink()
        for _ in range(20):
            assert http_request(port, "/ok").status == 200
        assert w.poll() is None


def test_bad_statsd_host_is_a_usage_error(tmp_path):
    for bad in ("localhost:notaport", "[::1", "unix:"):
        with Spawned([binary("gworker"), "-b", "127.0.0.1:1", "--statsd-host", bad, "x:app"]) as w:
            assert w.wait(timeout=30) == 2, (bad, w.output())
            assert "--statsd-host" in w.stderr_text(), w.output()
