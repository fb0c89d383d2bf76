"""Gunicorn's --reload-extra-file with --reload: files other than the app's
modules (templates, configs) restart the worker when they change; patterns
are globs (** recursive), expanded again at each poll so that a file created
later is watched too. Forwarded by arbiterd to gworker."""

from __future__ import annotations

import os

from arbiter_e2e_support import env_without_systemd, short_tmp, wait_workers  # noqa: F401
from gftest import Spawned, binary, free_port, http_get, wait_until

APP = '''
import glob

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [TEXT]

TEXT = b"".join(open(p, "rb").read() for p in sorted(glob.glob("templates/**/*.txt", recursive=True)))
'''


def touch_write(path, text: str) -> None:
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    # Some filesystems keep a coarse mtime: make the change visible.
    if path.stat().st_mtime_ns == before:
        os.utime(path, ns=(before + 1_000_000_000, before + 1_000_000_000))


def test_reload_extra_file_globs_restart_the_worker(short_tmp):
    (short_tmp / "templates" / "sub").mkdir(parents=True)
    (short_tmp / "live.py").write_text(APP)
    page = short_tmp / "templates" / "page.txt"
    page.write_text("one\n")
    port = free_port()
    env = env_without_systemd()
    env.pop("GUNICORN_CMD_ARGS", None)
    argv = [binary("arbiterd"), "--control-socket", str(short_tmp / "ctl.sock"), "-w", "1",
            "-b", f"127.0.0.1:{port}", "--chdir", str(short_tmp), "--reload",
            "--reload-extra-file", "templates/**/*.txt", "--reload-extra-file", "nothing-*.cfg", "live:app"]
    with Spawned(argv, env=env, logdir=short_tmp / "logs") as arb:
        first = wait_workers(arb, 1, marker="gworker", timeout=60)
        wait_until(lambda: http_get(port).body == b"one\n", timeout=30)
        touch_write(page, "two\n")
        wait_until(lambda: http_get(port).body == b"two\n", timeout=30, message="reload on the edited template")
        second = wait_workers(arb, 1, marker="gworker", exclude=first, timeout=30)
        # A file created after start matches the glob: from the next poll on it is watched.
        late = short_tmp / "templates" / "sub" / "late.txt"
        late.write_text("late\n")

        def late_served():
            touch_write(late, "late\n")  # an edit after it was first seen restarts the worker
            return http_get(port).body == b"two\nlate\n"
        wait_until(late_served, timeout=30, interval=0.5, message="reload on the file created later")
        wait_workers(arb, 1, marker="gworker", exclude=second, timeout=30)
        assert arb.poll() is None
