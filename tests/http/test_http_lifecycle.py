"""gworker's lifecycle as clients see it: TERM drains in-flight requests and
refuses new connections, --max-requests drains and exits 0 (and under
arbiterd no request fails while workers are replaced), a bad app exits 4."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ECHO_LIB, echo_spec
from gftest import BUILD_DIR, RequestLoop, Spawned, binary, free_port, source, wait_until
from httpwire import Wire, request

STREAM = "/stream?chunks=3&size=70000&delay_ms=700"  # > 64 KiB: streamed, ~1.4 s


def refuses(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def read_head_only(w: Wire) -> bytes:
    """Waits for the response head of a streamed response: proof it is in flight."""
    deadline = time.monotonic() + 10
    while b"\r\n\r\n" not in w.buf:
        assert w._fill(deadline), "closed before the response head"
    return w.buf.split(b"\r\n\r\n", 1)[0]


def test_term_drains_in_flight_request_and_refuses_new(gworker):
    srv = gworker("--graceful-timeout", "10")
    with Wire(srv.port) as streaming, Wire(srv.port) as idle:
        idle.send(request("GET", "/warm"))
        assert idle.response().status == 200
        # A streamed response plus a request pipelined behind it.
        streaming.send(request("GET", STREAM) + request("GET", "/behind"))
        assert read_head_only(streaming).startswith(b"HTTP/1.1 200")
        srv.proc.signal(signal.SIGTERM)
        wait_until(lambda: refuses(srv.port), timeout=3,
                   message="new connections refused after TERM")
        assert srv.proc.poll() is None, "exited before the in-flight request finished"
        r = streaming.response(timeout=10)
        assert r.body == b"".join(bytes([97 + i]) * 70000 for i in range(3))
        behind = streaming.response()
        assert behind.status == 200
        assert (behind.header("Connection") or "").lower() == "close"
        assert streaming.closed_within(3)
        assert idle.closed_within(3), "an idle keep-alive connection outlived TERM"
    assert srv.proc.wait(timeout=10) == 0


def test_term_waits_for_a_slow_app_call(gworker):
    srv = gworker("--graceful-timeout", "10")
    with Wire(srv.port) as w:
        w.send(request("GET", "/slow?ms=1500"))
        # Half a second without an answer: the app call is under way.
        assert not w.closed_within(0.5)
        srv.proc.signal(signal.SIGTERM)
        r = w.response(timeout=10)
        assert r.status == 200 and r.body == b"slow done\n"
    assert srv.proc.wait(timeout=10) == 0


def test_graceful_timeout_bounds_the_drain(gworker):
    srv = gworker("--graceful-timeout", "1")
    with Wire(srv.port) as w:
        w.send(request("GET", "/slow?ms=20000"))
        assert not w.closed_within(0.3)
        start = time.monotonic()
        srv.proc.signal(signal.SIGTERM)
        srv.proc.wait(timeout=8)
        assert time.monotonic() - start < 5


def test_quit_exits_now(gworker):
    srv = gworker()
    with Wire(srv.port) as w:
        w.send(request("GET", "/slow?ms=20000"))
        assert not w.closed_within(0.3)
        srv.proc.signal(signal.SIGQUIT)
        srv.proc.wait(timeout=3)


def test_max_requests_drains_and_exits_zero(gworker):
    srv = gworker("--max-requests", "6")
    answered = 1  # the readiness probe
    with Wire(srv.port) as w:
        while answered < 6:
            w.send(request("GET", f"/n{answered}"))
            r = w.response()
            assert r.status == 200
            answered += 1
        assert (r.header("Connection") or "").lower() == "close", \
            "the last allowed request should say Connection: close"
    assert srv.proc.wait(timeout=10) == 0


def test_app_that_fails_to_load_exits_4(tmp_path):
    port = free_port()
    for spec, needle in ((f"native:{tmp_path}/missing.so", "missing.so"),
                         (echo_spec("fail"), "asked to fail")):
        proc = Spawned([binary("gworker"), "-b", f"127.0.0.1:{port}", spec], logdir=tmp_path)
        with proc:
            assert proc.wait(timeout=10) == 4, proc.output()
            assert needle in proc.stderr_text(), proc.output()


def test_max_requests_respawn_under_arbiterd_fails_no_request(tmp_path):
    arbiterd = BUILD_DIR / "bin/arbiterd"
    if not arbiterd.exists():
        pytest.skip("arbiterd is not built")
    port = free_port()
    argv = [str(arbiterd), "-w", "2", "-b", f"127.0.0.1:{port}",
            "--control-socket", str(tmp_path / "control.sock"), "--graceful-timeout", "10",
            "--", binary("gworker"), "--max-requests", "40", "--max-requests-jitter", "10",
            f"native:{ECHO_LIB}"]
    with Spawned(argv, logdir=tmp_path) as arb:
        wait_until(lambda: Wire(port).close() is None, timeout=20, message="arbiterd listening")
        pids: set[str] = set()
        with RequestLoop(port, "/status?code=200", max_requests=400, max_seconds=80) as fresh, \
                RequestLoop(port, "/status?code=200", max_requests=400, max_seconds=80,
                            keep_alive=True) as kept:
            def loops_done() -> bool:
                with Wire(port) as w:  # meanwhile, see which workers answer
                    w.send(request("GET", "/status?code=200", [("Connection", "close")]))
                    pids.add(w.response().header("X-Echo-Pid"))
                return all(lp.ok + len(lp.failures) >= 400 for lp in (fresh, kept))
            wait_until(loops_done, timeout=90, interval=0.05, message="800 requests")
        assert fresh.failures == [] and kept.failures == [], \
            f"failed requests: {(fresh.failures + kept.failures)[:5]}\n{arb.output()}"
        assert fresh.ok + kept.ok >= 400
        assert len(pids) >= 4, f"workers were not replaced: pids {pids}"
        assert arb.poll() is None


def established_to(port: int) -> int:
    """ESTABLISHED TCP connections to 127.0.0.1:port (from /proc/net/tcp)."""
    with open("/proc/net/tcp") as f:
        rows = [line.split() for line in f.readlines()[1:]]
    return sum(1 for r in rows if r[2].endswith(f":{port:04X}") and r[3] == "01")


def test_reloads_under_wrk_keep_alive_load_fail_no_request(tmp_path):
    """wrk's 64 keep-alive connections through three rolling reloads: each
    stopping worker answers everything the kernel already handed it (a
    request is never reset), the others take the reconnections."""
    arbiterd = BUILD_DIR / "bin/arbiterd"
    if not arbiterd.exists():
        pytest.skip("arbiterd is not built")
    port = free_port()
    argv = [str(arbiterd), "-w", "2", "-b", f"127.0.0.1:{port}",
            "--control-socket", str(tmp_path / "control.sock"),
            "--", os.environ.get("GF_TEST_GWORKER", binary("gworker")),
            "--chdir", source("examples/hello"), "app:app"]
    with Spawned(argv, logdir=tmp_path) as arb:
        wait_until(lambda: Wire(port).close() is None, timeout=20, message="arbiterd listening")
        load = Spawned(["wrk", "-t1", "-c64", "-d8s", "--timeout", "5s",
                        f"http://127.0.0.1:{port}/"], logdir=tmp_path)
        with load:
            wait_until(lambda: established_to(port) >= 64, timeout=10, message="wrk connected")
            for generation in (1, 2, 3):
                arb.signal(signal.SIGHUP)
                wait_until(lambda: f"reloaded (generation {generation})" in arb.stderr_text(),
                           timeout=20, message=f"reload {generation}")
            assert load.wait(timeout=30) == 0
            report = load.stdout_text()
        assert "requests in" in report, report
        assert "Socket errors" not in report and "Non-2xx" not in report, \
            f"requests failed during reloads:\n{report}\n{arb.output()}"
        assert arb.poll() is None


def test_at_the_connection_limit_the_oldest_idle_keep_alive_makes_room(gworker):
    """nginx's reusable connections: with --worker-connections reached by idle
    keep-alive clients, a new client is served at once and the connection
    idle the longest is closed for it."""
    srv = gworker("--worker-connections", "50", "--keep-alive", "60")
    held = []
    try:
        for i in range(60):
            w = Wire(srv.port, timeout=10)
            held.append(w)
            start = time.monotonic()
            w.send(request("GET", f"/k{i}"))
            assert w.response(timeout=10).status == 200
            elapsed = time.monotonic() - start
            assert elapsed < 2, f"client {i} waited {elapsed:.1f}s at the connection limit"
        # The ten oldest made room; the fifty newest are still open.
        assert all(w.closed_within(5) for w in held[:10])
        for w in held[10:]:
            w.send(request("GET", "/again"))
            assert w.response(timeout=10).status == 200
    finally:
        for w in held:
            w.close()
