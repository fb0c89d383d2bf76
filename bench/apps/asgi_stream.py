"""ASGI apps for the streaming and WebSocket rows (uvicorn and greenfork
-k asgi serve the same file):

- `download`: GET answers 1 MiB in 16 `http.response.body` messages of
  64 KiB (`more_body`: chunked on the wire);
- `upload`: POST; the app reads the whole body through `receive()` and
  answers its length;
- `ws_echo`: a WebSocket whose every message is sent back."""

_CHUNK = b"x" * (64 * 1024)
_CHUNKS = 16


async def download(scope, receive, send):
    if scope["type"] != "http":
        return  # no lifespan
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/octet-stream")]})
    for _ in range(_CHUNKS - 1):
        await send({"type": "http.response.body", "body": _CHUNK, "more_body": True})
    await send({"type": "http.response.body", "body": _CHUNK})


async def upload(scope, receive, send):
    if scope["type"] != "http":
        return
    total = 0
    while True:
        message = await receive()
        total += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = str(total).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def ws_echo(scope, receive, send):
    if scope["type"] == "http":  # the harness's "is it up" probe
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"3")]})
        await send({"type": "http.response.body", "body": b"ok\n"})
        return
    if scope["type"] != "websocket":
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})
