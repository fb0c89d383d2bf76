"""The scenarios, and running one scenario against one server.

Each (scenario, server) pair starts the server fresh on a new port, waits
for its first 200 (that time feeds the start-up table), checks the app
answers correctly, warms up, measures, reads the workers' RSS, and stops
the server whatever happened.
"""

from __future__ import annotations

import errno
import os
import selectors
import signal
import socket
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from . import procs, wrk
from .fmt import fmt_us
from .servers import BIG_SIZE, HELLO_BODY, WORKERS, Context, Server

POST_SIZE = 1024 * 1024


@dataclass
class Scenario:
    id: str
    title: str
    app: str = "hello"
    connections: int = 64
    headers: Sequence[str] = ()
    kind: str = "throughput"  # throughput | slowloris | reload | scale | kill9 | rss |
    #                           statsd | autoscale | ws-echo | h2 (h2load instead of wrk)
    tls: bool = False  # https, servers with Server.tls only


SCENARIOS = [
    Scenario("hello-keepalive", "Hello world, keep-alive, 64 connections"),
    Scenario("hello-close", "Hello world, `Connection: close`, 64 connections",
             headers=("Connection: close",)),
    Scenario("big-64k", "64 KiB response, keep-alive, 64 connections", app="big"),
    Scenario("post-1m", "1 MiB POST echoed back, keep-alive, 64 connections", app="echo"),
    Scenario("flask", "Flask hello page (examples/flask_app `/hello`), keep-alive, "
             "64 connections", app="flask"),
    Scenario("sleep-10ms", "App sleeps 10 ms, keep-alive, 256 connections", app="sleep",
             connections=256),
    Scenario("slowloris", "Hello world with 1,000 idle half-open connections held (slowloris)",
             kind="slowloris"),
    Scenario("reload", "Requests failed during a reload under load (greenfork: `gctl reload`, "
             "others: SIGHUP)", kind="reload"),
    Scenario("scale", "Requests failed while scaling 2 → 3 → 2 workers under load "
             "(greenfork: `gctl scale +1/-1`, Gunicorn: TTIN/TTOU)", kind="scale"),
    Scenario("kill9", "Requests failed when one worker is killed with SIGKILL under load",
             kind="kill9"),
    Scenario("rss", "RSS of a worker after {rss_requests:,} hello requests", kind="rss"),
    Scenario("statsd", "Hello world, keep-alive, 64 connections, `--statsd-host` on vs off "
             "(rounds alternating; issue 11)", kind="statsd"),
    Scenario("autoscale", "A step from idle to 32 connections on a 50 ms app, pools of 1 to 4 "
             "workers scaling themselves (issue 17)", app="sleep50", kind="autoscale"),
    Scenario("asgi-hello", "Raw ASGI hello world, keep-alive, 64 connections (ASGI servers)",
             app="asgi-hello"),
    Scenario("fastapi", "FastAPI JSON hello, keep-alive, 64 connections (ASGI servers)",
             app="fastapi"),
    Scenario("asgi-stream-1m", "1 MiB streamed response (16 ASGI body messages of 64 KiB), "
             "keep-alive, 64 connections (ASGI servers)", app="asgi-download"),
    Scenario("asgi-upload-1m", "1 MiB POST read by the app through `receive()`, keep-alive, "
             "64 connections (ASGI servers)", app="asgi-upload"),
    Scenario("ws-echo", "WebSocket echo of 32-byte text messages, 64 connections, 8 messages "
             "in flight on each (ASGI servers)", app="asgi-ws", kind="ws-echo"),
    Scenario("gevent-sleep-10ms", "App sleeps 10 ms on gevent green threads, keep-alive, "
             "256 connections (greenfork -k gevent vs gunicorn -k gevent)", app="gevent-sleep",
             connections=256),
    Scenario("eventlet-sleep-10ms", "App sleeps 10 ms on eventlet green threads, keep-alive, "
             "256 connections (greenfork -k eventlet vs gunicorn -k eventlet)",
             app="eventlet-sleep", connections=256),
    Scenario("tls-hello-keepalive", "Hello world over TLS (same certificate and ciphers), "
             "keep-alive, 64 connections", tls=True),
    Scenario("tls-handshakes", "New TLS connection per request (`Connection: close`: a TLS "
             "handshake each, wrk resuming its session where the server lets it), 64 connections",
             headers=("Connection: close",), tls=True),
    Scenario("tls-h2-hello", "Hello world over HTTP/2 (TLS, ALPN h2), h2load: 64 streams on "
             "4 connections", kind="h2", tls=True),
]
SCENARIO_IDS = [s.id for s in SCENARIOS] + ["startup"]


@dataclass
class Settings:
    duration: float = 5.0
    warmup: float = 1.0
    idle_connections: int = 1000
    rss_requests: int = 100_000
    rss_cap_seconds: float = 60.0
    repeat: int = 3                  # rounds of the statsd scenario
    step_seconds: float = 15.0       # the autoscale step
    idle_after_seconds: float = 20.0  # sampling after the step


@dataclass
class Row:
    server: str
    peer: bool
    result: Optional[wrk.WrkResult] = None
    rss_kib: Optional[float] = None
    note: str = ""
    extra: Dict[str, object] = field(default_factory=dict)


def _check_answer(port: int, path: str, app: str, tls: bool = False) -> Optional[str]:
    """None if the app answers as it should, else what was wrong."""
    try:
        if app in ("echo", "asgi-upload"):
            body = bytes(range(256)) * (POST_SIZE // 256)
            status, got = procs.http_get(port, path, timeout=10, method="POST", body=body)
            ok = status == 200 and got == (body if app == "echo" else str(POST_SIZE).encode())
        else:
            status, got = procs.http_get(port, path, timeout=10, tls=tls)
            want = {"hello": HELLO_BODY, "big": None, "sleep": b"slept\n",
                    "sleep50": b"slept\n", "gevent-sleep": b"slept\n",
                    "eventlet-sleep": b"slept\n"}.get(app)
            if app in ("hello", "flask", "asgi-hello"):  # the native hello: no trailing newline
                ok = status == 200 and got.strip() == HELLO_BODY.strip()
            elif app == "big":
                ok = status == 200 and len(got) == BIG_SIZE
            elif app == "asgi-download":
                ok = status == 200 and got == b"x" * POST_SIZE
            elif app == "asgi-ws":
                ok = status == 200 and got == b"ok\n"
            elif app == "fastapi":
                ok = status == 200 and got == b'{"message":"Hello, World!"}'
            elif want is not None:
                ok = status == 200 and got == want
            else:
                ok = status == 200 and len(got) > 0
        return None if ok else f"wrong answer: HTTP {status}, {len(got)} bytes"
    except Exception as exc:  # noqa: BLE001 - reported in the table
        return f"answer check failed: {type(exc).__name__}: {exc}"


def hold_idle(port: int, count: int, timeout: float = 10.0) -> Tuple[List[socket.socket], int]:
    """Opens `count` connections that send part of a request head and stall.

    Returns (sockets connected, how many could not connect in time)."""
    partial = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
    sel = selectors.DefaultSelector()
    pending: List[socket.socket] = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        err = s.connect_ex(("127.0.0.1", port))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            continue
        pending.append(s)
        sel.register(s, selectors.EVENT_WRITE)
    held: List[socket.socket] = []
    deadline = time.monotonic() + timeout
    while sel.get_map() and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            sel.unregister(s)
            if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
                try:
                    s.send(partial)
                    held.append(s)
                    continue
                except OSError:
                    pass
            s.close()
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    sel.close()
    return held, count - len(held)


def still_open(socks: List[socket.socket]) -> int:
    """How many of the idle connections the server has not closed."""
    n = 0
    for s in socks:
        try:
            data = s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            n += 1 if data else 0  # b"": the server closed it
        except BlockingIOError:
            n += 1
        except OSError:
            pass
    return n


def probe(port: int, path: str, timeout: float, tls: bool = False) -> str:
    """Time for a new connection to get its answer while wrk loads the server."""
    t0 = time.monotonic()
    try:
        status, _ = procs.http_get(port, path, timeout=timeout, tls=tls)
        took = (time.monotonic() - t0) * 1e6
        return f"probe {status} in {fmt_us(took)}"
    except Exception as exc:  # noqa: BLE001 - a probe that gets nothing says so
        return f"probe: no answer in {time.monotonic() - t0:.1f} s ({type(exc).__name__})"


def _rss_per_worker(proc: procs.Proc) -> Optional[float]:
    values = [v for v in (procs.rss_kib(p) for p in proc.workers()) if v is not None]
    return sum(values) / len(values) if values else None


def _settled_workers(proc: procs.Proc, timeout: float = 10.0) -> int:
    """The worker count once old workers have drained (or after timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(proc.workers()) != WORKERS:
        time.sleep(0.05)
    return len(proc.workers())


def applies(sc: Scenario, server: Server) -> bool:
    """Whether the scenario has a row for this server at all."""
    return server.supports(sc.app) and (sc.kind != "scale" or server.can_scale) and \
        (not sc.tls or server.tls) and (sc.kind != "statsd" or server.statsd) and \
        (sc.kind != "autoscale" or server.can_autoscale)


def run_one(ctx: Context, sc: Scenario, server: Server, st: Settings,
            startups: Dict[str, List[float]]) -> Row:
    row = Row(server=server.name if sc.app != "flask" else f"{server.name} (Flask)",
              peer=server.peer)
    why = server.unavailable(ctx) or server.app_missing(ctx, sc.app)
    if why:
        row.note = f"not available: {why}"
        return row
    if sc.kind in ("statsd", "autoscale"):  # servers started their own way, in their modules
        from . import autoscale, statsd
        try:
            (statsd if sc.kind == "statsd" else autoscale).run_row(ctx, sc, server, st,
                                                                    startups, row)
        except KeyboardInterrupt:
            raise
        except Exception as exc:  # noqa: BLE001 - one failure is one table cell
            row.note += f"failed: {exc}"
        return row
    port = procs.free_port()
    path = server.path(sc.app)
    url = f"{'https' if sc.tls else 'http'}://127.0.0.1:{port}{path}"
    proc = None
    try:
        if sc.kind == "h2":
            proc = server.start(ctx, sc.app, port, tls=True, h2=True)
        elif sc.tls:
            proc = server.start(ctx, sc.app, port, tls=True)
        else:
            proc = server.start(ctx, sc.app, port)
        startups.setdefault(server.name, []).append(
            procs.wait_first_200(proc, port, path, 60, tls=sc.tls))
        if not procs.wait_workers(proc, WORKERS, 15):
            row.note = f"only {len(proc.workers())} worker processes; "
        bad = _check_answer(port, path, sc.app, sc.tls)
        if bad:
            row.note += f"not available: {bad}"
            return row
        script = wrk.post_script(ctx.tmpdir, POST_SIZE) if sc.app in ("echo", "asgi-upload") \
            else None
        if st.warmup > 0 and sc.kind in ("throughput", "slowloris"):
            wrk.run(url, sc.connections, st.warmup, sc.headers, script)
        _measure(ctx, sc, server, st, proc, port, url, script, row)
        if row.rss_kib is None:
            row.rss_kib = _rss_per_worker(proc)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - one failure is one table cell
        row.note += f"failed: {exc}"
    finally:
        if proc is not None:
            proc.stop()
    return row


def _measure(ctx: Context, sc: Scenario, server: Server, st: Settings, proc: procs.Proc,
             port: int, url: str, script, row: Row) -> None:
    if sc.kind == "throughput":
        path = url.split(str(port), 1)[1]
        row.result = wrk.run(url, sc.connections, st.duration, sc.headers, script,
                             during=lambda: probe(port, path, st.duration * 0.5 + 2.0, sc.tls)
                             if sc.app not in ("echo", "asgi-upload") else None)
    elif sc.kind == "h2":
        from . import h2load
        row.result = h2load.run(url, st.duration, st.warmup)
    elif sc.kind == "slowloris":
        base = wrk.run(url, sc.connections, st.duration)
        held, failed = hold_idle(port, st.idle_connections)
        try:
            row.result = wrk.run(url, sc.connections, st.duration)
            row.extra.update(base_rps=base.rps, held=len(held), not_connected=failed,
                             open_after=still_open(held))
        finally:
            for s in held:
                s.close()
    elif sc.kind == "reload":
        duration = max(st.duration, 4.0)
        row.result = wrk.run(url, sc.connections, duration,
                             during=lambda: server.reload(ctx, proc), during_at=0.25)
        row.extra["workers_after"] = _settled_workers(proc)
    elif sc.kind == "scale":
        duration = max(st.duration, 4.0)

        def scale_up_down() -> str:
            notes = []
            for delta, want in ((+1, WORKERS + 1), (-1, WORKERS)):
                t0 = time.monotonic()
                notes.append(server.scale(ctx, proc, delta))
                while time.monotonic() - t0 < duration * 0.3:
                    if len(proc.workers()) == want:
                        notes[-1] += f", {want} workers after {time.monotonic() - t0:.2f} s"
                        break
                    time.sleep(0.01)
                else:
                    notes[-1] += f", still {len(proc.workers())} workers"
            return "; ".join(notes)
        row.result = wrk.run(url, sc.connections, duration, during=scale_up_down, during_at=0.2)
        row.extra["workers_after"] = _settled_workers(proc)
    elif sc.kind == "kill9":
        duration = max(st.duration, 3.0)

        def kill_one() -> str:
            victims = proc.workers()
            if not victims:
                return "no worker to kill"
            # Each keep-alive connection carries at most one request: the
            # ones the victim holds bound what its death may cost.
            row.extra["victim_connections"] = procs.established_connections(victims[0], port)
            os.kill(victims[0], signal.SIGKILL)
            t0 = time.monotonic()
            while time.monotonic() - t0 < duration * 0.45:
                now = proc.workers()
                if len(now) >= WORKERS and victims[0] not in now:
                    row.extra["respawned"] = f"{time.monotonic() - t0:.2f} s"
                    break
                time.sleep(0.01)
            return (f"killed worker pid {victims[0]}, which held "
                    f"{row.extra['victim_connections']} of the connections")
        row.result = wrk.run(url, sc.connections, duration, during=kill_one)
        if "respawned" not in row.extra:
            back = procs.wait_workers(proc, WORKERS, 10)
            row.extra["respawned"] = "later" if back else "no"
    elif sc.kind == "ws-echo":
        from . import wsload
        row.extra.update(wsload.measure(port, url.split(str(port), 1)[1], sc.connections,
                                        st.warmup, st.duration))
    elif sc.kind == "rss":
        row.result = wrk.run_until(url, sc.connections, st.rss_requests, st.rss_cap_seconds)
        values = [v for v in (procs.rss_kib(p) for p in proc.workers()) if v is not None]
        row.rss_kib = sum(values) / len(values) if values else None
        row.extra["rss_max_kib"] = max(values) if values else None
    else:
        raise ValueError(f"unknown scenario kind {sc.kind}")
