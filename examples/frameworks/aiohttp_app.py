"""An aiohttp app for `arbiterd -k aiohttp` (aiohttp's own HTTP server),
built by a factory as aiohttp's Gunicorn worker takes it."""
from aiohttp import web


async def hello(request):
    return web.Response(text="hello from aiohttp\n")


async def echo(request):
    return web.json_response({"size": len(await request.read())})


def make_app():
    app = web.Application()
    app.add_routes([web.get("/", hello), web.post("/echo", echo)])
    return app
