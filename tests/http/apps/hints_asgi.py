"""An ASGI app for the 103 Early Hints tests (tests/http/test_early_hints.py)."""


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    path = scope["path"]
    ext = "http.response.early_hint" in scope.get("extensions", {})
    body = b"final ext=%d" % ext
    if path == "/informational":  # Gunicorn 25's message
        await send({"type": "http.response.informational", "status": 103,
                    "headers": [(b"link", b"</style.css>; rel=preload; as=style")]})
    elif path == "/bad":
        try:
            await send({"type": "http.response.early_hint",
                        "links": [b"</a.css>\r\nSet-Cookie: stolen=1"]})
            body = b"accepted"
        except ValueError as e:
            body = ("ValueError: %s" % e).encode()
    elif path == "/late":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        try:
            await send({"type": "http.response.early_hint", "links": [b"</x.css>; rel=preload"]})
            body = b"accepted"
        except RuntimeError as e:
            body = ("RuntimeError: %s" % e).encode()
        await send({"type": "http.response.body", "body": body})
        return
    else:
        await send({"type": "http.response.early_hint",
                    "links": [b"</style.css>; rel=preload; as=style",
                              b"</app.js>; rel=preload; as=script"]})
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"),
                            (b"content-length", b"%d" % len(body))]})
    await send({"type": "http.response.body", "body": body})
