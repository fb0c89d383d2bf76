"""Apps for tests/asgi/test_asgi_conformance.py: one path per rule of the
ASGI HTTP & WebSocket message format (2.4) that the other apps do not
exercise; /events reports what the app saw (exceptions it caught, the
messages it received)."""
import asyncio
import json

EVENTS = []


async def _lifespan(scope, receive, send):
    while True:
        m = await receive()
        if m["type"] == "lifespan.startup":
            scope["state"]["shared"] = "from-lifespan"
            await send({"type": "lifespan.startup.complete"})
        else:
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _ok(send, body=b"ok", headers=()):
    await send({"type": "http.response.start", "status": 200, "headers": list(headers)})
    await send({"type": "http.response.body", "body": body})


async def _error_of(coro):
    try:
        await coro
    except Exception as exc:  # the app's own view of a refused message
        return type(exc).__name__
    return None


async def http(scope, receive, send):
    path = scope["path"]
    if path == "/events":
        await _ok(send, json.dumps(EVENTS).encode())
    elif path == "/state-mutate":
        scope["state"]["added"] = "by-a-request"
        await _ok(send)
    elif path == "/state-read":
        await _ok(send, json.dumps(sorted(scope["state"])).encode())
    elif path == "/minimal":
        # No headers key, no body key: a 200 with an empty body.
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body"})
    elif path == "/tuple-headers":
        await send({"type": "http.response.start", "status": 200,
                    "headers": ((b"x-a", b"1"), [b"x-b", b"2"], (b"set-cookie", b"a=1"),
                                (b"set-cookie", b"b=2"))})
        await send({"type": "http.response.body", "body": b"tuples"})
    elif path == "/str-header":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [("content-type", "text/plain")]})
        await send({"type": "http.response.body", "body": b"never"})
    elif path == "/str-body":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": "a str, not bytes"})
    elif path == "/no-status":
        await send({"type": "http.response.start", "headers": []})
        await send({"type": "http.response.body", "body": b"never"})
    elif path == "/start-twice":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        EVENTS.append({"start_twice": await _error_of(
            send({"type": "http.response.start", "status": 200, "headers": []}))})
        await send({"type": "http.response.body", "body": b"once"})
    elif path == "/body-after-complete":
        await _ok(send, b"complete")
        EVENTS.append({"body_after_complete": await _error_of(
            send({"type": "http.response.body", "body": b"late"}))})
    elif path == "/sized-body":  # for HEAD: the head says 5, no body goes out
        await _ok(send, b"12345", [(b"content-length", b"5")])
    elif path == "/status":
        code = int(scope["query_string"])
        await send({"type": "http.response.start", "status": code, "headers": []})
        await send({"type": "http.response.body", "body": b"a body the status forbids"})
    elif path == "/receive-after-body":
        # The body is read: receive() waits (for a disconnect) while the
        # response is not complete; once it is, it says http.disconnect.
        first = await receive()
        try:
            await asyncio.wait_for(receive(), 0.5)
            waited = "returned"
        except asyncio.TimeoutError:
            waited = "blocked"
        await _ok(send, b"done")
        after = await asyncio.wait_for(receive(), 5)
        first["body"] = first["body"].decode()
        EVENTS.append({"receive_after_body": [sorted(first.items()), waited, after["type"]]})
    elif path == "/short-body":  # declares 10 bytes, sends 5
        EVENTS.append({"short_body": await _error_of(
            _ok(send, b"12345", [(b"content-length", b"10")]))})
    elif path == "/long-body":  # declares 5 bytes, sends 10
        EVENTS.append({"long_body": await _error_of(
            _ok(send, b"1234567890", [(b"content-length", b"5")]))})
    elif path == "/bad-header":  # a value with CR LF: no header injection
        await _ok(send, b"never", [(b"x-bad", b"a\r\ninjected: 1")])
    elif path == "/bad-header-name":
        await _ok(send, b"never", [(b"x bad:", b"a")])
    elif path == "/scope":
        await _ok(send, json.dumps({
            "http_version": scope["http_version"], "path": scope["path"],
            "raw_path": scope["raw_path"].decode("latin-1"),
            "query_string": scope["query_string"].decode("latin-1"),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "client": type(scope["client"]).__name__, "server": type(scope["server"]).__name__,
        }).encode())
    elif path == "/head-empty":  # a HEAD answered as HEAD: the length, no body
        await _ok(send, b"" if scope["method"] == "HEAD" else b"12345",
                  [(b"content-length", b"5")])
    elif path == "/own-headers":  # Server, Date and Connection from the app
        await _ok(send, b"mine", [(b"server", b"myapp"), (b"date", b"Thu, 01 Jan 2026 00:00:00 GMT"),
                                  (b"connection", b"close")])
    elif path == "/request-message":
        m = await receive()
        await _ok(send, json.dumps({"keys": sorted(m), "body": m.get("body", b"").decode(),
                                    "more_body": m.get("more_body")}).encode())
    else:
        await _ok(send)


async def websocket(scope, receive, send):
    path = scope["path"]
    assert (await receive())["type"] == "websocket.connect"
    if path == "/ws-return-before-accept":
        return
    if path == "/ws-deny-incomplete":  # a denial response begun, never ended
        await send({"type": "websocket.http.response.start", "status": 401, "headers": []})
        await send({"type": "websocket.http.response.body", "body": b"part", "more_body": True})
        return
    if path == "/ws-slow-accept":  # the client may be gone before the accept
        m = await asyncio.wait_for(receive(), 10)
        EVENTS.append({"ws_before_accept": sorted(m.items())})
        EVENTS.append({"ws_accept_after_gone": await _error_of(
            send({"type": "websocket.accept"}))})
        return
    if path == "/ws-protocol-header":
        await send({"type": "websocket.accept", "subprotocol": None,
                    "headers": [(b"sec-websocket-protocol", b"chat")]})
    else:
        await send({"type": "websocket.accept"})
    if path == "/ws-both":
        EVENTS.append({"ws_both": await _error_of(
            send({"type": "websocket.send", "bytes": b"b", "text": "t"}))})
        await send({"type": "websocket.send", "text": "after"})
    elif path == "/ws-none-keys":  # both keys present, one of them None
        await send({"type": "websocket.send", "bytes": None, "text": "text-only"})
        await send({"type": "websocket.send", "bytes": b"bytes-only", "text": None})
    elif path == "/ws-return-after-accept":
        return
    elif path == "/ws-long-reason":
        EVENTS.append({"ws_long_reason": await _error_of(
            send({"type": "websocket.close", "code": 1000, "reason": "r" * 200}))})
        await send({"type": "websocket.close", "code": 4000, "reason": "short"})
    elif path == "/ws-close-code":  # ?code: websocket.close with that code
        code = int(scope["query_string"])
        EVENTS.append({"ws_close_code": code, "error": await _error_of(
            send({"type": "websocket.close", "code": code}))})
        return
    elif path == "/ws-close-then-receive":
        await send({"type": "websocket.close", "code": 4004})
        m = await asyncio.wait_for(receive(), 10)
        EVENTS.append({"ws_after_own_close": sorted(m.items())})
        return
    elif path == "/ws-close-reason-none":
        await send({"type": "websocket.close", "reason": None})
        EVENTS.append({"ws_send_after_close": await _error_of(
            send({"type": "websocket.send", "text": "late"}))})
        return
    while True:
        m = await receive()
        if m["type"] == "websocket.disconnect":
            EVENTS.append({"ws_disconnect": path, "message": sorted(m.items())})
            again = await asyncio.wait_for(receive(), 5)
            EVENTS.append({"ws_receive_after_disconnect": again["type"]})
            EVENTS.append({"ws_send_after_disconnect": await _error_of(
                send({"type": "websocket.send", "text": "late"}))})
            return
        EVENTS.append({"ws_receive": sorted(m)})
        await send({"type": "websocket.send", "text": m.get("text") or "binary"})


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return await _lifespan(scope, receive, send)
    if scope["type"] == "http":
        return await http(scope, receive, send)
    return await websocket(scope, receive, send)


class Asgi2App:
    """An ASGI 2 app (the spec's "Legacy Applications"): instantiated with
    the scope, then awaited with receive and send."""

    def __init__(self, scope):
        self.scope = scope

    async def __call__(self, receive, send):
        if self.scope["type"] == "lifespan":
            return await _lifespan(self.scope, receive, send)
        await _ok(send, b"asgi2 class " + self.scope["path"].encode())


def asgi2_function(scope):
    async def instance(receive, send):
        if scope["type"] == "lifespan":
            return await _lifespan(scope, receive, send)
        await _ok(send, b"asgi2 function " + scope["path"].encode())
    return instance


class Asgi3Object:
    """ASGI 3 through a plain (not async) __call__ that returns the
    coroutine, as some middlewares do: not mistaken for ASGI 2."""

    def __call__(self, scope, receive, send):
        return app(scope, receive, send)


asgi3_object = Asgi3Object()
