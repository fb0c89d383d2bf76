"""Gunicorn's command lines, unchanged: `arbiterd [flags] APP` runs gworker
(found next to arbiterd) on the WSGI app and forwards the worker flags."""

from __future__ import annotations

from arbiter_e2e_support import cmdline, env_without_systemd, short_tmp, wait_workers  # noqa: F401
from gftest import Spawned, binary, free_port, http_get, source, wait_until


def test_one_liner_serves_hello_through_gworker_with_flags_forwarded(short_tmp):
    port = free_port()
    gworker = binary("gworker")
    argv = [binary("arbiterd"), "--control-socket", str(short_tmp / "ctl.sock"),
            "-w", "2", "-b", f"127.0.0.1:{port}", "--chdir", source("examples/hello"),
            "-k", "gthread", "--threads", "2", "--max-requests", "1000",
            "--limit-request-line", "4000", "--timeout", "20", "app:app"]
    with Spawned(argv, env=env_without_systemd(), logdir=short_tmp / "logs") as arb:
        workers = wait_workers(arb, 2, marker="gworker", timeout=30)
        wait_until(lambda: http_get(port).body == b"Hello, World!\n", timeout=30)
        line = cmdline(workers[0])
        assert line.startswith(f"{gworker} app:app "), line
        for flag in ("--worker-class gthread", "--threads 2", "--max-requests 1000",
                     "--limit-request-line 4000", "--timeout 20",
                     f"--chdir {source('examples/hello')}"):
            assert flag in line, (flag, line)


def test_one_liner_app_load_error_stops_arbiterd_with_the_message(short_tmp):
    port = free_port()
    argv = [binary("arbiterd"), "--control-socket", str(short_tmp / "ctl.sock"),
            "-w", "2", "-b", f"127.0.0.1:{port}", "--chdir", source("examples/hello"),
            "app:no_such_app"]
    with Spawned(argv, env=env_without_systemd(), logdir=short_tmp / "logs") as arb:
        code = arb.wait(timeout=30)
        assert code != 0
        assert "no_such_app" in arb.stderr_text()
