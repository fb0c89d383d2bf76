"""WebSockets of -k asgi apps through real arbiterd + gworker, with
python3-websockets (10.x, asyncio API) as the client: echo of text, binary,
fragmented and 1 MiB messages, subprotocols and extra headers, the scope,
close codes both ways, 1009, 403/500 before accept and 1011 after, ping,
a Starlette endpoint, 200 concurrent connections, and a killed worker."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

from asgi_support import serving
from gftest import wait_until, worker_pids

DEADLINE = 60  # seconds for a whole async test body (a loaded machine)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, DEADLINE))


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path


@pytest.fixture(scope="module")
def echo():
    with serving("ws_apps:app", "--ws-max-size", "2000000") as (base, arb):
        yield base


def test_echo_text_binary_fragmented_large(echo):
    async def body():
        async with websockets.connect(ws_url(echo, "/echo"), max_size=None) as ws:
            # permessage-deflate was offered (websockets does) and agreed
            assert "permessage-deflate" in ws.response_headers["sec-websocket-extensions"]
            await ws.send("héllo")
            assert await ws.recv() == "héllo"
            await ws.send(b"\x00\x01\xff")
            assert await ws.recv() == b"\x00\x01\xff"
            await ws.send(["frag", "men", "ted"])  # one message in three frames
            assert await ws.recv() == "fragmented"
            big = os.urandom(1 << 20)
            await ws.send(big)
            assert await ws.recv() == big
            for i in range(50):  # many small ones, in order
                await ws.send(str(i))
            assert [await ws.recv() for _ in range(50)] == [str(i) for i in range(50)]
    run(body())


def test_without_compression(echo):
    async def body():
        async with websockets.connect(ws_url(echo, "/echo"), compression=None,
                                      max_size=None) as ws:
            assert "sec-websocket-extensions" not in ws.response_headers
            big = b"x" * (1 << 20)
            await ws.send(big)
            assert await ws.recv() == big
    run(body())


def test_subprotocol_headers_and_scope(echo):
    async def body():
        async with websockets.connect(ws_url(echo, "/scope?a=1&b=%20"),
                                      subprotocols=["x", "chat"]) as ws:
            assert ws.subprotocol == "chat"
            assert ws.response_headers["x-extra"] == "yes"
            scope = json.loads(await ws.recv())
        async with websockets.connect(ws_url(echo, "/echo")) as ws:
            assert ws.subprotocol is None
        return scope
    scope = run(body())
    assert scope["type"] == "websocket" and scope["scheme"] == "ws"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.1" and scope["path"] == "/scope"
    assert scope["raw_path"] == "/scope" and scope["query"] == "a=1&b=%20"
    assert scope["subprotocols"] == ["x", "chat"] and scope["root_path"] == ""
    assert scope["client"][0] == "127.0.0.1" and scope["server"][0] == "127.0.0.1"
    assert ["upgrade", "websocket"] in scope["headers"]
    assert scope["method"] is False and scope["state"] is True


def test_close_codes_both_ways(echo):
    async def body():
        async with websockets.connect(ws_url(echo, "/close")) as ws:
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert (ws.close_code, ws.close_reason) == (4001, "bye")
        async with websockets.connect(ws_url(echo, "/echo")) as ws:
            await ws.send("close-me")
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert (ws.close_code, ws.close_reason) == (4002, "as asked")
        ws = await websockets.connect(ws_url(echo, "/client-closes"))
        await ws.close(4003, "client bye")
    run(body())
    wait_until(lambda: {"path": "/client-closes", "code": 4003, "reason": "client bye"}
               in httpx.get(echo + "/events", timeout=5).json(),
               timeout=15, message="the app's websocket.disconnect with 4003")


def test_oversize_message_is_1009(echo):
    async def body():
        async with websockets.connect(ws_url(echo, "/echo"), compression=None,
                                      max_size=None) as ws:
            await ws.send(b"y" * 2_000_001)  # --ws-max-size 2000000
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            # 1009 as a rule; 1006 when gworker's close after the 1009
            # frame resets the connection while the client still writes
            # the rest of its message (the app's 1009 below is certain).
            assert ws.close_code in (1009, 1006)
    run(body())
    wait_until(lambda: any(e["path"] == "/echo" and e["code"] == 1009
                           for e in httpx.get(echo + "/events", timeout=5).json()),
               timeout=15, message="the app's websocket.disconnect with 1009")


def test_refused_and_failing_apps(echo):
    async def body():
        with pytest.raises(InvalidStatusCode) as refused:
            await websockets.connect(ws_url(echo, "/refuse"))
        assert refused.value.status_code == 403
        with pytest.raises(InvalidStatusCode) as failed:
            await websockets.connect(ws_url(echo, "/fail-before"))
        assert failed.value.status_code == 500
        async with websockets.connect(ws_url(echo, "/fail-after")) as ws:
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert ws.close_code == 1011
    run(body())
    # The worker keeps serving.
    assert httpx.get(echo + "/", timeout=5).status_code == 200


def test_bad_upgrade_requests(echo):
    headers = {"Upgrade": "websocket", "Connection": "Upgrade",
               "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
    r = httpx.get(echo + "/echo", headers={**headers, "Sec-WebSocket-Version": "8"}, timeout=5)
    assert r.status_code == 426 and r.headers["sec-websocket-version"] == "13"
    r = httpx.get(echo + "/echo", headers={**headers, "Sec-WebSocket-Key": "short",
                                          "Sec-WebSocket-Version": "13"}, timeout=5)
    assert r.status_code == 400


def test_ping_answered(echo):
    async def body():
        async with websockets.connect(ws_url(echo, "/echo"), ping_interval=None) as ws:
            for _ in range(3):
                pong = await ws.ping(b"are you there")
                await asyncio.wait_for(pong, 10)
    run(body())


def test_server_keepalive_ping_and_timeout():
    # --ws-ping-interval 0.3 --ws-ping-timeout 0.5, on a raw socket that
    # never answers: a ping frame comes, then a close frame with 1011.
    with serving("ws_apps:app", "--ws-ping-interval", "0.3", "--ws-ping-timeout", "0.5") as (base, arb):
        with socket.create_connection(("127.0.0.1", arb.port), timeout=20) as s:
            s.sendall(b"GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                      b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                      b"Sec-WebSocket-Version: 13\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(4096)
                assert chunk, "closed during the handshake"
                data += chunk
            head, data = data.split(b"\r\n\r\n", 1)
            assert head.startswith(b"HTTP/1.1 101")
            frames = []
            while not any(f[0] == 0x88 for f in frames):
                while len(data) < 2 or len(data) < 2 + (data[1] & 0x7F):
                    chunk = s.recv(4096)
                    assert chunk, f"closed without a close frame after {frames}"
                    data += chunk
                n = data[1] & 0x7F
                frames.append((data[0], data[2:2 + n]))
                data = data[2 + n:]
        assert frames[0][0] == 0x89  # FIN + ping
        assert frames[-1][0] == 0x88 and frames[-1][1][:2] == (1011).to_bytes(2, "big")


def test_starlette_websocket():
    with serving("ws_apps:starlette_app()", "--asgi-lifespan", "off") as (base, _):
        async def body():
            async with websockets.connect(ws_url(base, "/chat/lobby")) as ws:
                await ws.send("hi")
                assert json.loads(await ws.recv()) == {"echo": "hi", "room": "lobby"}
        run(body())


def test_200_concurrent_websockets_on_one_worker(echo):
    async def one(i):
        async with websockets.connect(ws_url(echo, "/echo"), open_timeout=30) as ws:
            await ws.send("pid")
            pid = await ws.recv()
            for j in range(5):
                await ws.send(f"{i}-{j}")
                assert await ws.recv() == f"{i}-{j}"
            return pid

    async def body():
        return await asyncio.gather(*(one(i) for i in range(200)))
    pids = run(body())
    assert len(pids) == 200 and len(set(pids)) == 1


def test_killed_worker_loses_only_its_connections():
    with serving("ws_apps:app", workers=2) as (base, arb):
        wait_until(lambda: len(worker_pids(arb.pid)) == 2, timeout=30, message="2 workers")

        async def opened():
            ws = await websockets.connect(ws_url(base, "/echo"), ping_interval=None,
                                          open_timeout=30)
            await ws.send("pid")
            return ws, int(await ws.recv())

        async def body():
            conns = []
            for _ in range(8):  # bursts of connections reach both workers
                conns += await asyncio.gather(*(opened() for _ in range(25)))
                if len({p for _, p in conns}) == 2:
                    break
            pids = {p for _, p in conns}
            assert len(pids) == 2, "connections did not reach both workers"
            victim = min(pids)
            os.kill(victim, signal.SIGKILL)
            for ws, pid in conns:
                if pid == victim:
                    with pytest.raises(ConnectionClosed):
                        await asyncio.wait_for(ws.recv(), 20)
                    assert ws.close_code == 1006
                else:
                    await ws.send("alive")
                    assert await asyncio.wait_for(ws.recv(), 20) == "alive"
                    await ws.close()
        run(body())


def test_example():
    from gftest import source
    with serving("main:app", chdir=source("examples/websocket_app")) as (base, _):
        async def body():
            async with websockets.connect(ws_url(base, "/chat")) as a, \
                    websockets.connect(ws_url(base, "/chat")) as b:
                assert httpx.get(base + "/", timeout=5).text == "2 client(s) connected\n"
                await a.send("hello room")
                assert await a.recv() == "hello room"
                assert await b.recv() == "hello room"
            with pytest.raises(InvalidStatusCode) as refused:
                await websockets.connect(ws_url(base, "/elsewhere"))
            assert refused.value.status_code == 403
        run(body())


def test_graceful_stop_closes_with_1001():
    with serving("ws_apps:app") as (base, arb):
        async def body():
            async with websockets.connect(ws_url(base, "/echo"), ping_interval=None) as ws:
                await ws.send("before")
                assert await ws.recv() == "before"
                arb.signal(signal.SIGTERM)
                with pytest.raises(ConnectionClosed):
                    await asyncio.wait_for(ws.recv(), 30)
                assert ws.close_code == 1001
        run(body())
        assert arb.wait(timeout=30) == 0


def test_send_waits_for_a_slow_client(echo):
    # The client reads nothing at first: the app's send() must wait once
    # the socket buffers and the 256 KiB bound are full, instead of queueing
    # 100 MiB in the worker; then everything arrives in order.
    def flood():
        return httpx.get(echo + "/flood", timeout=5).json()

    async def body():
        async with websockets.connect(ws_url(echo, "/flood"), compression=None,
                                      max_size=None, ping_interval=None, max_queue=1) as ws:
            await asyncio.to_thread(wait_until, lambda: flood()["sent"] >= 1, 15,
                                    0.02, "the app to start sending")
            await asyncio.sleep(1)  # time to run ahead, were it unbounded
            assert flood()["sent"] < 40
            got = 0
            while got < 100:
                assert len(await ws.recv()) == 1 << 20
                got += 1
        assert flood() == {"sent": 100, "done": True}
    run(body())


def test_subprotocol_not_offered_is_500(echo):
    async def body():
        with pytest.raises(InvalidStatusCode) as bad:
            await websockets.connect(ws_url(echo, "/bad-subprotocol"), subprotocols=["chat"])
        assert bad.value.status_code == 500
    run(body())


def test_reading_pauses_while_the_app_does_not_receive(echo):
    # The app takes no message until GET /go: gworker stops reading after
    # a few dozen queued messages, so the client cannot send 32 MiB; after
    # /go everything arrives, in order and counted.
    async def body():
        async with websockets.connect(ws_url(echo, "/lazy"), compression=None,
                                      ping_interval=None) as ws:
            async def send_all():
                for _ in range(500):
                    await ws.send(b"z" * 65536)
            sender = asyncio.create_task(send_all())
            done, _ = await asyncio.wait({sender}, timeout=2)
            assert not done, "32 MiB went into a worker whose app receives nothing"
            await asyncio.to_thread(httpx.get, echo + "/go", timeout=5)
            await asyncio.wait_for(sender, 30)
            await ws.send("end")
            assert await ws.recv() == "500"
    run(body())
