"""-k asgi against the ASGI WebSocket message format (2.4) and RFC 6455,
for what test_websocket.py does not cover: websocket.send with both or
neither key, websocket.receive's keys, websocket.disconnect's code and
reason (1005 for a close frame without a status, 1007, 1002), what the
app sees after a disconnect, websocket.close without a reason, an app
that returns before or after accepting, and upgrade requests that are not
WebSocket ones. Raw sockets where the client library would not misbehave.
tests/asgi/apps/spec_apps.py is the app."""
from __future__ import annotations

import asyncio
import base64
import os
import socket
import struct

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatusCode

from asgi_support import events, serving, wait_for_event
from gftest import wait_until

DEADLINE = 60


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, DEADLINE))


@pytest.fixture(scope="module")
def spec():
    with serving("spec_apps:app") as (base, arb):
        yield base, int(base.rsplit(":", 1)[1]), arb


def ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://") + path


def upgrade_request(path: str, version: bytes = b"HTTP/1.1", extra: bytes = b"") -> bytes:
    key = base64.b64encode(os.urandom(16))
    return (b"GET %s %s\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
            % (path.encode(), version, key, extra))


def frame(opcode: int, payload: bytes, masked: bool = True, fin: bool = True) -> bytes:
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    mask_bit = 0x80 if masked else 0
    if n < 126:
        head += bytes([mask_bit | n])
    else:
        head += bytes([mask_bit | 126]) + struct.pack("!H", n)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class RawWs:
    """A WebSocket client on a plain socket, for frames a library would
    not send."""

    def __init__(self, port: int, path: str):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(upgrade_request(path))
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            assert chunk, self.buf
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head

    def read_frame(self) -> tuple[int, bytes]:
        while True:
            if len(self.buf) >= 2:
                n = self.buf[1] & 0x7F
                start = 2
                if n == 126 and len(self.buf) >= 4:
                    n, start = struct.unpack("!H", self.buf[2:4])[0], 4
                if n < 127 and len(self.buf) >= start + n and not (self.buf[1] & 0x7F == 126
                                                                  and start == 2):
                    opcode, payload = self.buf[0] & 0x0F, self.buf[start:start + n]
                    self.buf = self.buf[start + n:]
                    return opcode, payload
            chunk = self.sock.recv(65536)
            if not chunk:
                return -1, b""
            self.buf += chunk

    def close_code(self) -> int:
        """The status of the server's close frame (the next frame)."""
        opcode, payload = self.read_frame()
        assert opcode == 8, (opcode, payload)
        return struct.unpack("!H", payload[:2])[0] if payload else 1005

    def close(self):
        self.sock.close()


def disconnect_of(base: str, path: str) -> dict | None:
    for e in events(base):
        if e.get("ws_disconnect") == path:
            return dict(e["message"])
    return None


def test_send_with_both_keys_raises_in_the_app(spec):
    base, _, _ = spec

    async def body():
        async with websockets.connect(ws_url(base, "/ws-both")) as ws:
            assert await ws.recv() == "after"
    run(body())
    wait_for_event(base, {"ws_both": "RuntimeError"})


def test_send_with_one_key_none(spec):
    base, _, _ = spec

    async def body():
        async with websockets.connect(ws_url(base, "/ws-none-keys")) as ws:
            assert await ws.recv() == "text-only"
            assert await ws.recv() == b"bytes-only"
    run(body())


def test_receive_has_only_the_key_that_applies(spec):
    base, _, _ = spec

    async def body():
        async with websockets.connect(ws_url(base, "/ws-echo")) as ws:
            await ws.send("hello")
            assert await ws.recv() == "hello"
            await ws.send(b"\x00\x01")
            assert await ws.recv() == "binary"
    run(body())
    got = [e["ws_receive"] for e in events(base) if "ws_receive" in e]
    assert ["text", "type"] in got and ["bytes", "type"] in got


def test_disconnect_codes_and_what_follows(spec):
    base, port, _ = spec
    # A close frame without a status: the app sees 1005 and an empty reason.
    ws = RawWs(port, "/ws-no-status")
    ws.sock.sendall(frame(8, b""))
    assert ws.read_frame()[0] == 8
    ws.close()
    wait_for_event(base, {"ws_disconnect": "/ws-no-status",
                          "message": [["code", 1005], ["reason", ""],
                                      ["type", "websocket.disconnect"]]})
    # After the disconnect, receive() says websocket.disconnect again and
    # send() raises an OSError (spec 2.4's "Disconnected Client").
    wait_for_event(base, {"ws_receive_after_disconnect": "websocket.disconnect"})
    wait_for_event(base, {"ws_send_after_disconnect": "ClientDisconnected"})


def test_invalid_utf8_is_1007_and_unmasked_is_1002(spec):
    base, port, _ = spec
    ws = RawWs(port, "/ws-bad-utf8")
    ws.sock.sendall(frame(1, b"\xff\xfe"))
    assert ws.close_code() == 1007
    ws.close()
    ws = RawWs(port, "/ws-unmasked")
    ws.sock.sendall(frame(1, b"hi", masked=False))
    assert ws.close_code() == 1002
    ws.close()
    ws = RawWs(port, "/ws-long-ping")
    ws.sock.sendall(frame(9, b"p" * 126))
    assert ws.close_code() == 1002
    ws.close()
    for path, code in (("/ws-bad-utf8", 1007), ("/ws-unmasked", 1002), ("/ws-long-ping", 1002)):
        wait_until(lambda: (disconnect_of(base, path) or {}).get("code") == code, timeout=15,
                   message=f"the app's websocket.disconnect {code} on {path}")


def test_ping_gets_its_payload_back(spec):
    _, port, _ = spec
    ws = RawWs(port, "/ws-ping")
    ws.sock.sendall(frame(9, b"payload"))
    assert ws.read_frame() == (10, b"payload")
    ws.sock.sendall(frame(8, struct.pack("!H", 1000)))
    assert ws.close_code() == 1000
    ws.close()


def test_close_without_reason_and_send_after_close(spec):
    base, _, _ = spec

    async def body():
        async with websockets.connect(ws_url(base, "/ws-close-reason-none")) as ws:
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert (ws.close_code, ws.close_reason) == (1000, "")
    run(body())
    wait_for_event(base, {"ws_send_after_close": "RuntimeError"})


def test_app_returning_before_or_after_accept(spec):
    base, _, _ = spec

    async def body():
        with pytest.raises(InvalidStatusCode) as refused:
            await websockets.connect(ws_url(base, "/ws-return-before-accept"))
        assert refused.value.status_code == 500  # an app error, as uvicorn says
        with pytest.raises(InvalidStatusCode) as unfinished:
            await websockets.connect(ws_url(base, "/ws-deny-incomplete"))
        assert unfinished.value.status_code == 500
        async with websockets.connect(ws_url(base, "/ws-return-after-accept")) as ws:
            with pytest.raises(ConnectionClosed):
                await ws.recv()
            assert ws.close_code == 1000
    run(body())


def test_upgrade_over_http_10_and_wrong_version(spec):
    _, port, _ = spec
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(upgrade_request("/ws-echo", b"HTTP/1.0"))
        reply = b""
        while chunk := c.recv(65536):
            reply += chunk
    assert not reply.startswith(b"HTTP/1.1 101"), reply
    assert reply.split(b" ", 2)[1] in (b"400", b"426"), reply
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(upgrade_request("/ws-echo").replace(b"Version: 13", b"Version: 7"))
        reply = b""
        while b"\r\n\r\n" not in reply and (chunk := c.recv(65536)):
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 426"), reply
    assert b"sec-websocket-version: 13" in reply.lower()



def test_client_gone_before_accept_is_a_disconnect(spec):
    # The app waits in receive() after websocket.connect; the client
    # leaves: it hears websocket.disconnect (1006) at once, not when it
    # decides (uvicorn's behaviour), and accepting then is harmless.
    base, port, _ = spec
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    c.sendall(upgrade_request("/ws-slow-accept"))
    c.close()
    # The app's own deadline for that receive() is 10 s.
    wait_for_event(base, {"ws_before_accept": [["code", 1006], ["reason", ""],
                                               ["type", "websocket.disconnect"]]}, timeout=8)
    wait_for_event(base, {"ws_accept_after_gone": None})


@pytest.mark.parametrize("code", [999, 1005, 1006, 1015, 2999, 5000, 66536])
def test_close_code_an_endpoint_may_not_send_is_the_apps_error(spec, code):
    # RFC 6455 7.4: the app's error (raised in send, as the websockets
    # library does under uvicorn); the app catches it and returns, so the
    # connection ends with 1000, never with a code the RFC forbids.
    base, port, _ = spec
    ws = RawWs(port, f"/ws-close-code?{code}")
    assert ws.close_code() == 1000
    ws.close()
    wait_for_event(base, {"ws_close_code": code, "error": "ValueError"})


@pytest.mark.parametrize("code", [1000, 1008, 1014, 3000, 4999])
def test_close_code_sent_as_given(spec, code):
    base, port, _ = spec
    ws = RawWs(port, f"/ws-close-code?{code}")
    assert ws.close_code() == code
    ws.close()
    wait_for_event(base, {"ws_close_code": code, "error": None})
