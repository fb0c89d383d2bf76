"""Fixtures for gworker's end-to-end tests: a real gworker serving the native
test app (tests/support/native_echo) on a free loopback port.

    def test_x(gworker):
        srv = gworker("--keep-alive", "1")      # extra gworker flags
        assert http_get(srv.port, "/").status == 200
"""

from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass

import pytest

from gftest import BUILD_DIR, Spawned, binary, free_port, http_get, wait_until

ECHO_LIB = BUILD_DIR / "tests/support/native_echo/libnative_echo.so"


def echo_spec(args: str = "") -> str:
    if not ECHO_LIB.exists():
        pytest.fail(f"{ECHO_LIB} is not built (target native_echo)")
    return f"native:{ECHO_LIB}" + (f"?{args}" if args else "")


@dataclass
class Server:
    port: int
    proc: Spawned

    @property
    def pid(self) -> int:
        return self.proc.pid


def wait_serving(port: int, timeout: float = 15.0) -> None:
    wait_until(lambda: http_get(port, "/status?code=204", timeout=2).status == 204,
               timeout=timeout, message=f"gworker answering on port {port}")


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture
def gworker(request, tmp_path):
    """Factory: starts gworker -b 127.0.0.1:<free port> FLAGS native:libnative_echo.so.

    Everything started is stopped at teardown; when the test failed, each
    server's stdout/stderr is printed.
    """
    started: list[Spawned] = []

    def start(*flags: str, app: str | None = None, wait: bool = True) -> Server:
        port = free_port()
        proc = Spawned([binary("gworker"), "-b", f"127.0.0.1:{port}", *flags,
                        app or echo_spec()], logdir=tmp_path)
        proc.start()
        started.append(proc)
        if wait:
            try:
                wait_serving(port)
            except Exception:
                sys.stderr.write(proc.output())
                raise
        return Server(port, proc)

    yield start
    failed = any(getattr(request.node, f"rep_{w}", None) is not None
                 and getattr(request.node, f"rep_{w}").failed for w in ("setup", "call"))
    for proc in started:
        if failed:
            sys.stderr.write(proc.output())
        with contextlib.suppress(Exception):
            proc.stop(timeout=5)
