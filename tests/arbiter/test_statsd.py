"""arbiterd's statsd metric: Gunicorn's `gunicorn.workers` gauge, sent when
the number of running workers changes, to --statsd-host over UDP (or a unix
datagram socket), with --statsd-prefix and --dogstatsd-tags as Gunicorn
writes them. Received by sockets the test binds."""

from __future__ import annotations

import signal
import socket
import subprocess

from arbiter_e2e_support import (TESTWORKER, env_without_systemd, short_tmp,  # noqa: F401
                                 start_arbiterd, wait_workers)
from gftest import PYTHON, binary, free_port, wait_until


def clean_env() -> dict:
    env = env_without_systemd()
    env.pop("GUNICORN_CMD_ARGS", None)
    return env


def received(sock: socket.socket, into: list) -> list:
    while True:
        try:
            into.append(sock.recv(65536).decode())
        except BlockingIOError:
            return into


def test_workers_gauge_follows_the_worker_count_over_udp(short_tmp):
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setblocking(False)
    got: list[str] = []
    with sink, start_arbiterd(short_tmp, ["-w", "2", "-b", f"127.0.0.1:{free_port()}",
                                          "--statsd-host", f"127.0.0.1:{sink.getsockname()[1]}",
                                          "--statsd-prefix", "myapp...", "--dogstatsd-tags", "env:test,team:web"],
                              env=clean_env()) as arb:
        wait_workers(arb, 2)
        last = lambda: received(sink, got)[-1] if received(sink, got) else None  # noqa: E731
        wait_until(lambda: last() == "myapp.gunicorn.workers:2|g|#env:test,team:web", timeout=30,
                   message="gauge 2")
        arb.signal(signal.SIGTTIN)
        wait_workers(arb, 3)
        wait_until(lambda: last() == "myapp.gunicorn.workers:3|g|#env:test,team:web", timeout=30,
                   message="gauge 3")
        arb.signal(signal.SIGTTOU)
        wait_workers(arb, 2)
        wait_until(lambda: last() == "myapp.gunicorn.workers:2|g|#env:test,team:web", timeout=30,
                   message="gauge back to 2")
    assert all(g.startswith("myapp.gunicorn.workers:") and g.endswith("|g|#env:test,team:web") for g in got), got
    # Sent on change only: never the same value twice in a row.
    assert all(a != b for a, b in zip(got, got[1:])), got


def test_workers_gauge_to_a_unix_datagram_socket_without_prefix(short_tmp):
    path = str(short_tmp / "statsd.sock")
    sink = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sink.bind(path)
    sink.setblocking(False)
    got: list[str] = []
    with sink, start_arbiterd(short_tmp, ["-w", "1", "-b", f"127.0.0.1:{free_port()}", "--statsd-host",
                                          f"unix:{path}"], env=clean_env()) as arb:
        wait_workers(arb, 1)
        wait_until(lambda: "gunicorn.workers:1|g" in received(sink, got), timeout=30, message="gauge 1")


def test_a_bad_statsd_host_is_refused_at_start(short_tmp):
    for host in ("localhost", "127.0.0.1:notaport", "unix:"):
        r = subprocess.run([binary("arbiterd"), "--statsd-host", host, "--check-config", "--", PYTHON, TESTWORKER],
                           env=clean_env(), capture_output=True, text=True, timeout=60)
        assert r.returncode == 2 and "--statsd-host" in r.stderr, (host, r.stderr)
