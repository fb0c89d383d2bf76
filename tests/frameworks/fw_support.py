"""What the -k tornado / -k aiohttp tests share: the app flavours, gworker
run alone with a notify socket of ours, arbiterd running a pool."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from gftest import Spawned, binary, free_port, http_get, wait_until

APPS = Path(__file__).resolve().parent / "apps"

# (worker class, app spec): an aiohttp Application, a tornado Application,
# a WSGI app through tornado's WSGIContainer.
FLAVOURS = [("aiohttp", "aio_app:application"),
            ("tornado", "tornado_app:application"),
            ("tornado", "tornado_app:wsgi_app")]
FLAVOUR_IDS = ["aiohttp", "tornado", "tornado-wsgi"]


def answers(port: int) -> bool:
    try:
        return http_get(port, "/", timeout=2).status == 200
    except OSError:
        return False


class Notify:
    """A datagram socket gworker's NOTIFY_SOCKET points at; keeps every
    datagram with its arrival time."""

    def __init__(self, directory: str):
        self.path = f"{directory}/notify.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.setblocking(False)
        self.got: list[tuple[float, dict]] = []

    def drain(self) -> list[tuple[float, dict]]:
        for _ in range(10000):
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                break
            fields = dict(line.split("=", 1) for line in data.decode().split("\n") if "=" in line)
            self.got.append((time.monotonic(), fields))
        return self.got

    def has(self, key: str, value: str | None = None) -> bool:
        return any(key in f and (value is None or f[key] == value) for _, f in self.drain())

    def beats(self) -> list[tuple[float, dict]]:
        return [(t, f) for t, f in self.drain() if f.get("WATCHDOG") == "1"]

    def statuses(self) -> list[str]:
        return [f["STATUS"] for _, f in self.drain() if "STATUS" in f]


@contextlib.contextmanager
def short_dir():
    d = tempfile.mkdtemp(prefix="gffw", dir="/tmp")
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


@contextlib.contextmanager
def gworker(worker_class: str, spec: str, *args: str, extra_env: dict | None = None,
            wait_ready: bool = True):
    """gworker -k CLASS -b 127.0.0.1:PORT --chdir APPS SPEC, alone, with a
    notify socket; yields (proc, port, notify, dir)."""
    port = free_port()
    with short_dir() as d:
        notify = Notify(d)
        env = dict(os.environ, NOTIFY_SOCKET=notify.path, FW_MARK_DIR=d, **(extra_env or {}))
        env.pop("LISTEN_FDS", None)
        with Spawned([binary("gworker"), "-k", worker_class, "-b", f"127.0.0.1:{port}",
                      "--chdir", str(APPS), *args, spec], env=env) as proc:
            if wait_ready:
                def ready():
                    if proc.poll() is not None:
                        raise AssertionError(f"gworker exited {proc.poll()}:\n{proc.output()}")
                    return notify.has("READY", "1")
                wait_until(ready, timeout=30, message="READY=1")
            yield proc, port, notify, d
        notify.sock.close()


def run_gworker_to_exit(worker_class: str, spec: str, *args: str) -> tuple[int, str, list[str]]:
    """gworker on an app that must fail: (exit code, output, STATUS= lines)."""
    with gworker(worker_class, spec, *args, wait_ready=False) as (proc, _, notify, _d):
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"gworker kept running:\n{proc.output()}") from None
        return code, proc.output(), notify.statuses()


@contextlib.contextmanager
def arbiter(worker_class: str, spec: str, *args: str, workers: int = 2,
            extra_env: dict | None = None):
    """arbiterd -w N -k CLASS --chdir APPS [args] SPEC; yields (proc, port,
    control socket) once a worker answers."""
    port = free_port()
    with short_dir() as d:
        ctl = f"{d}/ctl.sock"
        with Spawned([binary("arbiterd"), "--control-socket", ctl, "-w", str(workers),
                      "-k", worker_class, "-b", f"127.0.0.1:{port}", "--chdir", str(APPS),
                      *args, spec], extra_env=dict(extra_env or {}, FW_MARK_DIR=d)) as arb:
            def ready():
                if arb.poll() is not None:
                    raise AssertionError(f"arbiterd exited {arb.poll()}:\n{arb.output()}")
                return answers(port)
            wait_until(ready, timeout=60, message=f"{spec} serving on {port}")
            yield arb, port, ctl
