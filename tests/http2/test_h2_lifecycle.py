"""HTTP/2 across a worker's life: GOAWAY on TERM and on --max-requests with
the streams in flight finished, a rolling reload through arbiterd under
h2load with no failed stream, and --http-protocols' choices and errors."""

from __future__ import annotations

import signal
import socket
import subprocess
import time

import pytest
from hyperframe.frame import DataFrame, GoAwayFrame

from gftest import binary, wait_until, worker_pids
from h2_support import H2Server, RawH2, curl, h2load_counts

NO_ERROR = 0


def goaways(c: RawH2) -> list:
    return [f for f in c.frames if isinstance(f, GoAwayFrame)]


def body(c: RawH2, stream_id: int) -> bytes:
    return b"".join(f.data for f in c.frames if isinstance(f, DataFrame) and f.stream_id == stream_id)


@pytest.mark.parametrize("kind", ["gthread", "asgi"])
def test_term_finishes_streams_in_flight_then_goaway(tmp_path, kind):
    with H2Server(tmp_path, kind) as srv:
        with RawH2(srv.port) as c:
            c.headers(1, "/slow")
            c.headers(3, "/slow")
            # TERM once the server's SETTINGS are here (the requests are on the wire).
            c.read(lambda f: any(getattr(x, "settings", None) is not None for x in f))
            srv.proc.signal(signal.SIGTERM)
            c.read(lambda f: c.eof or (c.ended(1) and c.ended(3) and len(goaways(c)) >= 2),
                   timeout=30)
            assert c.status(1) == "200" and c.status(3) == "200"
            assert body(c, 1).endswith(b"slow done") or b"/slow" in body(c, 1)
            g = goaways(c)
            assert g and all(x.error_code == NO_ERROR for x in g)
            # The notice first (2^31-1), then the last stream taken.
            assert g[0].last_stream_id == 2**31 - 1
            assert g[-1].last_stream_id == 3
            c.read(lambda f: False, timeout=20)
            assert c.eof
        assert srv.proc.wait(timeout=30) == 0


def test_max_requests_sends_goaway_and_answers_every_stream(tmp_path):
    with H2Server(tmp_path, "native", "--max-requests", "5") as srv:
        with RawH2(srv.port) as c:
            for i in range(5):
                c.headers(1 + 2 * i, "/text")
            c.read(lambda f: all(c.ended(1 + 2 * i) for i in range(5)) and c.eof, timeout=30)
            assert [c.status(1 + 2 * i) for i in range(5)] == ["200"] * 5
            g = goaways(c)
            assert g and g[-1].error_code == NO_ERROR and g[-1].last_stream_id == 9
        assert srv.proc.wait(timeout=30) == 0


def test_rolling_reload_under_h2load_fails_no_stream(tmp_path):
    with H2Server(tmp_path, "native", arbiter=True, workers=2) as srv:
        wait_until(lambda: len(worker_pids(srv.proc.pid)) == 2, timeout=30)
        load = subprocess.Popen(["h2load", "-D", "10", "-c", "4", "-m", "16",
                                 srv.url("/text")], stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)
        try:
            for _ in range(2):
                time.sleep(2)  # let load build up on the current workers
                before = set(worker_pids(srv.proc.pid))
                srv.proc.signal(signal.SIGHUP)
                wait_until(lambda: len(set(worker_pids(srv.proc.pid)) & before) == 0
                           and len(worker_pids(srv.proc.pid)) == 2, timeout=60,
                           message="HUP replaced both workers")
            out, _ = load.communicate(timeout=60)
        finally:
            if load.poll() is None:
                load.kill()
                load.wait()
        counts = h2load_counts(out)
        assert counts["succeeded"] > 1000, out
        assert counts["failed"] == 0 and counts["errored"] == 0, out


def raw_exchange(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        got = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                return got
            got += chunk


def test_h1_only_refuses_the_preface_clearly(tmp_path):
    with H2Server(tmp_path, "native", protocols="h1") as srv:
        answer = raw_exchange(srv.port, RawH2.PREFACE)
        assert answer.startswith(b"HTTP/1.1 400"), answer
        assert b"HTTP/2 is off" in answer
        assert curl("--http1.1", srv.url("/text")).returncode == 0


def test_h2_only_refuses_http1(tmp_path):
    with H2Server(tmp_path, "native", protocols="h2") as srv:
        answer = raw_exchange(srv.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 400") and b"HTTP/2 only" in answer, answer
        out = curl("--http2-prior-knowledge", srv.url("/text"))
        assert out.returncode == 0 and out.stdout.startswith(b"GET /text"), out


@pytest.mark.parametrize("value,message", [
    ("h3", "h3 (HTTP/3 over QUIC) is not supported"),
    ("h1,spdy", "'spdy' is not h1 or h2"),
    ("", "'' is not h1 or h2"),
])
def test_bad_values_are_refused(tmp_path, value, message):
    run = subprocess.run([binary("gworker"), "-b", "127.0.0.1:1", "--http-protocols", value,
                          "x:app"], capture_output=True, text=True, timeout=30)
    assert run.returncode == 2, run
    assert message in run.stderr + run.stdout
    if not value:
        return  # (arbiterd's parser takes no empty value for a flag)
    run = subprocess.run([binary("arbiterd"), "-b", "127.0.0.1:1", "--http-protocols", value,
                          "x:app"], capture_output=True, text=True, timeout=30)
    assert run.returncode == 2, run
    assert message in run.stderr + run.stdout
