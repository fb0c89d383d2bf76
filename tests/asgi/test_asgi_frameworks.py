"""Real ASGI frameworks on gworker -k asgi: Starlette, FastAPI
(examples/fastapi_app), Quart, Django's ASGI handler (examples/django_project)."""
from __future__ import annotations

import asyncio

import httpx
import pytest
import websockets

from asgi_support import serving
from gftest import source


@pytest.fixture(scope="module")
def starlette():
    with serving("framework_apps:starlette_app()") as (base, arb):
        yield base


@pytest.fixture(scope="module")
def fastapi():
    # Gunicorn users' worker class name works as it is.
    with serving("main:app", chdir=source("examples/fastapi_app"), workers=2,
                 worker_class="uvicorn.workers.UvicornWorker") as (base, arb):
        yield base


@pytest.fixture(scope="module")
def quart():
    with serving("framework_apps:quart_app()") as (base, arb):
        yield base


@pytest.fixture(scope="module")
def django():
    with serving("mysite.asgi:application", chdir=source("examples/django_project"),
                 ready_path="/hello") as (base, arb):
        yield base


def test_starlette(starlette):
    r = httpx.get(starlette + "/", timeout=10)
    assert r.status_code == 200 and r.text == "hello from starlette"
    r = httpx.post(starlette + "/echo?q=a%20b", content=b"x" * 100000, timeout=10)
    assert r.json() == {"len": 100000, "q": "a b", "path": "/echo", "started": True}
    with httpx.stream("GET", starlette + "/stream", timeout=10) as r:
        assert r.headers["transfer-encoding"] == "chunked"
        assert r.read() == b"".join(b"line %d\n" % i for i in range(5))
    assert httpx.get(starlette + "/missing", timeout=10).status_code == 404


def test_fastapi(fastapi):
    with httpx.Client(base_url=fastapi, timeout=10) as c:  # keep-alive
        assert c.get("/").json() == {"message": "Hello, World!"}
        assert c.get("/items/1").json() == {"id": 1, "name": "hammer", "price": 9.5}
        assert c.get("/items/99").status_code == 404
        r = c.post("/items", json={"name": "saw", "price": 12})
        assert r.status_code == 201 and r.json()["name"] == "saw"
        assert c.post("/items", json={"name": "saw"}).status_code == 422
        r = c.get("/stream?n=4")
        assert r.text == "".join(f"line {i}\n" for i in range(4))
        assert r.headers["transfer-encoding"] == "chunked"


def test_quart(quart):
    r = httpx.get(quart + "/", timeout=10)
    assert r.status_code == 200 and r.text == "hello from quart"
    r = httpx.post(quart + "/echo?q=a%20b", content=b"x" * 100000, timeout=10)
    assert r.json() == {"len": 100000, "q": "a b", "started": True}
    assert httpx.get(quart + "/missing", timeout=10).status_code == 404

    async def chat():
        async with websockets.connect(quart.replace("http://", "ws://") + "/ws") as ws:
            replies = []
            for text in ("one", "two"):
                await ws.send(text)
                replies.append(await asyncio.wait_for(ws.recv(), 10))
            return replies
    assert asyncio.run(chat()) == ["quart: one", "quart: two"]


def test_django_asgi(django):
    r = httpx.get(django + "/hello", timeout=10)
    assert r.status_code == 200 and r.text == "Hello, World!\n"
    info = httpx.get(django + "/api/info?k=v%20w", timeout=10).json()
    assert info["method"] == "GET" and info["path"] == "/api/info"
    assert info["query"] == {"k": "v w"}
    r = httpx.post(django + "/greet", data={"name": "Grace <3"}, timeout=10)
    assert r.status_code == 200 and "Grace &lt;3" in r.text
    assert httpx.post(django + "/greet", data={"name": ""}, timeout=10).status_code == 400


