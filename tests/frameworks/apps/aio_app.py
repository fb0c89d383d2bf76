"""An aiohttp app for -k aiohttp: routes, JSON, request bodies, a streamed
response, a slow handler (it leaves a marker file in $FW_MARK_DIR when it
starts) and a handler that blocks the loop."""
import asyncio
import hashlib
import os
import time

from aiohttp import web


async def hello(request):
    return web.Response(text="hello from aiohttp")


async def echo_json(request):
    data = await request.json()
    return web.json_response({"got": data, "framework": "aiohttp"})


async def upload(request):
    body = await request.read()
    return web.json_response({"size": len(body), "sha256": hashlib.sha256(body).hexdigest()})


async def stream(request):
    resp = web.StreamResponse(headers={"Content-Type": "text/plain"})
    await resp.prepare(request)
    for i in range(5):
        await resp.write(f"chunk {i}\n".encode())
        await asyncio.sleep(0.01)
    await resp.write_eof()
    return resp


def mark(request):
    d = os.environ.get("FW_MARK_DIR")
    if d and "id" in request.query:
        with open(os.path.join(d, request.query["id"]), "w"):
            pass


async def slow(request):
    mark(request)
    await asyncio.sleep(float(request.query.get("s", "2")))
    return web.Response(text="slow done")


async def block(request):
    time.sleep(float(request.query.get("s", "2")))  # blocks the event loop on purpose
    return web.Response(text="unblocked")


async def boom(request):
    return web.Response(text=str(1 / 0))


async def pid(request):
    return web.Response(text=str(os.getpid()))


async def on_startup(app):
    await asyncio.sleep(float(os.environ.get("FW_STARTUP_DELAY", "0")))
    app["started_at"] = time.time()


async def started(request):
    return web.Response(text=repr(request.app["started_at"]))


def build():
    app = web.Application()
    app.on_startup.append(on_startup)
    app.router.add_get("/", hello)
    app.router.add_post("/json", echo_json)
    app.router.add_post("/upload", upload)
    app.router.add_get("/stream", stream)
    app.router.add_get("/slow", slow)
    app.router.add_get("/block", block)
    app.router.add_get("/pid", pid)
    app.router.add_get("/boom", boom)
    app.router.add_get("/started", started)
    return app


application = build()


def make_app():
    return build()


async def make_app_async():
    await asyncio.sleep(0)
    return build()


not_an_app = 42


def returns_wrong():
    return "not an app"


async def failing_startup(app):
    raise RuntimeError("database unreachable")


def make_failing_app():
    app = build()
    app.on_startup.append(failing_startup)
    return app
