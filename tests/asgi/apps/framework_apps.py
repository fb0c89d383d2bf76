"""Starlette, Quart and Django ASGI apps for tests/asgi/test_asgi_frameworks.py."""
import contextlib
import os


def starlette_app():
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
    from starlette.routing import Route

    async def home(request):
        return PlainTextResponse("hello from starlette")

    async def echo(request):
        body = await request.body()
        return JSONResponse({"len": len(body), "q": request.query_params.get("q"),
                             "path": request.url.path, "started": request.app.state.started})

    async def stream(request):
        async def gen():
            for i in range(5):
                yield f"line {i}\n"
        return StreamingResponse(gen(), media_type="text/plain")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        app.state.started = True
        yield

    return Starlette(routes=[Route("/", home), Route("/echo", echo, methods=["POST"]),
                             Route("/stream", stream)], lifespan=lifespan)


def quart_app():
    from quart import Quart, request, websocket

    app = Quart("greenfork_test")
    app.config["started"] = False

    @app.before_serving
    async def startup():
        app.config["started"] = True

    @app.route("/")
    async def home():
        return "hello from quart"

    @app.route("/echo", methods=["POST"])
    async def echo():
        body = await request.get_data()
        return {"len": len(body), "q": request.args.get("q"), "started": app.config["started"]}

    @app.websocket("/ws")
    async def ws():
        while True:
            message = await websocket.receive()
            await websocket.send("quart: " + message)

    return app


def django_app():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    from mysite.asgi import application
    return application
