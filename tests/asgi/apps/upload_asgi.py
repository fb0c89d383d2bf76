"""An ASGI app for the upload tests (tests/asgi/test_asgi_upload.py): the
request body as the app's receive() sees it."""
import asyncio
import hashlib
import json

EVENTS = []
_release = None


async def _reply(send, body, status=200):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def _digest(receive):
    """sha256, length, message count of the body; disconnected: True when
    http.disconnect came before the end."""
    h, length, messages = hashlib.sha256(), 0, 0
    while True:
        m = await receive()
        if m["type"] == "http.disconnect":
            return {"sha256": h.hexdigest(), "length": length, "messages": messages,
                    "disconnected": True}
        body = m.get("body", b"")
        if not isinstance(body, bytes):
            raise TypeError("http.request body is %s, not bytes" % type(body).__name__)
        h.update(body)
        length += len(body)
        messages += 1
        if not m.get("more_body", False):
            return {"sha256": h.hexdigest(), "length": length, "messages": messages,
                    "disconnected": False}


async def app(scope, receive, send):
    global _release
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/digest":
        got = await _digest(receive)
        EVENTS.append({"digest": got})
        await _reply(send, json.dumps(got).encode())
    elif path == "/hold":
        # Reads nothing until /release: the body must stay with the client.
        _release = asyncio.get_running_loop().create_future()
        EVENTS.append({"hold": "waiting"})
        await _release
        await _reply(send, json.dumps(await _digest(receive)).encode())
    elif path == "/release":
        if _release is not None and not _release.done():
            _release.set_result(None)
        await _reply(send, b"{}")
    elif path == "/events":
        await _reply(send, json.dumps(EVENTS).encode())
    else:
        await _reply(send, b"{}")
