"""examples/mixed.toml end to end: the Python and the Node.js pools serve on
their ports, survive kill -9 of a worker with at most the request in flight
failing, and reload on HUP with no failed request."""

from __future__ import annotations

import os
import re
import shutil
import signal

import pytest

from arbiter_e2e_support import env_without_systemd, short_tmp, wait_workers  # noqa: F401
from gftest import RequestLoop, Spawned, binary, free_port, http_get, source, wait_until

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def mixed_config(tmp) -> tuple[str, int, int]:
    """examples/mixed.toml on free ports, runnable from a temp dir."""
    py_port, node_port = free_port(), free_port()
    text = open(source("examples/mixed.toml")).read()
    text = text.replace('bind = ["127.0.0.1:8001"]', f'bind = ["127.0.0.1:{py_port}"]')
    text = text.replace('bind = ["127.0.0.1:8002"]', f'bind = ["127.0.0.1:{node_port}"]')
    text = text.replace('cwd = "workers"', f'cwd = "{source("examples/workers")}"')
    assert f":{py_port}\"]" in text and f":{node_port}\"]" in text
    path = tmp / "mixed.toml"
    path.write_text(text)
    return str(path), py_port, node_port


def test_mixed_pools_serve_survive_kill_and_reload(short_tmp):
    path, py_port, node_port = mixed_config(short_tmp)
    with Spawned([binary("arbiterd"), "-c", path, "--control-socket", str(short_tmp / "ctl.sock")],
                  env=env_without_systemd(), logdir=short_tmp / "logs") as arb:
        py_workers = wait_workers(arb, 2, marker="py_worker.py", timeout=20)
        node_workers = wait_workers(arb, 2, marker="node_worker.js", timeout=20)
        wait_until(lambda: b"Python worker" in http_get(py_port).body, timeout=15)
        wait_until(lambda: b"Node.js worker" in http_get(node_port).body, timeout=15)

        # kill -9 of any worker: at most the request in flight fails.
        for port, victim, marker in ((py_port, py_workers[0], "py_worker.py"),
                                     (node_port, node_workers[0], "node_worker.js")):
            with RequestLoop(port, max_seconds=30) as loop:
                wait_until(lambda: loop.ok > 20, timeout=10)
                os.kill(victim, signal.SIGKILL)
                wait_workers(arb, 2, marker=marker, exclude=[victim], timeout=20)
                before = loop.ok
                wait_until(lambda: loop.ok > before + 20, timeout=10)
            assert len(loop.failures) <= 1, loop.failures

        # HUP: both pools roll over, no request fails on either.
        old_py, old_node = wait_workers(arb, 2, marker="py_worker.py"), wait_workers(arb, 2, marker="node_worker.js")
        with RequestLoop(py_port, max_seconds=60) as py_loop, RequestLoop(node_port, max_seconds=60) as node_loop:
            wait_until(lambda: py_loop.ok > 20 and node_loop.ok > 20, timeout=10)
            arb.signal(signal.SIGHUP)
            wait_workers(arb, 2, marker="py_worker.py", exclude=old_py, timeout=40)
            wait_workers(arb, 2, marker="node_worker.js", exclude=old_node, timeout=40)
            before = (py_loop.ok, node_loop.ok)
            wait_until(lambda: py_loop.ok > before[0] + 20 and node_loop.ok > before[1] + 20, timeout=10)
        assert py_loop.failures == [], py_loop.failures[:5]
        assert node_loop.failures == [], node_loop.failures[:5]
        assert re.search(r"pid \d+", http_get(node_port).body.decode())
