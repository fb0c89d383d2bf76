"""HTTP extension apps for tests/asgi/test_asgi_extensions.py:
http.response.pathsend (the query string is the file's path) and
http.response.trailers."""
import json
from urllib.parse import unquote


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    path = scope["path"]
    if path == "/extensions":
        body = json.dumps(scope["extensions"]).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})
    elif path == "/file":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/octet-stream")]})
        await send({"type": "http.response.pathsend",
                    "path": unquote(scope["query_string"].decode())})
    elif path == "/trailers":  # streamed, then trailers
        await send({"type": "http.response.start", "status": 200, "trailers": True,
                    "headers": [(b"trailer", b"x-checksum, x-count")]})
        await send({"type": "http.response.body", "body": b"hello ", "more_body": True})
        await send({"type": "http.response.body", "body": b"world"})
        await send({"type": "http.response.trailers",
                    "headers": [(b"x-checksum", b"abc123")], "more_trailers": True})
        await send({"type": "http.response.trailers", "headers": [(b"x-count", b"2")]})
    elif path == "/trailers-whole":  # one body message, then trailers
        await send({"type": "http.response.start", "status": 200, "trailers": True,
                    "headers": []})
        await send({"type": "http.response.body", "body": b"whole"})
        await send({"type": "http.response.trailers", "headers": [(b"x-done", b"yes")]})
    elif path == "/trailers-bad":  # trailers without having said so: the app fails
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x", "more_body": True})
        await send({"type": "http.response.trailers", "headers": [(b"x-late", b"1")]})
    else:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
