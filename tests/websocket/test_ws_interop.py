"""The WebSocket protocol layer against a real client (python3-websockets).

tests/websocket/ws_echo_server.cpp is made of the layer's pieces alone
(RequestParser, handshake, permessage-deflate, WsSession); these tests show
they interoperate with another implementation: echo of text, binary,
fragmented and large messages with and without compression, pings,
subprotocols, extra 101 headers, close codes both ways, 1009 for an
oversize message, and 426 for another protocol version.
"""

from __future__ import annotations

import asyncio
import socket

import pytest
import websockets

from gftest import Spawned, binary, free_port, raw_exchange, wait_until


def _connectable(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


@pytest.fixture
def server(tmp_path):
    def start(*args: str) -> int:
        port = free_port()
        proc = Spawned([binary("bin/ws_echo_server"), str(port), *args], logdir=tmp_path)
        started.append(proc.start())
        wait_until(lambda: _connectable(port), timeout=20, message="ws_echo_server listening")
        return port

    started: list[Spawned] = []
    yield start
    for proc in started:
        proc.stop(timeout=5)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, timeout=30))


@pytest.mark.parametrize("compression", ["deflate", None])
def test_echo_text_binary_fragmented_and_large(server, compression):
    port = server()

    async def go():
        async with websockets.connect(f"ws://127.0.0.1:{port}/", compression=compression,
                                      max_size=None) as ws:
            negotiated = ws.response_headers.get("Sec-WebSocket-Extensions")
            assert (negotiated is not None) == (compression == "deflate"), negotiated
            await ws.send("héllo €")
            assert await ws.recv() == "héllo €"
            await ws.send(b"\x00\xff\x10")
            assert await ws.recv() == b"\x00\xff\x10"
            await ws.send(iter(["frag", "ment", "ed"]))  # one message, three frames
            assert await ws.recv() == "fragmented"
            big = bytes(range(256)) * 8192  # 2 MiB
            await ws.send(big)
            assert await ws.recv() == big
            await ws.send("")
            assert await ws.recv() == ""

    run(go())


def test_ping_is_answered(server):
    port = server()

    async def go():
        async with websockets.connect(f"ws://127.0.0.1:{port}/") as ws:
            pong = await ws.ping(b"are you there")
            await asyncio.wait_for(pong, timeout=10)

    run(go())


def test_subprotocols_and_extra_headers(server):
    port = server()

    async def go():
        async with websockets.connect(f"ws://127.0.0.1:{port}/headers",
                                      subprotocols=["mqtt", "superchat", "chat"]) as ws:
            assert ws.subprotocol == "superchat"
            assert ws.response_headers.get("X-Echo") == "1"
        async with websockets.connect(f"ws://127.0.0.1:{port}/", subprotocols=["mqtt"]) as ws:
            assert ws.subprotocol is None

    run(go())


def test_server_and_client_close_codes(server):
    port = server()

    async def go():
        ws = await websockets.connect(f"ws://127.0.0.1:{port}/")
        await ws.send("close:4001")
        with pytest.raises(websockets.exceptions.ConnectionClosed):
            await ws.recv()
        assert ws.close_code == 4001
        assert ws.close_reason == "requested"

        ws = await websockets.connect(f"ws://127.0.0.1:{port}/")
        await ws.close(code=1001, reason="going")
        assert ws.close_code == 1001  # the server echoed the client's code

    run(go())


def test_oversize_message_is_1009(server):
    port = server("1024")

    async def go():
        async with websockets.connect(f"ws://127.0.0.1:{port}/", compression=None) as ws:
            await ws.send("x" * 1024)
            assert await ws.recv() == "x" * 1024
            await ws.send("x" * 1025)
            with pytest.raises(websockets.exceptions.ConnectionClosedError):
                await ws.recv()
            assert ws.close_code == 1009

    run(go())


def test_compressed_bomb_is_1009(server):
    port = server("65536")

    async def go():
        async with websockets.connect(f"ws://127.0.0.1:{port}/", compression="deflate",
                                      max_size=None) as ws:
            await ws.send(b"\0" * (64 << 20))  # ~64 KiB on the wire
            with pytest.raises(websockets.exceptions.ConnectionClosedError):
                await ws.recv()
            assert ws.close_code == 1009

    run(go())


HANDSHAKE = (b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")


def test_keepalive_pings_then_1011_without_pongs(server):
    port = server("1048576", "100", "500")
    with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
        s.sendall(HANDSHAKE + b"Sec-WebSocket-Version: 13\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            assert chunk, data
            data += chunk
        data = data.split(b"\r\n\r\n", 1)[1]
        while True:  # until the server closes: a ping, then (no pong) a close 1011
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    assert data[0] == 0x89, data  # an unmasked ping first
    ping_len = data[1]
    close = data[2 + ping_len:]
    assert close[0] == 0x88, data
    assert int.from_bytes(close[2:4], "big") == 1011
    assert b"ping timeout" in close[4:]


def test_handshake_refusals(server):
    port = server()
    base = HANDSHAKE
    reply = raw_exchange(port, base + b"Sec-WebSocket-Version: 8\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 426 "), reply
    assert b"Sec-WebSocket-Version: 13\r\n" in reply
    reply = raw_exchange(port, base.replace(b"dGhlIHNhbXBsZSBub25jZQ==", b"short") +
                         b"Sec-WebSocket-Version: 13\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400 "), reply
    reply = raw_exchange(port, base + b"Sec-WebSocket-Version: 13\r\n\r\n", read_until_close=False)
    assert reply.startswith(b"HTTP/1.1 101 Switching Protocols\r\n"), reply
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in reply
