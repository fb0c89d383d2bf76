"""WebSockets of -k asgi apps as requests of the worker (through real
arbiterd + gworker, python3-websockets as the client): the access log's
line when a session ends (101, GET, the path, its duration), sessions
counting toward --max-requests, the websocket.http.response denial
extension and 403 for an app that closes before accepting."""
from __future__ import annotations

import asyncio
import http.client
import os
import re
import socket
import time

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

from asgi_support import serving
from gftest import wait_until, worker_pids

DEADLINE = 60  # seconds for a whole async test body (a loaded machine)
UPGRADE = (b"Upgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n")


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, DEADLINE))


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def test_sessions_are_access_logged_and_count_toward_max_requests(tmp_path):
    log = tmp_path / "access.log"
    fmt = "%(p)s %(s)s %(m)s %(U)s %(D)s"
    with serving("ws_apps:app", "--access-logfile", str(log), "--access-logformat", fmt,
                 "--max-requests", "4") as (base, arb):
        async def held():
            async with websockets.connect(ws_url(base, "/echo"), open_timeout=30) as ws:
                await ws.send("pid")
                pid = int(await ws.recv())
                await asyncio.sleep(0.6)  # the session's duration, for %(D)s
                return pid

        async def next_pid():
            # A session on the draining worker is closed with 1001 (or is
            # refused once it exits); try again until the new one answers.
            try:
                async with websockets.connect(ws_url(base, "/echo"), open_timeout=30) as ws:
                    await ws.send("pid")
                    return int(await ws.recv())
            except (ConnectionClosed, OSError, InvalidStatusCode):
                return None

        first = run(held())
        others = []
        for _ in range(10):
            pid = run(next_pid())
            others.append(pid)
            if pid is not None and pid != first:
                break
        assert others[-1] not in (None, first), f"the worker was not replaced: {others}"
        wait_until(lambda: not pid_alive(first), timeout=30, message="the first worker to exit")
        lines = [l.split() for l in log.read_text().splitlines()]
        mine = [l for l in lines if l[0] == f"<{first}>"]
        # Every request the first worker admitted (the readiness probe's GETs
        # and the sessions) has its line: exactly --max-requests of them.
        assert len(mine) == 4, lines
        sessions = [l for l in mine if l[1:4] == ["101", "GET", "/echo"]]
        assert sessions, mine
        assert int(sessions[0][4]) >= 500_000, sessions  # microseconds: the whole session
        assert all(l[1] in ("101", "200") for l in mine), mine
