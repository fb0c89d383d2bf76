"""-k asgi's names and options through arbiterd: the uvicorn worker class
names Gunicorn users have, --asgi-loop, and what is refused."""
from __future__ import annotations

import httpx
import pytest

from asgi_support import run_to_exit, serving


@pytest.mark.parametrize("worker_class", ["uvicorn.workers.UvicornWorker",
                                          "uvicorn.workers.UvicornH11Worker",
                                          "uvicorn_worker.UvicornWorker"])
def test_uvicorn_worker_classes_mean_asgi(worker_class):
    with serving("lifespan_apps:no_lifespan", worker_class=worker_class) as (base, arb):
        assert httpx.get(base + "/", timeout=10).text == "plain"
        assert "serving ASGI app lifespan_apps:no_lifespan" in arb.output()


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_asgi_loop_choice(loop):
    with serving("raw_asgi:app", "--asgi-loop", loop, "--log-level", "debug") as (base, arb):
        assert httpx.get(base + "/", timeout=10).json() == {"hello": "world"}
        want = "uvloop" if loop == "uvloop" else "asyncio"
        assert f"ASGI loop: {want}" in arb.output(), arb.output()


def test_a_missing_asgi_module_stops_arbiterd_with_the_import_error():
    code, output = run_to_exit("no_such_asgi_module:app")
    assert code != 0
    assert "No module named 'no_such_asgi_module'" in output, output
