"""Issue 14, fault 1: a gworker hung while importing its app must never be
reported READY. arbiterd knows gworker says READY=1 once its app is loaded,
so it waits for that message (no 1 s fallback), kills the worker at
--boot-timeout, and rolls a reload onto such workers back: `gctl reload
--wait` exits 1 and the old workers keep serving."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "arbiter"))

from arbiter_e2e_support import env_without_systemd, short_tmp, wait_workers  # noqa: E402,F401
from gftest import Spawned, binary, free_port, http_get, wait_until  # noqa: E402

# An app whose import blocks for as long as the marker file exists: the
# "release that hangs at import" of the probe.
APP = '''
import os, time
_marker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "hang-at-import")
while os.path.exists(_marker):
    time.sleep(0.05)

def app(environ, start_response):
    body = ("pid %d\\n" % os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
'''

BOOT_TIMEOUT = 3


def write_app(tmp: Path) -> Path:
    appdir = tmp / "app"
    appdir.mkdir()
    (appdir / "hangapp.py").write_text(APP)
    return appdir


def arbiterd(tmp: Path, appdir: Path, port: int, workers: int = 2) -> Spawned:
    argv = [binary("arbiterd"), "--control-socket", str(tmp / "ctl.sock"),
            "-w", str(workers), "-b", f"127.0.0.1:{port}", "--chdir", str(appdir),
            "--boot-timeout", str(BOOT_TIMEOUT), "hangapp:app"]
    return Spawned(argv, env=env_without_systemd(), logdir=tmp / "logs")


def gctl(tmp: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([binary("gctl"), "--socket", str(tmp / "ctl.sock"), *args],
                          capture_output=True, text=True, timeout=timeout)


def pool_status(tmp: Path) -> dict:
    r = gctl(tmp, "--json", "status")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["pools"][0]


def ready_pids(tmp: Path) -> set[int]:
    return {w["pid"] for w in pool_status(tmp)["workers"] if w["state"] == "WORKER_STATE_READY"}


def served_by(port: int) -> int:
    body = http_get(port, "/", timeout=5).body.decode()
    assert body.startswith("pid "), body
    return int(body.split()[1])


def test_reload_onto_a_release_that_hangs_at_import_is_rolled_back(short_tmp):
    appdir = write_app(short_tmp)
    port = free_port()
    with arbiterd(short_tmp, appdir, port) as arb:
        old = set(wait_workers(arb, 2, marker="gworker", timeout=30))
        wait_until(lambda: ready_pids(short_tmp) == old, timeout=30, message="2 READY workers")
        wait_until(lambda: served_by(port) in old, timeout=30)
        (appdir / "hang-at-import").write_text("hang")
        reload = gctl(short_tmp, "reload", "--wait", timeout=BOOT_TIMEOUT + 60)
        assert reload.returncode == 1, (reload.returncode, reload.stdout, reload.stderr)
        assert "rolled back" in reload.stderr, reload.stderr
        # The old workers were never replaced and still answer.
        assert ready_pids(short_tmp) == old
        for _ in range(10):
            assert served_by(port) in old
        assert "not READY within boot_timeout" in arb.stderr_text()


def test_first_start_with_a_hanging_import_never_reports_ready(short_tmp):
    appdir = write_app(short_tmp)
    (appdir / "hang-at-import").write_text("hang")
    port = free_port()
    with arbiterd(short_tmp, appdir, port, workers=1) as arb:
        [first] = wait_workers(arb, 1, marker="gworker", timeout=30)
        # Past the old 1 s fallback and past --boot-timeout: the hung worker
        # is killed and replaced, and nothing was ever READY.
        wait_workers(arb, 1, marker="gworker", timeout=BOOT_TIMEOUT + 30, exclude=[first])
        log = arb.stderr_text()
        assert "not READY within boot_timeout" in log, log
        assert "Worker ready" not in log and "All pools ready" not in log, log
        assert pool_status(short_tmp)["ready"] == 0
