"""Issue 14: a port nobody will serve refuses connections instead of letting
them hang in a backlog. A pool that failed (its workers exit 4) has its
listeners closed in arbiterd while the other pools keep serving, and
reopened when a reload brings it back; on a graceful TERM arbiterd closes
its copies at once, so new clients are refused while an in-flight request
still completes."""

from __future__ import annotations

import json
import signal
import socket
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "arbiter"))

from arbiter_e2e_support import (TESTWORKER, env_without_systemd, short_tmp,  # noqa: E402,F401
                                 start_arbiterd, wait_workers)
from gftest import PYTHON, Spawned, binary, free_port, http_get, wait_until  # noqa: E402


def refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def write_pools(path: Path, good_port: int, bad_port: int, bad_args: list[str]) -> None:
    def command(args):
        return json.dumps([PYTHON, TESTWORKER, *args])
    path.write_text(f"""
[pools.good]
command = {command([])}
workers = 1
bind = ["127.0.0.1:{good_port}"]

[pools.bad]
command = {command(bad_args)}
workers = 1
bind = ["127.0.0.1:{bad_port}"]
""")


def test_a_failed_pools_port_refuses_and_a_reload_that_fixes_it_listens_again(short_tmp):
    good, bad = free_port(), free_port()
    config = short_tmp / "pools.toml"
    write_pools(config, good, bad, ["--exit", "4", "--status", "cannot import app"])
    argv = [binary("arbiterd"), "-c", str(config), "--control-socket", str(short_tmp / "ctl.sock")]
    with Spawned(argv, env=env_without_systemd(), logdir=short_tmp / "logs") as arb:
        wait_until(lambda: http_get(good, "/").status == 200, timeout=30)
        wait_until(lambda: "pool [bad] FAILED" in arb.stderr_text(), timeout=30)
        wait_until(lambda: refused(bad), timeout=10, message="the failed pool's port to refuse")
        for _ in range(5):
            assert http_get(good, "/").status == 200
            assert refused(bad)
        assert arb.poll() is None
        # The release is fixed: HUP re-reads the file, the pool comes back.
        write_pools(config, good, bad, [])
        arb.signal(signal.SIGHUP)
        wait_until(lambda: http_get(bad, "/").status == 200, timeout=30,
                   message="the reloaded pool to serve on its port again")
        assert http_get(good, "/").status == 200


def test_graceful_term_refuses_new_connections_while_a_request_completes(short_tmp):
    port = free_port()
    mark = short_tmp / "in-flight"
    with start_arbiterd(short_tmp, ["-w", "1", "-b", f"127.0.0.1:{port}", "--graceful-timeout", "30"],
                        env=env_without_systemd()) as arb:
        wait_workers(arb, 1)
        wait_until(lambda: http_get(port, "/").status == 200, timeout=30)
        result = {}

        def slow():
            try:
                result["response"] = http_get(port, f"/slow?s=5&mark={mark}", timeout=30)
            except Exception as exc:  # noqa: BLE001 - reported below
                result["error"] = exc

        client = threading.Thread(target=slow)
        client.start()
        try:
            wait_until(mark.exists, timeout=15, message="the slow request to be in flight")
            arb.signal(signal.SIGTERM)
            # Well within the 5 s the request still runs: refused, not queued.
            wait_until(lambda: refused(port), timeout=3, message="new connections to be refused")
        finally:
            client.join(timeout=40)
        assert "error" not in result, result.get("error")
        assert result["response"].status == 200
        assert result["response"].body.startswith(b"slow ")
        assert arb.wait(timeout=40) == 0
