"""gctl for scripts and people watching: --json with 64-bit counters as
JSON numbers (jq adds them up), and `gctl top -n N`."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from gftest import binary, wait_until
from metrics_support import Arbiter, short_tmp, value  # noqa: F401


def gctl(arb: Arbiter, *args, timeout: float = 60) -> subprocess.CompletedProcess:
    argv = [binary("gctl"), "--socket", str(arb.tmp / "ctl.sock"), *[str(a) for a in args]]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def status_json(arb: Arbiter) -> dict:
    r = gctl(arb, "--json", "status")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_json_counters_are_numbers(short_tmp):
    with Arbiter(short_tmp, workers=2) as arb:
        wait_until(lambda: value(arb.samples(), "greenfork_workers", pool="main", state="ready") == 2,
                   timeout=30, message="2 READY workers")
        for _ in range(9):
            arb.serve("/")

        def served() -> int:
            return sum(w["requests_served"] for p in status_json(arb)["pools"] for w in p["workers"])
        wait_until(lambda: served() == 9, timeout=20, message="9 requests served in gctl --json status")
        s = status_json(arb)
        for p in s["pools"]:
            assert type(p["restarts"]) is int and type(p["reloads"]) is int
            for w in p["workers"]:
                for key in ("requests_served", "rss_bytes"):
                    assert type(w[key]) is int, (key, w[key])
                assert w["rss_bytes"] > 0
                assert type(w["cpu_seconds"]) is float and w["cpu_seconds"] >= 0
                assert w["state"] == "WORKER_STATE_READY"
        if shutil.which("jq"):
            r = gctl(arb, "--json", "status")
            total = subprocess.run(["jq", "[.pools[].workers[].requests_served] | add"], input=r.stdout,
                                   capture_output=True, text=True, timeout=30)
            assert total.returncode == 0, total.stderr
            assert total.stdout.strip() == "9"


def test_top_prints_frames_and_quits_on_q(short_tmp):
    with Arbiter(short_tmp, workers=2) as arb:
        wait_until(lambda: value(arb.samples(), "greenfork_workers", pool="main", state="ready") == 2,
                   timeout=30, message="2 READY workers")
        for _ in range(6):
            arb.serve("/")
        pids = arb.worker_pids(arb.samples())

        # Not a terminal: -n 2 prints two plain frames and exits 0.
        r = gctl(arb, "top", "-n", "2", "-d", "0.5", "-s", "pid")
        assert r.returncode == 0, r.stderr
        assert "\x1b" not in r.stdout
        frames = [f for f in r.stdout.split("arbiterd pid ") if f]
        assert len(frames) == 2, r.stdout
        for frame in frames:
            assert "POOL" in frame and "CPU%" in frame and "REQ/S" in frame and "IN FLIGHT" in frame
            rows = [line.split() for line in frame.splitlines()[1:] if line.split() and line.split()[0].isdigit()]
            assert [int(row[0]) for row in rows] == sorted(pids), frame  # -s pid: ascending
            assert all(row[1] == "main" and row[3] == "ready" for row in rows)

        for bad in (("-n", "0"), ("-s", "colour"), ("-d", "0")):
            r = gctl(arb, "top", *bad)
            assert r.returncode == 2 and "top:" in r.stderr, (bad, r.stderr)

        # On a terminal: the alternate screen, 'q' quits and restores it.
        import os
        import pty
        import select
        import time
        pid, fd = pty.fork()
        if pid == 0:
            import fcntl
            import struct
            import termios
            fcntl.ioctl(1, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
            os.execv(binary("gctl"), [binary("gctl"), "--socket", str(arb.tmp / "ctl.sock"), "top", "-d", "0.2"])
        out = b""
        deadline = time.monotonic() + 30
        try:
            while b"(q quits)" not in out and time.monotonic() < deadline:
                if select.select([fd], [], [], 0.5)[0]:
                    out += os.read(fd, 65536)
            assert b"\x1b[?1049h" in out and str(pids[0]).encode() in out, out[-2000:]
            os.write(fd, b"q")
            _, status = wait_pid(pid, deadline)
            try:
                while select.select([fd], [], [], 0.2)[0]:
                    out += os.read(fd, 65536)
            except OSError:
                pass  # the pty closed with gctl
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
            assert out.rstrip().endswith(b"\x1b[?1049l"), out[-200:]
        finally:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
            os.close(fd)


def wait_pid(pid: int, deadline: float):
    import os
    import time
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return done, status
        time.sleep(0.05)
    raise AssertionError("gctl top did not quit on q")
