"""The raw ASGI 3 hello world (no framework) for the asgi-hello scenario:
200 "Hello, World!\\n" with a Content-Length, as the WSGI hello."""

_HELLO = b"Hello, World!\n"
_START = {"type": "http.response.start", "status": 200,
          "headers": [(b"content-type", b"text/plain"), (b"content-length", b"14")]}
_BODY = {"type": "http.response.body", "body": _HELLO}


async def hello(scope, receive, send):
    if scope["type"] != "http":
        return  # no lifespan: both servers go on without it
    await send(_START)
    await send(_BODY)
