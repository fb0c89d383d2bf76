"""WebSocket apps for tests/asgi/test_websocket.py: a raw ASGI app whose
path picks the behaviour, and a Starlette WebSocket endpoint."""
import asyncio
import json
import os

DISCONNECTS = []  # websocket.disconnect messages the echo app saw
FLOOD = {"sent": 0, "done": False}  # /flood's progress
GO = []  # /lazy's asyncio.Event, set by GET /go


async def _lifespan(receive, send):
    while True:
        message = await receive()
        await send({"type": message["type"] + ".complete"})
        if message["type"] == "lifespan.shutdown":
            return


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return await _lifespan(receive, send)
    if scope["type"] == "http" and scope["path"] == "/go":
        GO[0].set()
    if scope["type"] == "http":
        body = json.dumps(DISCONNECTS if scope["path"] == "/events" else
                          FLOOD if scope["path"] == "/flood" else "ok").encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})
        return
    path = scope["path"]
    assert (await receive())["type"] == "websocket.connect"
    if path == "/refuse":
        await send({"type": "websocket.close", "code": 1000})
        return
    if path == "/fail-before":
        raise RuntimeError("failing before websocket.accept")
    if path == "/bad-subprotocol":
        await send({"type": "websocket.accept", "subprotocol": "never-offered"})
        return
    chosen = "chat" if "chat" in scope["subprotocols"] else None
    await send({"type": "websocket.accept", "subprotocol": chosen,
                "headers": [(b"x-extra", b"yes"), (b"x-pid", str(os.getpid()).encode())]})
    if path == "/scope":
        fields = {k: scope[k] for k in ("type", "http_version", "scheme", "path", "root_path",
                                         "subprotocols", "asgi")}
        fields.update(raw_path=scope["raw_path"].decode(), query=scope["query_string"].decode(),
                      client=list(scope["client"]), server=list(scope["server"]),
                      headers=[[k.decode(), v.decode()] for k, v in scope["headers"]],
                      method="method" in scope, state="state" in scope, pid=os.getpid())
        await send({"type": "websocket.send", "text": json.dumps(fields)})
    elif path == "/close":
        await send({"type": "websocket.close", "code": 4001, "reason": "bye"})
    elif path == "/fail-after":
        raise RuntimeError("failing after websocket.accept")
    elif path == "/lazy":  # receives nothing until GET /go, then counts
        GO.append(asyncio.Event())
        await GO[0].wait()
        count = 0
        while (await receive()).get("text") != "end":
            count += 1
        await send({"type": "websocket.send", "text": str(count)})
    elif path == "/flood":  # 1 MiB messages as fast as send() lets it
        chunk = os.urandom(1 << 20)
        for _ in range(100):
            await send({"type": "websocket.send", "bytes": chunk})
            FLOOD["sent"] += 1
        FLOOD["done"] = True
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            DISCONNECTS.append({"path": path, "code": message["code"],
                                "reason": message.get("reason", "")})
            return
        if message.get("text") == "close-me":
            await send({"type": "websocket.close", "code": 4002, "reason": "as asked"})
        elif message.get("text") == "pid":
            await send({"type": "websocket.send", "text": str(os.getpid())})
        elif message.get("text") is not None:
            await send({"type": "websocket.send", "text": message["text"]})
        else:
            await send({"type": "websocket.send", "bytes": message["bytes"]})


def starlette_app():
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocketDisconnect

    async def home(request):
        return PlainTextResponse("ok")

    async def chat(websocket):
        await websocket.accept()
        try:
            while True:
                text = await websocket.receive_text()
                await websocket.send_json({"echo": text, "room": websocket.path_params["room"]})
        except WebSocketDisconnect:
            pass

    return Starlette(routes=[Route("/", home), WebSocketRoute("/chat/{room}", chat)])
