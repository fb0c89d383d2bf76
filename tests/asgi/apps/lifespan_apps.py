"""Lifespan variants for tests/asgi/test_asgi_lifespan.py."""
import asyncio
import os


async def _hello(send, body):
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})


async def slow_startup(scope, receive, send):
    """Startup takes a while and sets state; shutdown writes $GF_SHUTDOWN_FILE."""
    if scope["type"] == "lifespan":
        while True:
            m = await receive()
            if m["type"] == "lifespan.startup":
                await asyncio.sleep(1.0)
                scope["state"]["db"] = "connected"
                await send({"type": "lifespan.startup.complete"})
            else:
                with open(os.environ["GF_SHUTDOWN_FILE"], "a") as f:
                    f.write("shutdown\n")
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["path"] == "/sleep":
        with open(os.environ["GF_SHUTDOWN_FILE"], "a") as f:
            f.write("request started\n")
        await asyncio.sleep(2.0)
        with open(os.environ["GF_SHUTDOWN_FILE"], "a") as f:
            f.write("request done\n")
    await _hello(send, scope["state"].get("db", "none").encode())


async def failing_startup(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "database unreachable"})
        return
    await _hello(send, b"never")


async def raising_startup(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        raise RuntimeError("config missing")
    await _hello(send, b"served")


async def no_lifespan(scope, receive, send):
    """An app that does not speak lifespan (as many do)."""
    assert scope["type"] == "http", "only http"
    await _hello(send, b"plain")
