"""-k aiohttp and -k tornado (worker/frameworks/): the framework's own HTTP
server on gworker's sockets, with gworker's worker contract around it."""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from fw_support import (FLAVOUR_IDS, FLAVOURS, arbiter, gworker, run_gworker_to_exit)
from gftest import RequestLoop, http_get, http_request, wait_until, worker_pids

UA = {"User-Agent": "fw-test/1.0", "Referer": "http://ref.example/"}
# Gunicorn's default access log format.
LINE = re.compile(r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
                  r'"(?P<r>[^"]*)" (?P<s>\d{3}) (?P<b>\d+|-) "http://ref\.example/" "fw-test/1\.0"$')


def access_lines(path) -> list[re.Match]:
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [m for m in (LINE.match(line.rstrip("\n")) for line in f) if m]


@pytest.mark.parametrize("worker_class,spec", FLAVOURS, ids=FLAVOUR_IDS)
def test_serves_routes_json_bodies_and_streams_with_access_log(tmp_path, worker_class, spec):
    log = tmp_path / "access.log"
    with arbiter(worker_class, spec, "--access-logfile", str(log)) as (arb, port, _):
        r = http_get(port, "/", headers=UA)
        assert r.status == 200 and r.body.startswith(b"hello from"), r
        r = http_request(port, "/json", "POST", body=json.dumps({"a": [1, 2], "b": "é"}).encode(),
                         headers=dict(UA, **{"Content-Type": "application/json"}))
        assert r.status == 200, r
        assert json.loads(r.body)["got"] == {"a": [1, 2], "b": "é"}
        blob = os.urandom(512 * 1024)  # aiohttp's client_max_size is 1 MiB by default
        r = http_request(port, "/upload", "POST", body=blob, headers=UA, timeout=30)
        assert json.loads(r.body) == {"size": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}
        r = http_get(port, "/stream", headers=UA)
        assert r.body == b"".join(f"chunk {i}\n".encode() for i in range(5)), r
        if not spec.endswith("wsgi_app"):  # WSGIContainer buffers the whole body
            assert r.header("Transfer-Encoding") == "chunked", r.headers
        assert http_get(port, "/nothing-here", headers=UA).status == 404

        def logged():
            return {(m["r"], m["s"]) for m in access_lines(log)} >= {
                ("GET / HTTP/1.1", "200"), ("POST /json HTTP/1.1", "200"),
                ("POST /upload HTTP/1.1", "200"), ("GET /stream HTTP/1.1", "200"),
                ("GET /nothing-here HTTP/1.1", "404")}
        wait_until(logged, timeout=15, message="the access log lines")
        upload = [m for m in access_lines(log) if m["r"].startswith("POST /upload")][0]
        assert int(upload["b"]) > 0


@pytest.mark.parametrize("worker_class,spec", FLAVOURS, ids=FLAVOUR_IDS)
def test_ready_only_once_serving_then_beats_with_counters(worker_class, spec):
    env = {"FW_STARTUP_DELAY": "1.5", "ARBITER_HEARTBEAT_INTERVAL": "0.2"}
    started = time.monotonic()
    with gworker(worker_class, spec, extra_env=env) as (proc, port, notify, _):
        # READY=1 came first: the socket is served at once.
        assert http_get(port, "/", timeout=5).status == 200
        if worker_class == "aiohttp":  # on_startup ran (1.5 s) before READY
            ready_at = [t for t, f in notify.drain() if f.get("READY") == "1"][0]
            assert ready_at - started >= 1.5
        for _ in range(3):
            http_get(port, "/")
        wait_until(lambda: any(int(f.get("X_REQUESTS_SERVED", 0)) >= 4 for _, f in notify.beats()),
                   timeout=10, message="a beat counting 4 requests")
        assert any(f.get("X_REQUESTS_BY_CLASS", "").startswith("0,4,") for _, f in notify.beats())


@pytest.mark.parametrize("worker_class,spec", FLAVOURS[:2], ids=FLAVOUR_IDS[:2])
def test_beats_follow_the_event_loop(worker_class, spec):
    env = {"ARBITER_HEARTBEAT_INTERVAL": "0.2"}
    with gworker(worker_class, spec, extra_env=env) as (proc, port, notify, _):
        # A request awaiting on a live loop: beats go on, its age grows.
        slow = threading.Thread(target=http_get, args=(port, "/slow?s=2.5"), kwargs={"timeout": 30})
        slow.start()
        wait_until(lambda: any(float(f.get("X_OLDEST_REQUEST_AGE", 0)) >= 1.0
                               and f.get("X_REQUESTS_IN_FLIGHT") == "1" for _, f in notify.beats()),
                   timeout=15, message="a beat with a 1 s old request in flight")
        slow.join(30)
        # A handler blocking the loop: no beat until it lets go.
        before = len(notify.beats())
        blocked_at = time.monotonic()
        assert http_get(port, "/block?s=2", timeout=30).body == b"unblocked"
        wait_until(lambda: len(notify.beats()) > before + 2, timeout=10, message="beats again")
        times = [t for t, _ in notify.beats()]
        gaps = [b - a for a, b in zip(times, times[1:]) if b > blocked_at]
        assert max(gaps) >= 1.5, gaps


@pytest.mark.parametrize("worker_class,spec", FLAVOURS, ids=FLAVOUR_IDS)
def test_term_finishes_the_request_in_flight_and_exits_0(worker_class, spec):
    with gworker(worker_class, spec, "--graceful-timeout", "20") as (proc, port, notify, d):
        result = {}

        def slow():
            result["r"] = http_get(port, "/slow?s=2&id=slow1", timeout=30)
        t = threading.Thread(target=slow)
        t.start()
        wait_until(lambda: os.path.exists(os.path.join(d, "slow1")), timeout=15,
                   message="the slow request to start")
        term_at = time.monotonic()
        proc.signal(signal.SIGTERM)

        def refused():
            in_flight = t.is_alive()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
            except ConnectionRefusedError:
                return "while draining" if in_flight else "after"
            return False
        # Alone (-b), the worker's socket closes: new connections are
        # refused while the slow request is still being served (a WSGI app
        # blocks Tornado's loop, so there the TERM is seen after it).
        when = wait_until(refused, timeout=20, message="new connections refused")
        if not spec.endswith("wsgi_app"):
            assert when == "while draining"
        code = proc.wait(timeout=30)
        t.join(30)
        assert code == 0, proc.output()
        assert result["r"].status == 200 and result["r"].body == b"slow done", result
        assert time.monotonic() - term_at < 15
        assert notify.has("STOPPING", "1")
        assert "Worker stopping (TERM)" in proc.output()


@pytest.mark.parametrize("worker_class,spec", FLAVOURS, ids=FLAVOUR_IDS)
def test_reload_under_load_fails_no_request(worker_class, spec):
    """Rolling reloads (HUP) under load from clients on fresh connections
    and on keep-alive ones: a stopping worker finishes what it has (also a
    connection it accepted in the moment it stopped accepting), says
    Connection: close, and closes no connection under a request."""
    with arbiter(worker_class, spec, "--keep-alive", "5", workers=2) as (arb, port, _):
        wait_until(lambda: len(worker_pids(arb.pid)) == 2, timeout=30)
        loops = [RequestLoop(port, "/", max_seconds=120, keep_alive=ka)
                 for ka in (False, False, False, True, True)]
        for loop in loops:
            loop.__enter__()
        try:
            wait_until(lambda: all(loop.ok >= 20 for loop in loops), timeout=30,
                       message="load running")
            for _ in range(6):
                old = set(worker_pids(arb.pid))
                arb.signal(signal.SIGHUP)
                wait_until(lambda: not (set(worker_pids(arb.pid)) & old)
                           and len(worker_pids(arb.pid)) == 2, timeout=60,
                           message="both workers replaced")
            oks = [loop.ok for loop in loops]
            wait_until(lambda: all(loop.ok >= ok + 20 for loop, ok in zip(loops, oks)),
                       timeout=30, message="load after the reloads")
        finally:
            for loop in loops:
                loop.stop()
        assert [loop.failures for loop in loops] == [[]] * len(loops), \
            [loop.failures[:3] for loop in loops]


@pytest.mark.parametrize("worker_class,spec", FLAVOURS[:2], ids=FLAVOUR_IDS[:2])
def test_the_shared_listen_backlog_stays_arbiterds(worker_class, spec):
    """The listening socket is shared with arbiterd and every worker: the
    framework's server must not listen() it again with its own backlog
    (aiohttp's is 128), which would shrink the accept queue for all."""
    with arbiter(worker_class, spec, "--backlog", "1000", workers=2) as (arb, port, _):
        wait_until(lambda: len(worker_pids(arb.pid)) == 2, timeout=30)
        out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True,
                             text=True, check=True).stdout.split()
        assert out[0] == "LISTEN" and out[2] == "1000", out


@pytest.mark.parametrize("worker_class,spec", FLAVOURS, ids=FLAVOUR_IDS)
def test_max_requests_restarts_the_worker(worker_class, spec):
    with arbiter(worker_class, spec, "--max-requests", "5", "--max-requests-jitter", "2",
                 workers=1) as (arb, port, _):
        pids = []
        for _ in range(30):
            r = http_get(port, "/pid", timeout=30)
            assert r.status == 200, r
            pids.append(int(r.body))
        # 5..7 requests each (the first worker also answered the readiness probe).
        assert len(set(pids)) >= 4, pids
        assert "Autorestarting worker after current request" in arb.output()


@pytest.mark.parametrize("worker_class,spec,why", [
    ("aiohttp", "aio_app:not_an_app", "aio_app:not_an_app is int, not an aiohttp.web.Application"),
    ("aiohttp", "aio_app:returns_wrong", "aio_app:returns_wrong returned str, not an aiohttp.web.Application"),
    ("aiohttp", "aio_app:make_failing_app", "startup failed: RuntimeError: database unreachable"),
    ("aiohttp", "no_such_module:app", "Failed to import 'no_such_module'"),
    ("aiohttp", "aio_app:missing", "Failed to find attribute 'missing' in 'aio_app'"),
    ("tornado", "tornado_app:not_an_app", "tornado_app:not_an_app is int, not a tornado.web.Application"),
    ("tornado", "tornado_app:make_app(", "bad app spec"),
], ids=["not-an-app", "factory-returns-str", "startup-fails", "no-module", "no-attribute",
        "tornado-not-an-app", "bad-spec"])
def test_bad_app_exits_4_with_the_reason(worker_class, spec, why):
    code, output, statuses = run_gworker_to_exit(worker_class, spec)
    assert code == 4, output
    assert any(why in s for s in statuses), (statuses, output)


def test_arbiterd_stops_on_a_bad_app_with_its_message():
    from fw_support import APPS, short_dir
    from gftest import Spawned, binary, free_port
    with short_dir() as d, Spawned([binary("arbiterd"), "--control-socket", f"{d}/ctl.sock",
                                    "-w", "2", "-k", "gaiohttp", "-b", f"127.0.0.1:{free_port()}",
                                    "--chdir", str(APPS), "aio_app:not_an_app"]) as arb:
        code = arb.wait(timeout=60)
        assert code != 0
        assert "not an aiohttp.web.Application" in arb.output()


@pytest.mark.parametrize("worker_class,spec", [
    ("gaiohttp", "aio_app:make_app"),
    ("aiohttp.GunicornWebWorker", "aio_app:make_app_async"),
    ("aiohttp.worker.GunicornWebWorker", "aio_app:application"),
    ("gunicorn.workers.gtornado.TornadoWorker", "tornado_app:make_app()"),
    ("tornado", "tornado_app:make_app"),  # a factory: it takes no arguments, a WSGI app two
])
def test_gunicorn_class_names_and_factories(worker_class, spec):
    with gworker(worker_class, spec) as (proc, port, notify, _):
        assert http_get(port, "/").body.startswith(b"hello from")


@pytest.mark.parametrize("worker_class,spec", FLAVOURS[:2], ids=FLAVOUR_IDS[:2])
def test_usr1_reopens_the_access_log(tmp_path, worker_class, spec):
    log = tmp_path / "access.log"
    with gworker(worker_class, spec, "--access-logfile", str(log)) as (proc, port, _, _d):
        http_get(port, "/", headers=UA)
        wait_until(lambda: access_lines(log), timeout=10, message="the first line")
        os.rename(log, tmp_path / "access.log.1")
        proc.signal(signal.SIGUSR1)
        wait_until(lambda: log.exists(), timeout=10, message="the reopened log")
        http_get(port, "/pid", headers=UA)
        wait_until(lambda: [m for m in access_lines(log) if m["r"] == "GET /pid HTTP/1.1"],
                   timeout=10, message="the line in the new file")
        assert len(access_lines(tmp_path / "access.log.1")) == 1


@pytest.mark.parametrize("worker_class,spec", FLAVOURS, ids=FLAVOUR_IDS)
def test_app_errors_reach_the_error_log_in_its_format(worker_class, spec):
    with gworker(worker_class, spec) as (proc, port, _, _d):
        if spec.endswith("wsgi_app"):
            # Tornado 6.2's WSGIContainer lets the exception end the
            # connection without a response (Tornado's behaviour).
            with pytest.raises(http.client.RemoteDisconnected):
                http_get(port, "/boom")
        else:
            assert http_get(port, "/boom").status == 500
        error_line = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] "
                                rf"\[{proc.pid}\] \[ERROR\] ", re.M)
        wait_until(lambda: error_line.search(proc.stderr_text())
                   and "ZeroDivisionError" in proc.stderr_text(), timeout=10,
                   message="the app's exception in the error log")


def test_engine_only_options_are_refused_not_ignored():
    code, output, statuses = run_gworker_to_exit("aiohttp", "aio_app:application",
                                                 "--proxy-protocol", "v1")
    assert code == 2, output
    assert any("--proxy-protocol is not supported" in s for s in statuses), statuses


@pytest.mark.parametrize("worker_class,spec", FLAVOURS[:2], ids=FLAVOUR_IDS[:2])
def test_reload_restarts_the_worker_when_a_watched_file_changes(tmp_path, worker_class, spec):
    marker = tmp_path / "settings.ini"
    marker.write_text("v1\n")
    with arbiter(worker_class, spec, "--reload", "--reload-extra-file", str(marker),
                 workers=1) as (arb, port, _):
        first = int(http_get(port, "/pid", timeout=30).body)
        wait_until(lambda: "Booted gworker" in arb.output(), timeout=30, message="boot line")
        before = marker.stat().st_mtime_ns
        marker.write_text("v2\n")
        os.utime(marker, ns=(before + 2_000_000_000, before + 2_000_000_000))

        def replaced():
            try:
                return int(http_get(port, "/pid", timeout=5).body) != first
            except OSError:
                return False
        wait_until(replaced, timeout=60, message="a fresh worker after the change")
        assert "settings.ini changed, reloading" in arb.output(), arb.output()


@pytest.mark.parametrize("worker_class,spec", FLAVOURS[:2], ids=FLAVOUR_IDS[:2])
def test_a_blocked_loop_gets_the_worker_replaced_on_timeout(worker_class, spec):
    with arbiter(worker_class, spec, "--timeout", "2", workers=1) as (arb, port, _):
        old = int(http_get(port, "/pid").body)

        def blocked():
            try:
                http_get(port, "/block?s=30", timeout=60)
            except OSError:
                pass  # the worker is killed under it
        threading.Thread(target=blocked, daemon=True).start()
        wait_until(lambda: f"WORKER TIMEOUT (pid:{old})" in arb.output(), timeout=30,
                   message="arbiterd to time the blocked worker out")
        wait_until(lambda: int(http_get(port, "/pid", timeout=5).body) != old, timeout=30,
                   message="a new worker serving")


@pytest.mark.parametrize("worker_class,spec", FLAVOURS[:2], ids=FLAVOUR_IDS[:2])
def test_quit_exits_at_once_even_with_a_request_in_flight(worker_class, spec):
    with gworker(worker_class, spec, "--graceful-timeout", "30") as (proc, port, _, d):
        t = threading.Thread(target=lambda: pytest.raises(OSError, http_get, port,
                                                          "/slow?s=20&id=q", timeout=30))
        t.start()
        wait_until(lambda: os.path.exists(os.path.join(d, "q")), timeout=15,
                   message="the slow request to start")
        quit_at = time.monotonic()
        proc.signal(signal.SIGQUIT)
        assert proc.wait(timeout=10) == 0, proc.output()
        assert time.monotonic() - quit_at < 5
        t.join(30)
