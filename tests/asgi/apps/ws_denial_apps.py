"""WebSocket apps for tests/asgi/test_websocket_lifecycle.py: the
websocket.http.response denial extension, and refusing before accepting."""
import json

EVENTS = []  # (path, what the app's receive() gave after its answer)


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": json.dumps(EVENTS).encode()})
        return
    path = scope["path"]
    assert (await receive())["type"] == "websocket.connect"
    if path == "/deny":
        assert scope["extensions"] == {"websocket.http.response": {}}
        await send({"type": "websocket.http.response.start", "status": 401,
                    "headers": [(b"www-authenticate", b"Bearer"),
                                (b"content-type", b"text/plain")]})
        await send({"type": "websocket.http.response.body", "body": b"no ", "more_body": True})
        await send({"type": "websocket.http.response.body", "body": b"entry"})
    elif path == "/deny-empty":
        await send({"type": "websocket.http.response.start", "status": 404, "headers": []})
        await send({"type": "websocket.http.response.body"})
    elif path == "/deny-then-accept":  # not allowed: the app fails, 500
        await send({"type": "websocket.http.response.start", "status": 401, "headers": []})
        await send({"type": "websocket.accept"})
    elif path == "/close-first":
        await send({"type": "websocket.close"})
    else:
        await send({"type": "websocket.accept"})
    message = await receive()
    EVENTS.append([path, message["type"]])
