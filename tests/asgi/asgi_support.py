"""What the ASGI end-to-end tests share: arbiterd -k asgi on an app from
tests/asgi/apps (or examples/), httpx clients, and polling the app's
/events."""
from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from pathlib import Path

import httpx
import pytest

from gftest import Spawned, binary, free_port, wait_until

APPS = Path(__file__).resolve().parent / "apps"


@contextlib.contextmanager
def control_socket():
    d = tempfile.mkdtemp(prefix="gfasgi", dir="/tmp")
    try:
        yield f"{d}/ctl.sock"
    finally:
        shutil.rmtree(d, ignore_errors=True)


@contextlib.contextmanager
def serving(spec: str, *args: str, chdir: str | Path = APPS, workers: int = 1,
            worker_class: str = "asgi", extra_env: dict | None = None, ready_path: str = "/",
            timeout: float = 30):
    """arbiterd -w N -k CLASS -b 127.0.0.1:PORT --chdir DIR [args] SPEC;
    yields (base_url, arbiterd) once it answers."""
    port = free_port()
    with control_socket() as ctl, \
            Spawned([binary("arbiterd"), "--control-socket", ctl, "-w", str(workers),
                     "-k", worker_class, "-b", f"127.0.0.1:{port}", "--chdir", str(chdir),
                     *args, spec], extra_env=extra_env) as arb:
        arb.port = port
        base = f"http://127.0.0.1:{port}"

        def ready():
            if arb.poll() is not None:
                raise AssertionError(f"arbiterd exited {arb.poll()}:\n{arb.output()}")
            try:
                return httpx.get(base + ready_path, timeout=2).status_code < 500
            except httpx.TransportError:
                return False
        wait_until(ready, timeout=timeout, message=f"{spec} serving on {port}")
        yield base, arb
        # A sanitizer build's worker that trips reports it here (arbiterd
        # would just respawn it).
        out = arb.output()
        assert "ERROR: AddressSanitizer" not in out and "runtime error:" not in out, out


def run_to_exit(spec: str, *args: str, chdir: str | Path = APPS, timeout: float = 30):
    """arbiterd -k asgi on an app that must fail: (exit code, output)."""
    port = free_port()
    with control_socket() as ctl, \
            Spawned([binary("arbiterd"), "--control-socket", ctl, "-w", "2", "-k", "asgi",
                     "-b", f"127.0.0.1:{port}", "--chdir", str(chdir), *args, spec]) as arb:
        try:
            code = arb.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"arbiterd kept running with a failing app:\n{arb.output()}")
        return code, arb.stderr_text() + arb.stdout_text()


def events(base: str) -> list:
    return httpx.get(base + "/events", timeout=5).json()


def wait_for_event(base: str, event: dict, timeout: float = 15) -> None:
    wait_until(lambda: event in events(base), timeout=timeout,
               message=f"the app to record {event}")
