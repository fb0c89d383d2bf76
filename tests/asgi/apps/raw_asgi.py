"""Raw ASGI 3 apps for tests/asgi (no framework): each endpoint exercises
one part of the spec; /events reports what the app saw."""
import asyncio
import json

EVENTS = []
_release = None


async def _read_body(receive):
    parts, messages = [], 0
    while True:
        m = await receive()
        if m["type"] == "http.disconnect":
            return b"".join(parts), messages, True
        parts.append(m.get("body", b""))
        messages += 1
        if not m.get("more_body", False):
            return b"".join(parts), messages, False


async def _reply(send, status, body, headers=()):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), *headers]})
    await send({"type": "http.response.body", "body": body})


def _jsonable(v):
    if isinstance(v, bytes):
        return {"bytes": v.decode("latin-1")}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    return v


async def app(scope, receive, send):
    global _release
    if scope["type"] == "lifespan":
        while True:
            m = await receive()
            if m["type"] == "lifespan.startup":
                scope["state"]["started"] = "yes"
                await send({"type": "lifespan.startup.complete"})
            elif m["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if path.startswith("/scope"):
        body, messages, _ = await _read_body(receive)
        scope = dict(scope)
        scope["state"] = dict(scope.get("state", {}))
        scope["types"] = {k: type(v).__name__ for k, v in scope.items()}
        scope["header_types"] = sorted({type(x).__name__ for h in scope["headers"] for x in h})
        await _reply(send, 200, json.dumps({"scope": _jsonable(scope), "body": body.decode(),
                                            "messages": messages}).encode())
    elif path == "/echo-stream":
        # Streams each request chunk back as it arrives (chunked both ways).
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/octet-stream")]})
        sizes = []
        while True:
            m = await receive()
            if m["type"] == "http.disconnect":
                return
            sizes.append(len(m.get("body", b"")))
            if m.get("body"):
                await send({"type": "http.response.body", "body": m["body"], "more_body": True})
            if not m.get("more_body"):
                break
        EVENTS.append({"echo_messages": len(sizes)})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/stream":
        n = int(scope["query_string"] or b"3")
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        for i in range(n):
            await send({"type": "http.response.body", "body": b"part%d\n" % i, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    elif path == "/sized":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"10"), (b"x-mixed-Case", b"Value")]})
        await send({"type": "http.response.body", "body": b"01234", "more_body": True})
        await send({"type": "http.response.body", "body": b"56789"})
    elif path == "/raise-early":
        raise RuntimeError("before http.response.start")
    elif path == "/raise-late":
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("after the body began")
    elif path == "/no-response":
        return
    elif path == "/wait-disconnect":
        await _read_body(receive)
        m = await receive()
        EVENTS.append({"wait_disconnect": m["type"]})
    elif path == "/stream-forever":
        async def watch():
            m = await receive()
            while m["type"] != "http.disconnect":
                m = await receive()
            EVENTS.append({"stream_receive": m["type"]})
        watcher = asyncio.ensure_future(watch())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            for _ in range(100000):
                await send({"type": "http.response.body", "body": b"x" * 1024, "more_body": True})
                await asyncio.sleep(0.005)
        except OSError as exc:
            EVENTS.append({"stream_send": type(exc).__name__})
            await watcher
            raise
    elif path == "/hold":
        # Does not read its body until /release: the upload must wait.
        _release = asyncio.get_running_loop().create_future()
        EVENTS.append({"hold": "waiting"})
        await _release
        body, messages, _ = await _read_body(receive)
        await _reply(send, 200, json.dumps({"length": len(body), "messages": messages}).encode())
    elif path == "/release":
        if _release is not None and not _release.done():
            _release.set_result(None)
        await _reply(send, 200, b"{}")
    elif path == "/sleep":
        await asyncio.sleep(float(scope["query_string"] or b"1"))
        await _reply(send, 200, b'{"slept": true}')
    elif path == "/events":
        await _reply(send, 200, json.dumps(EVENTS).encode())
    else:
        await _reply(send, 200, b'{"hello": "world"}')
