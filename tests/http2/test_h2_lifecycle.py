"""HTTP/2 across a worker's life: GOAWAY on TERM and on --max-requests with
the streams in flight finished, a rolling reload through arbiterd under
h2load with no failed stream, and --http-protocols' choices and errors."""

from __future__ import annotations

import signal
import socket
import subprocess
import threading

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
    # h2load does not reconnect after a GOAWAY (its connections just end), so
    # the load is h2load runs back to back, each over the reloads it meets:
    # every stream each run started must succeed, on old workers and new.
    with H2Server(tmp_path, "native", "--access-logformat", "%(p)s %(s)s",
                  arbiter=True, workers=2) as srv:
        wait_until(lambda: len(worker_pids(srv.proc.pid)) == 2, timeout=30)
        first = set(worker_pids(srv.proc.pid))
        outputs: list[str] = []
        stop = threading.Event()

        def load() -> None:
            while not stop.is_set():
                outputs.append(subprocess.run(
                    ["h2load", "-D", "1", "-c", "4", "-m", "16", srv.url("/text")],
                    capture_output=True, text=True, timeout=60).stdout)

        loader = threading.Thread(target=load)
        loader.start()
        try:
            for _ in range(2):
                runs = len(outputs)
                wait_until(lambda: len(outputs) > runs, timeout=60, message="an h2load run")
                before = set(worker_pids(srv.proc.pid))
                srv.proc.signal(signal.SIGHUP)
                wait_until(lambda: len(set(worker_pids(srv.proc.pid)) & before) == 0
                           and len(worker_pids(srv.proc.pid)) == 2, timeout=60,
                           message="HUP replaced both workers")
            runs = len(outputs)
            wait_until(lambda: len(outputs) > runs + 1, timeout=60, message="h2load after the reloads")
        finally:
            stop.set()
            loader.join(timeout=120)
        last = set(worker_pids(srv.proc.pid))
        total = 0
        for out in outputs:
            counts = h2load_counts(out)
            assert counts["failed"] == 0 and counts["errored"] == 0, out
            total += counts["succeeded"]
        assert total > 1000
        served_by = {line.split()[0].strip("<>") for line in srv.proc.stdout_text().splitlines()
                     if line.endswith(" 200")}
        assert {str(p) for p in first} & served_by and {str(p) for p in last} & served_by


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
