"""WebSockets of -k asgi apps as requests of the worker (through real
arbiterd + gworker, python3-websockets as the client): the access log's
line when a session ends (101, GET, the path, its duration), sessions
counting toward --max-requests, the websocket.http.response denial
extension and 403 for an app that closes before accepting."""
from __future__ import annotations

import asyncio
import http.client
import json
import os
import socket

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


def http_get(port: int, path: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().read().decode()
    finally:
        conn.close()


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


@pytest.fixture(scope="module")
def denial():
    with serving("ws_denial_apps:app") as (base, arb):
        yield base, arb.port


def raw_upgrade(port: int, path: str) -> bytes:
    """Everything the server sends for an upgrade request, until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + UPGRADE + b"\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
        return data


def test_denial_response_reaches_the_client(denial):
    base, port = denial
    data = raw_upgrade(port, "/deny")
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.1 401 Unauthorized", data
    assert b"www-authenticate: Bearer" in lines and b"content-type: text/plain" in lines
    assert b"Content-Length: 8" in lines and b"Connection: close" in lines
    assert body == b"no entry"  # both body messages, then the close
    # http.client sees the same response.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request("GET", "/deny", headers=dict(l.split(": ", 1) for l in
                                              UPGRADE.decode().strip().split("\r\n")))
    r = conn.getresponse()
    assert (r.status, r.getheader("www-authenticate"), r.read()) == (401, "Bearer", b"no entry")
    conn.close()
    # After its answer, the app's receive() says the client is gone.
    wait_until(lambda: ["/deny", "websocket.disconnect"] in
               json.loads(http_get(port, "/events")), timeout=15,
               message="the app's websocket.disconnect after its denial")


def test_denial_and_refusal_seen_by_a_websocket_client(denial):
    base, port = denial

    async def body():
        with pytest.raises(InvalidStatusCode) as denied:
            await websockets.connect(ws_url(base, "/deny"), open_timeout=20)
        assert denied.value.status_code == 401
        assert denied.value.headers["www-authenticate"] == "Bearer"
        with pytest.raises(InvalidStatusCode) as empty:
            await websockets.connect(ws_url(base, "/deny-empty"), open_timeout=20)
        assert empty.value.status_code == 404
        with pytest.raises(InvalidStatusCode) as refused:  # websocket.close first: 403
            await websockets.connect(ws_url(base, "/close-first"), open_timeout=20)
        assert refused.value.status_code == 403
        with pytest.raises(InvalidStatusCode) as broken:  # accept after a denial start
            await websockets.connect(ws_url(base, "/deny-then-accept"), open_timeout=20)
        assert broken.value.status_code == 500
        async with websockets.connect(ws_url(base, "/open"), open_timeout=20) as ws:
            assert ws.open  # the same worker still accepts
    run(body())
    data = raw_upgrade(port, "/close-first")
    assert data.startswith(b"HTTP/1.1 403 "), data
    data = raw_upgrade(port, "/deny-empty")
    assert data.startswith(b"HTTP/1.1 404 ") and b"\r\nContent-Length: 0\r\n" in data, data
    assert data.endswith(b"\r\n\r\n"), data
