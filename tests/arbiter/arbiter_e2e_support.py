"""What arbiterd's end-to-end tests share: starting arbiterd with the test
worker, finding its workers, short temp dirs (unix socket paths are limited
to 107 bytes)."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

from gftest import PYTHON, Spawned, binary, children_of, source, wait_until

TESTWORKER = source("tests/support/testworker.py")


@pytest.fixture
def short_tmp():
    path = Path(tempfile.mkdtemp(prefix="gfa-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def arbiterd_argv(tmp: Path, args, worker_args=(), command=None) -> list[str]:
    """arbiterd ARGS -- python3 testworker.py WORKER_ARGS, with a private
    control socket so parallel tests never share one."""
    cmd = command if command is not None else [PYTHON, TESTWORKER, *worker_args]
    return [binary("arbiterd"), "--control-socket", str(tmp / "ctl.sock"), *args, "--", *cmd]


def start_arbiterd(tmp: Path, args, worker_args=(), command=None, **kw) -> Spawned:
    return Spawned(arbiterd_argv(tmp, args, worker_args, command), logdir=tmp / "logs", **kw)


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def workers_of(arb: Spawned, marker: str = "testworker.py") -> list[int]:
    """arbiterd's live worker processes (direct children running `marker`)."""
    return sorted(p for p in children_of(arb.pid) if marker in cmdline(p))


def wait_workers(arb: Spawned, count: int, timeout: float = 15.0, marker: str = "testworker.py",
                 exclude=()) -> list[int]:
    """Waits until exactly `count` workers run (none of them in `exclude`)."""
    def ready():
        if arb.poll() is not None:
            raise AssertionError(f"arbiterd exited with {arb.poll()}\n{arb.output()}")
        pids = workers_of(arb, marker)
        return pids if len(pids) == count and not set(pids) & set(exclude) else None
    return wait_until(ready, timeout=timeout, message=f"{count} workers")


def stop_and_check_exit(arb: Spawned, sig=signal.SIGTERM, timeout: float = 20.0) -> int:
    arb.remember_descendants()
    arb.signal(sig)
    code = arb.wait(timeout=timeout)
    return code


def assert_all_dead(pids, timeout: float = 10.0) -> None:
    from gftest import pid_alive
    wait_until(lambda: not [p for p in pids if pid_alive(p)], timeout=timeout,
               message=f"processes {list(pids)} to die")


def env_without_systemd() -> dict:
    env = dict(os.environ)
    for k in ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES", "NOTIFY_SOCKET", "WEB_CONCURRENCY"):
        env.pop(k, None)
    return env
