"""WebSockets under load through real arbiterd + gworker -k asgi, with
python3-websockets as the client: 1,000 concurrent sessions on one worker,
a rolling reload (HUP) while sessions echo, and kill -9 of one worker while
sessions on both echo: each worker loses only its own connections."""
from __future__ import annotations

import asyncio
import os
import resource
import signal

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from asgi_support import serving
from gftest import wait_until, worker_pids


def run(coro, deadline: float):
    return asyncio.run(asyncio.wait_for(coro, deadline))


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path


@pytest.fixture
def many_files():
    """2,000+ sessions' worth of descriptors for this process and the
    arbiterd (and gworker) it starts, which inherit the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096 if hard == resource.RLIM_INFINITY else min(4096, hard)
    if want < 2600:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is below what 1,000 sessions need")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


async def open_echo(base: str):
    ws = await websockets.connect(ws_url(base, "/echo"), ping_interval=None, open_timeout=60,
                                  compression=None)
    await ws.send("pid")
    return ws, int(await ws.recv())


def test_1000_concurrent_websockets_on_one_worker(many_files):
    with serving("ws_apps:app", "--worker-connections", "1100") as (base, arb):
        async def body():
            conns = []
            for _ in range(10):  # in bursts of 100: the listen backlog is finite
                conns += await asyncio.gather(*(open_echo(base) for _ in range(100)))
            assert len(conns) == 1000 and len({pid for _, pid in conns}) == 1
            # All 1,000 open at once, and each still echoes.
            for round_ in range(2):
                await asyncio.gather(*(ws.send(f"{i}-{round_}") for i, (ws, _) in enumerate(conns)))
                got = await asyncio.gather(*(ws.recv() for ws, _ in conns))
                assert got == [f"{i}-{round_}" for i in range(1000)]
            await asyncio.gather(*(ws.close() for ws, _ in conns))
            return [ws.close_code for ws, _ in conns]
        codes = run(body(), 240)
        assert set(codes) == {1000}


async def echo_loop(ws, stop: asyncio.Event) -> int:
    """Echoes until `stop` or the connection closes; the number of echoes."""
    n = 0
    while not stop.is_set():
        await ws.send(f"m{n}")
        assert await asyncio.wait_for(ws.recv(), 30) == f"m{n}"
        n += 1
        await asyncio.sleep(0.01)
    return n


def test_kill_9_under_load_loses_only_the_killed_workers_sessions():
    with serving("ws_apps:app", workers=2) as (base, arb):
        wait_until(lambda: len(worker_pids(arb.pid)) == 2, timeout=30, message="2 workers")

        async def body():
            conns = []
            for _ in range(10):  # bursts reach both workers
                conns += await asyncio.gather(*(open_echo(base) for _ in range(20)))
                if len({p for _, p in conns}) == 2:
                    break
            pids = {p for _, p in conns}
            assert len(pids) == 2, "the sessions did not reach both workers"
            victim = min(pids)
            stop = asyncio.Event()
            loops = [asyncio.create_task(echo_loop(ws, stop)) for ws, _ in conns]
            await asyncio.sleep(0.5)  # every session echoing
            os.kill(victim, signal.SIGKILL)
            await asyncio.sleep(1.5)  # the survivors keep echoing meanwhile
            stop.set()
            results = await asyncio.gather(*loops, return_exceptions=True)
            for (ws, pid), result in zip(conns, results):
                if pid == victim:
                    assert isinstance(result, ConnectionClosed), result
                    assert ws.close_code == 1006
                else:
                    assert isinstance(result, int) and result > 20, result
                    await ws.close()
                    assert ws.close_code == 1000
            # arbiterd replaced the victim: new sessions are served.
            ws, pid = await open_echo(base)
            await ws.close()
            return victim
        victim = run(body(), 120)
        wait_until(lambda: len(worker_pids(arb.pid)) == 2 and victim not in worker_pids(arb.pid),
                   timeout=30, message="the killed worker replaced")


def test_reload_under_load_closes_old_sessions_with_1001_and_serves_new_ones():
    with serving("ws_apps:app", "--graceful-timeout", "20", workers=2) as (base, arb):
        wait_until(lambda: len(worker_pids(arb.pid)) == 2, timeout=30, message="2 workers")
        old_pids = set(worker_pids(arb.pid))

        async def body():
            conns = await asyncio.gather(*(open_echo(base) for _ in range(40)))
            stop = asyncio.Event()
            loops = [asyncio.create_task(echo_loop(ws, stop)) for ws, _ in conns]
            await asyncio.sleep(0.3)
            arb.signal(signal.SIGHUP)  # rolling reload
            # New sessions keep being accepted while the workers roll. One
            # that an old worker accepted just before its TERM is ended by
            # the graceful stop like the others: 1001, going away (RFC 6455
            # 7.4.1), the client's cue to reconnect. Anything else (a
            # refused or reset connection, a failed handshake, 1006) fails.
            fresh, failures, went_away = [], [], 0
            loop = asyncio.get_running_loop()
            until = loop.time() + 60
            while loop.time() < until:
                try:
                    ws = await websockets.connect(ws_url(base, "/echo"), ping_interval=None,
                                                  open_timeout=60, compression=None)
                except (OSError, websockets.exceptions.InvalidHandshake) as e:
                    failures.append(repr(e))
                else:
                    try:
                        await ws.send("pid")
                        fresh.append(int(await ws.recv()))
                        await ws.close()
                    except ConnectionClosed as e:
                        if ws.close_code == 1001 and int(ws.response_headers["x-pid"]) in old_pids:
                            went_away += 1
                        else:
                            failures.append(repr(e))
                if not (set(worker_pids(arb.pid)) & old_pids) and all(t.done() for t in loops):
                    break
                await asyncio.sleep(0.05)
            stop.set()
            results = await asyncio.gather(*loops, return_exceptions=True)
            return conns, results, fresh, failures, went_away
        conns, results, fresh, failures, went_away = run(body(), 120)
        assert not (set(worker_pids(arb.pid)) & old_pids), "the old workers did not go"
        # Every old session was ended by its worker's graceful stop with 1001
        # (going away), none dropped.
        for (ws, _), result in zip(conns, results):
            assert isinstance(result, ConnectionClosed), result
            assert ws.close_code == 1001, (ws.close_code, result)
        assert failures == [], failures
        assert fresh and set(fresh) - old_pids, "no session reached a new worker"
        assert went_away <= 2, f"{went_away} fresh sessions went away: more than one a worker"
