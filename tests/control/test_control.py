"""End-to-end: real arbiterd, real workers beating over gRPC
(grpc_testworker), real gctl.

Each test writes a TOML config in its tmp_path (so that a reload can pick up
a changed command), starts arbiterd on a private control socket, and talks
to it only through gctl.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pytest

from gftest import (RequestLoop, Spawned, binary, free_port, http_get, pid_alive,
                    wait_until)


def gctl(sock, *args, timeout=60, env=None, json_out=False):
    argv = [binary("gctl")]
    if sock is not None:
        argv += ["--socket", str(sock)]
    if json_out:
        argv.append("--json")
    argv += [str(a) for a in args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env)


def status(sock) -> dict:
    r = gctl(sock, "status", json_out=True)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def pool(sock, name="main") -> dict:
    return next(p for p in status(sock)["pools"] if p["name"] == name)


def ready_pids(sock, name="main") -> set[int]:
    return {w["pid"] for w in pool(sock, name)["workers"] if w["state"] == "WORKER_STATE_READY"}


def write_config(path: Path, sock: Path, port: int, command: list[str], workers: int = 2,
                 timeout: float = 2.0, arbiter_extra: str = "", pool_extra: str = "") -> None:
    cmd = ", ".join(json.dumps(c) for c in command)
    path.write_text(f"""
[arbiter]
name = "ctl-e2e"
control_socket = {json.dumps(str(sock))}
{arbiter_extra}

[pools.main]
command = [{cmd}]
workers = {workers}
max_workers = 6
bind = ["127.0.0.1:{port}"]
heartbeat = "grpc"
timeout = {timeout}
graceful_timeout = 5
boot_timeout = 10
{pool_extra}
""")


class Cluster:
    """arbiterd with one pool "main" of grpc_testworkers."""

    def __init__(self, tmp_path: Path, workers: int = 2, **config):
        self.dir = tmp_path
        self.sock = tmp_path / "arbiterd.sock"
        self.port = free_port()
        self.config = tmp_path / "greenfork.toml"
        self.worker = binary("bin/grpc_testworker")
        self.workers = workers
        self.extra = config
        write_config(self.config, self.sock, self.port, [self.worker], workers, **config)
        self.proc = Spawned([binary("arbiterd"), "-c", self.config], logdir=tmp_path)

    def set_command(self, command: list[str]) -> None:
        write_config(self.config, self.sock, self.port, command, self.workers, **self.extra)

    def __enter__(self) -> "Cluster":
        self.proc.start()
        try:
            wait_until(lambda: len(ready_pids(self.sock)) == self.workers, timeout=20,
                       message="every worker READY")
        except Exception:
            print(self.proc.output())
            self.proc.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:
            print(self.proc.output())
        self.proc.stop(timeout=10)


def one_line_error(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# --------------------------------------------------------------- arguments


@pytest.mark.parametrize("args", [["scale", "x"], ["scale", "+"], ["scale"], ["frob"],
                                  ["signal", "main", "NOPE"], ["stop", "--fast", "--graceful"]])
def test_bad_arguments_are_rejected_before_anything_is_sent(tmp_path, args):
    # No arbiterd anywhere: a usage error must come before any connection attempt.
    r = gctl(tmp_path / "nobody.sock", *args)
    assert r.returncode == 2
    line = one_line_error(r)
    assert line.startswith("gctl: ") and "cannot reach" not in line


def test_unreachable_socket_names_the_address_and_the_reason(tmp_path):
    sock = tmp_path / "absent.sock"
    r = gctl(sock, "status")
    assert r.returncode == 3
    assert one_line_error(r) == f"gctl: cannot reach arbiterd at {sock}: No such file or directory"
    r = gctl(None, "status", env={**os.environ, "XDG_RUNTIME_DIR": str(tmp_path),
                                  "ARBITER_SOCKET": ""})
    assert r.returncode == 3
    assert f"at {tmp_path}/arbiterd.sock:" in one_line_error(r)


# --------------------------------------------------------------- status, socket


def test_status_json_fields_and_table(tmp_path):
    with Cluster(tmp_path) as c:
        s = status(c.sock)
        assert s["pid"] == c.proc.pid
        assert s["name"] == "ctl-e2e"
        for key in ("version", "uptime_seconds", "pools"):
            assert key in s
        p = s["pools"][0]
        for key in ("name", "command", "desired", "running", "ready", "state", "state_reason",
                    "restarts", "binds", "heartbeat", "max_workers", "workers"):
            assert key in p, key
        assert (p["name"], p["desired"], p["ready"], p["max_workers"]) == ("main", 2, 2, 6)
        assert p["heartbeat"] == "grpc"
        assert p["state"] == "POOL_STATE_RUNNING"
        assert p["binds"] == [f"127.0.0.1:{c.port}"]
        for w in p["workers"]:
            for key in ("slot", "pid", "state", "uptime_seconds", "last_heartbeat_age_seconds",
                        "requests_served", "requests_in_flight", "rss_bytes", "generation",
                        "status_text"):
                assert key in w, key
            assert w["state"] == "WORKER_STATE_READY"
            assert 0 <= w["last_heartbeat_age_seconds"] < 2.0
            assert pid_alive(w["pid"])
        # Beats carry stats: requests served show up within a beat or two.
        for _ in range(5):
            assert http_get(c.port).status == 200
        wait_until(lambda: sum(int(w["requests_served"]) for w in pool(c.sock)["workers"]) >= 5,
                   timeout=5, message="requests_served from the beats")
        wait_until(lambda: all(int(w["rss_bytes"]) > 0 for w in pool(c.sock)["workers"]), timeout=5)

        table = gctl(c.sock, "status")
        assert table.returncode == 0, table.stderr
        assert "POOL" in table.stdout and "LAST BEAT" in table.stdout and "IN FLIGHT" in table.stdout
        for w in p["workers"]:
            assert str(w["pid"]) in table.stdout


def test_control_socket_is_0600_exclusive_and_removed_on_exit(tmp_path):
    with Cluster(tmp_path) as c:
        mode = os.stat(c.sock).st_mode
        assert stat.S_ISSOCK(mode)
        assert stat.S_IMODE(mode) == 0o600
        # A second arbiterd on the same control socket refuses clearly.
        other = tmp_path / "other.toml"
        write_config(other, c.sock, free_port(), [c.worker])
        second = subprocess.run([binary("arbiterd"), "-c", str(other)], capture_output=True,
                                text=True, timeout=20)
        assert second.returncode != 0
        assert f"control socket {c.sock}: another arbiterd is listening" in second.stderr
        assert len(ready_pids(c.sock)) == 2  # the first one is untouched
        r = gctl(c.sock, "stop", "--graceful")
        assert r.returncode == 0, r.stderr
        c.proc.wait(timeout=20)
        assert c.proc.poll() == 0
        assert not c.sock.exists()


def private_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


def test_tcp_control_requires_the_token(tmp_path):
    port = free_port()
    token = private_file(tmp_path / "token", "correct-horse-battery-staple\n")
    wrong = private_file(tmp_path / "wrong", "incorrect-horse-battery-staple\n")
    # Without a token file arbiterd must refuse to open the TCP port at all.
    bare = tmp_path / "bare.toml"
    write_config(bare, tmp_path / "bare.sock", free_port(), [binary("bin/grpc_testworker")],
                 arbiter_extra=f'control_bind = "127.0.0.1:{port}"')
    r = subprocess.run([binary("arbiterd"), "-c", str(bare)], capture_output=True, text=True,
                       timeout=20)
    assert r.returncode != 0
    assert "token" in r.stderr
    with Cluster(tmp_path, arbiter_extra=f'control_bind = "127.0.0.1:{port}"\n'
                                         f'control_token_file = "{token}"') as c:
        addr = f"127.0.0.1:{port}"
        r = gctl(addr, "status")
        assert r.returncode == 2 and "--token-file is required" in r.stderr
        r = gctl(addr, "--token-file", wrong, "status")
        assert r.returncode == 1
        assert "UNAUTHENTICATED" in one_line_error(r)
        r = gctl(addr, "--token-file", wrong, "scale", "+1")
        assert r.returncode == 1 and "UNAUTHENTICATED" in r.stderr
        assert pool(c.sock)["desired"] == 2  # the refused scale did nothing
        r = gctl(addr, "--token-file", token, "--json", "status")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["pid"] == c.proc.pid


# --------------------------------------------------------------- scale, signal


def test_scale_up_and_down_with_wait(tmp_path):
    with Cluster(tmp_path) as c:
        r = gctl(c.sock, "scale", "+1", "--wait", json_out=True)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == {"pool": "main", "previous": 2, "desired": 3}
        p = pool(c.sock)
        assert (p["desired"], p["ready"]) == (3, 3)  # --wait returned after READY

        r = gctl(c.sock, "scale", "-1", "--wait")
        assert r.returncode == 0, r.stderr
        assert "main: 3 -> 2 workers" in r.stdout
        p = pool(c.sock)
        assert (p["desired"], p["running"]) == (2, 2)

        r = gctl(c.sock, "scale", "main=3", "--wait")
        assert r.returncode == 0, r.stderr
        assert pool(c.sock)["ready"] == 3


def test_scale_and_signal_errors_carry_their_status(tmp_path):
    with Cluster(tmp_path) as c:
        r = gctl(c.sock, "scale", "nope", "+1")
        assert r.returncode == 1
        assert "NOT_FOUND" in one_line_error(r)
        r = gctl(c.sock, "scale", "=7")  # max_workers = 6
        assert r.returncode == 1 and "INVALID_ARGUMENT" in one_line_error(r)
        r = gctl(c.sock, "scale", "-3")
        assert r.returncode == 1 and "INVALID_ARGUMENT" in one_line_error(r)
        assert pool(c.sock)["desired"] == 2
        r = gctl(c.sock, "signal", "nope", "HUP")
        assert r.returncode == 1 and "NOT_FOUND" in one_line_error(r)
        r = gctl(c.sock, "signal", "main", "USR1", json_out=True)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == {"workers_signalled": 2}
        r = gctl(c.sock, "reopen-logs")
        assert r.returncode == 0, r.stderr
        assert ready_pids(c.sock) and len(ready_pids(c.sock)) == 2


# --------------------------------------------------------------- reload


def test_reload_under_load_fails_no_request(tmp_path):
    with Cluster(tmp_path) as c:
        before = ready_pids(c.sock)
        with RequestLoop(c.port, max_requests=20000, max_seconds=60) as load:
            wait_until(lambda: load.ok > 20, timeout=10)
            r = gctl(c.sock, "reload", "--wait", json_out=True)
            served_during = load.ok
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == {"pools": ["main"], "completed": True}
        assert load.failures == [], load.failures[:5]
        assert served_during > 20
        after = ready_pids(c.sock)
        assert len(after) == 2 and not (after & before)
        assert all(not pid_alive(pid) for pid in before)


def test_reload_with_a_broken_command_rolls_back(tmp_path):
    with Cluster(tmp_path) as c:
        before = ready_pids(c.sock)
        c.set_command([c.worker, "--exit-code", "4"])
        r = gctl(c.sock, "reload", "--wait")
        assert r.returncode == 1
        line = one_line_error(r)
        assert "ABORTED" in line
        assert ready_pids(c.sock) == before  # the old workers keep serving
        for _ in range(10):
            assert http_get(c.port).status == 200
        assert pool(c.sock)["state"] != "POOL_STATE_RELOADING"


def test_second_reload_while_one_runs_is_failed_precondition(tmp_path):
    with Cluster(tmp_path) as c:
        c.set_command([c.worker, "--ready-delay", "3"])
        r = gctl(c.sock, "reload")
        assert r.returncode == 0, r.stderr
        r2 = gctl(c.sock, "reload")
        assert r2.returncode == 1
        assert "FAILED_PRECONDITION" in one_line_error(r2)


# --------------------------------------------------------------- watch, hung workers


class Watch:
    """`gctl --json watch` in the background; events parsed from its stdout."""

    def __init__(self, sock: Path, tmp_path: Path):
        self.proc = Spawned([binary("gctl"), "--socket", sock, "--json", "watch"], logdir=tmp_path)

    def __enter__(self) -> "Watch":
        self.proc.start()
        wait_until(lambda: "watching" in self.proc.stderr_text(), timeout=10,
                   message="gctl watch subscribed")
        return self

    def events(self) -> list[dict]:
        return [json.loads(line) for line in self.proc.stdout_text().splitlines() if line.strip()]

    def find(self, predicate):
        return next((e for e in self.events() if predicate(e)), None)

    def __exit__(self, *exc) -> None:
        self.proc.signal(signal.SIGINT)
        code = self.proc.wait(timeout=10)
        self.proc.stop()
        assert code == 0, self.proc.output()


def test_watch_sees_a_kill_and_the_respawn(tmp_path):
    with Cluster(tmp_path) as c, Watch(c.sock, tmp_path) as w:
        victim = sorted(ready_pids(c.sock))[0]
        os.kill(victim, signal.SIGKILL)
        exited = wait_until(lambda: w.find(lambda e: e["kind"] == "WORKER_EXITED"
                                           and e["pid"] == victim), timeout=10)
        assert "SIGKILL" in exited["detail"]
        assert exited["pool"] == "main"
        wait_until(lambda: w.find(lambda e: e["kind"] == "WORKER_SPAWNED"
                                  and e["unix_time"] >= exited["unix_time"]), timeout=10)
        wait_until(lambda: w.find(lambda e: e["kind"] == "WORKER_READY"
                                  and e["unix_time"] >= exited["unix_time"]), timeout=10)
        wait_until(lambda: len(ready_pids(c.sock)) == 2, timeout=10)


def test_hung_worker_is_killed_and_replaced(tmp_path):
    with Cluster(tmp_path, timeout=2.0) as c, Watch(c.sock, tmp_path) as w:
        body = http_get(c.port, "/hang").body.decode()
        hung = int(body.split()[0].split("=")[1])
        timed_out = wait_until(lambda: w.find(lambda e: e["kind"] == "WORKER_TIMED_OUT"
                                              and e["pid"] == hung), timeout=15)
        assert timed_out["pool"] == "main"
        wait_until(lambda: not pid_alive(hung), timeout=15)
        wait_until(lambda: len(ready_pids(c.sock)) == 2 and hung not in ready_pids(c.sock),
                   timeout=15)
        exited = w.find(lambda e: e["kind"] == "WORKER_EXITED" and e["pid"] == hung)
        assert exited is not None and ("SIGABRT" in exited["detail"] or "SIGKILL" in exited["detail"])


# --------------------------------------------------------------- upgrade


def test_upgrade_under_load_refuses_no_connection(tmp_path):
    with Cluster(tmp_path) as c:
        old_master = c.proc.pid
        old_workers = ready_pids(c.sock)
        with RequestLoop(c.port, max_requests=20000, max_seconds=90) as load:
            wait_until(lambda: load.ok > 20, timeout=10)
            r = gctl(c.sock, "upgrade", "--wait", json_out=True, timeout=120)
            assert r.returncode == 0, r.stderr
            new_master = json.loads(r.stdout)["new_master_pid"]
            assert new_master not in (0, old_master)
            wait_until(lambda: status(c.sock)["pid"] == new_master, timeout=20)
            wait_until(lambda: not pid_alive(old_master), timeout=30, message="old master exits")
            mark = load.ok
            wait_until(lambda: load.ok > mark + 20, timeout=10)
        assert load.failures == [], load.failures[:5]
        new_workers = ready_pids(c.sock)
        assert len(new_workers) == 2 and not (new_workers & old_workers)
        assert stat.S_IMODE(os.stat(c.sock).st_mode) == 0o600
        # The new master is operated like the old one, and stops cleanly.
        r = gctl(c.sock, "stop")
        assert r.returncode == 0, r.stderr
        wait_until(lambda: not pid_alive(new_master), timeout=20)
        assert not c.sock.exists()


def test_heartbeat_for_another_slot_is_permission_denied(tmp_path):
    # A worker that claims another slot with its own token: arbiterd refuses
    # its READY with PERMISSION_DENIED, the worker exits 3 (boot error) and
    # the single pool fails instead of respawning in a loop.
    sock = tmp_path / "arbiterd.sock"
    config = tmp_path / "greenfork.toml"
    shifted = f'ARBITER_WORKER_ID=$((ARBITER_WORKER_ID + 100)) exec {binary("bin/grpc_testworker")}'
    write_config(config, sock, free_port(), ["/bin/sh", "-c", shifted], workers=1)
    r = subprocess.run([binary("arbiterd"), "-c", str(config)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode != 0
    assert "refused READY: PERMISSION_DENIED" in r.stderr, r.stderr
    assert not sock.exists()


# --------------------------------------------------------------- TCP control hardening (issue 14)


@pytest.mark.parametrize("text,mode,message", [
    ("short-token\n", 0o600, "the token is 11 bytes; at least 16 are needed"),
    ("x\n", 0o600, "the token is 1 bytes; at least 16 are needed"),
    ("a-long-enough-token-but-shared\n", 0o640, "open to group or others (mode 0640)"),
    ("a-long-enough-token-but-shared\n", 0o604, "open to group or others (mode 0604)"),
])
def test_weak_control_token_is_refused_with_exit_2(tmp_path, text, mode, message):
    token = private_file(tmp_path / "token", text, mode)
    for extra in ([], ["--check-config"]):
        r = subprocess.run([binary("arbiterd"), "--control-socket", str(tmp_path / "a.sock"),
                            "--control-bind", f"127.0.0.1:{free_port()}",
                            "--control-token-file", str(token), *extra, "--", "/bin/true"],
                           capture_output=True, text=True, timeout=20)
        assert r.returncode == 2, r.stderr
        assert message in r.stderr and str(token) in r.stderr, r.stderr
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_tcp_control_address_is_logged_and_bad_tokens_are_logged_rate_limited(tmp_path):
    port = free_port()
    token = private_file(tmp_path / "token", "correct-horse-battery-staple\n")
    wrong = private_file(tmp_path / "wrong", "incorrect-horse-battery-staple\n")
    with Cluster(tmp_path, arbiter_extra=f'control_bind = "127.0.0.1:{port}"\n'
                                         f'control_token_file = "{token}"') as c:
        assert f"Control address: 127.0.0.1:{port}" in c.proc.stderr_text()
        start = time.monotonic()
        calls = 30
        bad = [subprocess.Popen([binary("gctl"), "--socket", f"127.0.0.1:{port}", "--token-file",
                                 str(wrong), "status"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL) for _ in range(calls)]
        assert [p.wait(timeout=60) for p in bad] == [1] * calls
        elapsed = time.monotonic() - start

        def refusals():
            return [line for line in c.proc.stderr_text().splitlines()
                    if "refused a call with a bad or missing bearer token" in line]
        lines = wait_until(refusals, timeout=10)
        assert "from 127.0.0.1:" in lines[0], lines
        # At most one line a second, each saying how many calls it stands for.
        assert len(lines) <= elapsed + 2, (elapsed, lines)
        if len(lines) < calls:  # some calls were folded into a later line's count
            assert any("in the last" in line for line in lines[1:]) or len(lines) == 1, lines
        r = gctl(f"127.0.0.1:{port}", "--token-file", token, "status")
        assert r.returncode == 0, r.stderr
