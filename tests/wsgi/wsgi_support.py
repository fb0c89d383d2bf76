"""What the WSGI end-to-end tests share: starting arbiterd + gworker on an
app from tests/wsgi/apps or examples/, and small HTTP helpers."""
from __future__ import annotations

import contextlib
import shutil
import socket
import tempfile
import time
from pathlib import Path

import gftest
from gftest import Spawned, binary, free_port, http_request, wait_until

APPS = Path(__file__).resolve().parent / "apps"


@contextlib.contextmanager
def serving(spec: str, *args: str, chdir: str | Path = APPS, workers: int = 1,
            extra_env: dict | None = None, ready_path: str = "/", timeout: float = 30):
    """arbiterd -w N -b 127.0.0.1:PORT --chdir DIR [args] SPEC; yields (port, arbiterd).
    arbiterd.control_socket is its control socket's path."""
    port = free_port()
    with control_socket() as ctl, \
            Spawned([binary("arbiterd"), "--control-socket", ctl, "-w", str(workers),
                     "-b", f"127.0.0.1:{port}", "--chdir", str(chdir), *args, spec],
                    extra_env=extra_env) as arb:
        arb.control_socket = ctl

        def ready():
            if arb.poll() is not None:
                raise AssertionError(f"arbiterd exited {arb.poll()}:\n{arb.output()}")
            return http_request(port, ready_path, timeout=2).status < 500
        wait_until(ready, timeout=timeout, message=f"{spec} serving on {port}")
        yield port, arb


@contextlib.contextmanager
def control_socket():
    """A private control socket path (short: unix paths max out at 108 bytes)."""
    d = tempfile.mkdtemp(prefix="gfwsgi", dir="/tmp")
    try:
        yield f"{d}/ctl.sock"
    finally:
        shutil.rmtree(d, ignore_errors=True)


def get(port: int, path: str, **kw):
    return http_request(port, path, "GET", **kw)


def raw(port: int, data: bytes, timeout: float = 10.0) -> bytes:
    """Sends bytes, reads until the server closes (or the timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                c = s.recv(65536)
            except socket.timeout:
                break
            if not c:
                break
            chunks.append(c)
        return b"".join(chunks)


def worker_pids(arb: Spawned) -> list[int]:
    arb.remember_descendants()
    return gftest.worker_pids(arb.pid)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")
