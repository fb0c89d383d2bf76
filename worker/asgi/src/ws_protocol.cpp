// The ASGI websocket scope's cycle, appended to protocol.cpp's module
// source (it uses that module's _loop, _tasks, _state, native, _format,
// ClientDisconnected). The engine's events for a WebSocket are wake-ups
// only: receive() and send() look at the handle again (AsyncWebSocket).
#include "protocol.hpp"

namespace greenfork::asgi {

const char* const kWebSocketSource = R"PY(

class WebSocketCycle:
    """One WebSocket: websocket.connect first, then the client's messages,
    then websocket.disconnect; the app accepts, sends and closes."""

    __slots__ = ("h", "waiter", "state", "connect_sent", "denial")
    # CLOSED: the app sent websocket.close; RESPONDING: it began a denial
    # response (websocket.http.response.start), DENIED: it completed one.
    CONNECTING, OPEN, CLOSED, RESPONDING, DENIED = 0, 1, 2, 3, 4

    def __init__(self, h):
        self.h = h
        self.waiter = None
        self.state = self.CONNECTING
        self.connect_sent = False
        self.denial = None  # [status, headers, [body parts]] while RESPONDING

    def wake(self):
        w, self.waiter = self.waiter, None
        if w is not None and not w.done():
            w.set_result(None)

    async def _wait(self):
        if self.waiter is None:
            self.waiter = _loop.create_future()
        await asyncio.shield(self.waiter)

    async def receive(self):
        if not self.connect_sent:
            self.connect_sent = True
            return {"type": "websocket.connect"}
        while True:
            kind, data = self.h.ws_take()
            if kind == 1:
                return {"type": "websocket.receive", "text": data}
            if kind == 2:
                return {"type": "websocket.receive", "bytes": data}
            if kind == 3:
                return {"type": "websocket.disconnect", "code": data[0], "reason": data[1]}
            self.h.ws_want()
            await self._wait()

    async def send(self, message):
        kind = message["type"]
        if kind == "websocket.accept":
            if self.state != self.CONNECTING:
                raise RuntimeError("Unexpected ASGI message 'websocket.accept' sent, "
                                   "after the connection was accepted or closed.")
            self.h.ws_accept(message.get("subprotocol"), message.get("headers") or ())
            self.state = self.OPEN
        elif kind == "websocket.send":
            if self.state != self.OPEN:
                raise RuntimeError("Unexpected ASGI message 'websocket.send' sent, %s." % (
                    "before 'websocket.accept'" if self.state == self.CONNECTING
                    else "after 'websocket.close'"))
            if self.h.ws_blocked() == 2:
                raise ClientDisconnected("the client went away")
            text, data = message.get("text"), message.get("bytes")
            if text is not None and data is not None:
                raise RuntimeError("websocket.send needs exactly one of 'text' and 'bytes' "
                                   "that is not None")
            if text is not None:
                if not isinstance(text, str):
                    raise TypeError("websocket.send 'text' must be str")
                self.h.ws_send(text)
            elif data is not None:
                if not isinstance(data, (bytes, bytearray, memoryview)):
                    raise TypeError("websocket.send 'bytes' must be bytes")
                self.h.ws_send(data)
            else:
                raise RuntimeError("websocket.send needs 'text' or 'bytes'")
            while self.h.ws_blocked() == 1:
                await self._wait()
        elif kind == "websocket.http.response.start":
            if self.state != self.CONNECTING:
                raise RuntimeError("Unexpected ASGI message 'websocket.http.response.start' sent, "
                                   "after the connection was accepted, closed or answered.")
            status = message["status"]
            if not isinstance(status, int) or not 200 <= status <= 999:
                raise ValueError("websocket.http.response.start: invalid status %r" % (status,))
            self.denial = [status, list(message.get("headers") or ()), []]
            self.state = self.RESPONDING
        elif kind == "websocket.http.response.body":
            if self.state != self.RESPONDING:
                raise RuntimeError("Unexpected ASGI message 'websocket.http.response.body' sent, "
                                   "without 'websocket.http.response.start' before it.")
            body = message.get("body", b"")
            if not isinstance(body, (bytes, bytearray, memoryview)):
                raise TypeError("websocket.http.response.body 'body' must be bytes")
            self.denial[2].append(bytes(body))
            if not message.get("more_body", False):
                status, headers, parts = self.denial
                self.denial = None
                self.state = self.DENIED
                self.h.ws_deny(status, headers, b"".join(parts))
        elif kind == "websocket.close":
            if self.state in (self.RESPONDING, self.DENIED):
                raise RuntimeError("Unexpected ASGI message 'websocket.close' sent, "
                                   "after 'websocket.http.response.start'.")
            if self.state == self.CLOSED:
                raise RuntimeError("Unexpected ASGI message 'websocket.close' sent, "
                                   "after 'websocket.close'.")
            code = message.get("code")
            code = 1000 if code is None else code
            # RFC 6455 7.4: what an endpoint may put in a close frame (not
            # 1005/1006/1015, nothing unassigned); as the websockets library
            # under uvicorn, another code is the app's error.
            if not isinstance(code, int) or not (1000 <= code <= 1003 or 1007 <= code <= 1014
                                                 or 3000 <= code <= 4999):
                raise ValueError("websocket.close: invalid close code %r" % (code,))
            self.h.ws_close(code, message.get("reason") or "")
            self.state = self.CLOSED
        else:
            raise RuntimeError("Unexpected ASGI message '%s' sent." % kind)


async def _run_ws(cycle, scope):
    h = cycle.h
    try:
        await _app(scope, cycle.receive, cycle.send)
        if cycle.state in (cycle.CONNECTING, cycle.RESPONDING):
            # No websocket.accept, close or (complete) denial: an app error
            # (uvicorn's and hypercorn's 500), not a refusal.
            native.log(ERROR, "ASGI callable returned without %s." % (
                "sending handshake" if cycle.state == cycle.CONNECTING
                else "completing the websocket.http.response"))
            h.ws_fail()
    except BaseException as exc:
        if not isinstance(exc, ClientDisconnected):
            native.log(ERROR, "Exception in ASGI application\n" + _format(exc))
        h.ws_fail()
        if not isinstance(exc, Exception):
            raise
    finally:
        h.ws_done()


def _ws_connect(h):
    try:
        scope = h.ws_scope(_state)
    except Exception as exc:
        native.log(ERROR, "Cannot build the ASGI scope\n" + _format(exc))
        h.ws_fail()
        h.ws_done()
        return
    cycle = h.owner = WebSocketCycle(h)
    task = _loop.create_task(_run_ws(cycle, scope))
    _tasks.add(task)
    task.add_done_callback(_done)
)PY";

}  // namespace greenfork::asgi
