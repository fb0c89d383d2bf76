"""arbiterd end to end with real workers (tests/support/testworker.py):
respawn, scaling, rolling reload, hung workers, exit codes, cleanup."""

from __future__ import annotations

import json
import os
import signal
import time

from arbiter_e2e_support import (assert_all_dead, cmdline, env_without_systemd,  # noqa: F401
                                 short_tmp, start_arbiterd, wait_workers, workers_of)
from gftest import RequestLoop, descendants_of, free_port, http_get, pid_alive, wait_until


def serving(port: int) -> bool:
    return http_get(port, "/", timeout=2).status == 200


def test_respawns_a_worker_killed_with_sigkill(short_tmp):
    port = free_port()
    with start_arbiterd(short_tmp, ["-w", "2", "-b", f"127.0.0.1:{port}"], env=env_without_systemd()) as arb:
        first = wait_workers(arb, 2)
        wait_until(lambda: serving(port))
        os.kill(first[0], signal.SIGKILL)
        after = wait_workers(arb, 2, exclude=[first[0]])
        assert first[1] in after
        wait_until(lambda: serving(port))
        assert "SIGKILL" in arb.stderr_text()


def test_ttin_and_ttou_change_the_count_and_stop_the_oldest(short_tmp):
    port = free_port()
    with start_arbiterd(short_tmp, ["-w", "2", "-b", f"127.0.0.1:{port}"], env=env_without_systemd()) as arb:
        two = wait_workers(arb, 2)
        arb.signal(signal.SIGTTIN)
        three = wait_workers(arb, 3)
        assert set(two) < set(three)
        newest = (set(three) - set(two)).pop()
        # One at a time: the kernel merges a signal that is already pending.
        arb.signal(signal.SIGTTOU)
        wait_workers(arb, 2)
        arb.signal(signal.SIGTTOU)
        one = wait_workers(arb, 1)
        assert one == [newest], "TTOU stops the oldest workers first"
        arb.signal(signal.SIGTTOU)  # never below 1: acknowledged, nothing stopped
        wait_until(lambda: "TTOU ignored, never below 1 worker" in arb.stderr_text())
        assert workers_of(arb) == [newest]
        wait_until(lambda: serving(port))


def test_hup_replaces_every_worker_without_a_failed_request(short_tmp):
    port = free_port()
    with start_arbiterd(short_tmp, ["-w", "2", "-b", f"127.0.0.1:{port}", "--heartbeat", "notify"],
                         env=env_without_systemd()) as arb:
        old = wait_workers(arb, 2)
        wait_until(lambda: serving(port))
        with RequestLoop(port, max_seconds=40, max_requests=50000) as loop:
            wait_until(lambda: loop.ok > 20, timeout=10)
            arb.signal(signal.SIGHUP)
            new = wait_workers(arb, 2, exclude=old, timeout=30)
            served_before = loop.ok
            wait_until(lambda: loop.ok > served_before + 20, timeout=10)
        assert loop.failures == [], loop.failures[:5]
        assert not set(new) & set(old)


def test_hung_worker_is_killed_within_timeout_plus_two_seconds(short_tmp):
    port = free_port()
    timeout = 2.0
    with start_arbiterd(short_tmp, ["-w", "1", "-b", f"127.0.0.1:{port}", "--heartbeat", "notify",
                                     "--timeout", str(timeout)],
                         worker_args=["--hang-after", "1.0", "--watchdog", "0.2"],
                         env=env_without_systemd()) as arb:
        [pid] = wait_workers(arb, 1)
        seen = time.monotonic()  # the worker started before this
        hang_at = seen + 1.0     # ... so it stops beating before this
        wait_until(lambda: not pid_alive(pid), timeout=1.0 + timeout + 2.0 + 1.0,
                   message="the hung worker to be killed")
        assert time.monotonic() - hang_at <= timeout + 2.0
        wait_workers(arb, 1, exclude=[pid])  # and replaced


def test_a_worker_killed_every_half_second_is_replaced_at_once_each_time(short_tmp):
    # Issue 14: killing the worker every 0.5 s drove the back-off to 25.6 s
    # with no worker running. Each one here was READY and served: a healthy
    # run, so its replacement starts at once every time.
    port = free_port()
    with start_arbiterd(short_tmp, ["-w", "1", "-b", f"127.0.0.1:{port}"], env=env_without_systemd()) as arb:
        killed = []
        for _ in range(12):
            def serving_pid():
                body = http_get(port, "/", timeout=2).body.decode()
                pid = int(body.split()[1]) if body.startswith("pid ") else None
                return pid if pid not in killed else None
            # The old code's back-off passed 8 s by the 9th kill.
            pid = wait_until(serving_pid, timeout=8 if killed else 30, message="a worker serving")
            time.sleep(0.5)  # pacing of the probe, not synchronisation
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        wait_until(lambda: serving(port), timeout=5)
        assert "restarting it in" not in arb.stderr_text()


def test_readiness_notify_pool_waits_for_ready_and_meets_boot_timeout(short_tmp):
    # A silent worker would be READY after 1 s under heartbeat "auto"; a
    # pool that says readiness = "notify" waits for READY=1 until boot_timeout.
    from gftest import PYTHON, Spawned, binary
    from arbiter_e2e_support import TESTWORKER
    port = free_port()
    config = short_tmp / "pool.toml"
    config.write_text(f'''
[pools.silent]
command = {json.dumps([PYTHON, TESTWORKER, "--no-ready"])}
workers = 1
bind = ["127.0.0.1:{port}"]
readiness = "notify"
boot_timeout = 2
''')
    argv = [binary("arbiterd"), "-c", str(config), "--control-socket", str(short_tmp / "ctl.sock")]
    with Spawned(argv, env=env_without_systemd(), logdir=short_tmp / "logs") as arb:
        [first] = wait_workers(arb, 1)
        wait_workers(arb, 1, exclude=[first], timeout=30)  # killed at boot_timeout, replaced
        log = arb.stderr_text()
        assert "not READY within boot_timeout" in log, log
        assert "Worker ready" not in log, log


def test_exit_4_halts_arbiterd_with_the_workers_message(short_tmp):
    port = free_port()
    message = "Failed to find application object 'nope' in 'hello'"
    with start_arbiterd(short_tmp, ["-w", "2", "-b", f"127.0.0.1:{port}"],
                         worker_args=["--exit", "4", "--message", message], env=env_without_systemd()) as arb:
        code = arb.wait(timeout=20)
        assert code != 0
        assert message in arb.stderr_text()


def test_exit_2_before_ready_halts_at_once_with_the_workers_status_as_last_line(short_tmp):
    port = free_port()
    reason = "--threads: must be at least 1"
    with start_arbiterd(short_tmp, ["-w", "2", "-b", f"127.0.0.1:{port}"],
                         worker_args=["--exit", "2", "--status", reason], env=env_without_systemd()) as arb:
        code = arb.wait(timeout=30)
        assert code != 0
        log = arb.stderr_text()
        lines = [line for line in log.splitlines() if line.strip()]
        assert reason in lines[-1], log
        # Failed at once: the two first workers, no respawn with back-off.
        assert log.count("Booting worker") == 2, log
        assert "restarting in" not in log, log


def test_kill_9_of_arbiterd_leaves_no_worker_or_grandchild(short_tmp):
    port = free_port()
    # A killed arbiterd cannot remove its notify socket's directory: it
    # makes it under TMPDIR, here the test's own directory.
    env = env_without_systemd()
    env.pop("XDG_RUNTIME_DIR", None)
    env["TMPDIR"] = str(short_tmp)
    with start_arbiterd(short_tmp, ["-w", "2", "-b", f"127.0.0.1:{port}"],
                         worker_args=["--spawn-grandchild"], env=env) as arb:
        workers = wait_workers(arb, 2)
        sleepers = wait_until(
            lambda: [p for p in descendants_of(arb.pid) if cmdline(p).startswith("/bin/sleep")]
            if len([p for p in descendants_of(arb.pid) if cmdline(p).startswith("/bin/sleep")]) == 2
            else None, timeout=10, message="two grandchildren")
        everything = set(workers) | set(sleepers) | set(descendants_of(arb.pid))
        assert len(everything) >= 4
        os.kill(arb.pid, signal.SIGKILL)
        arb.wait(timeout=5)
        assert_all_dead(everything, timeout=10)


def test_term_removes_pid_file_and_unix_socket_files(short_tmp):
    sock = short_tmp / "web.sock"
    pidfile = short_tmp / "arbiterd.pid"
    with start_arbiterd(short_tmp, ["-w", "2", "-b", f"unix:{sock}", "--pid", str(pidfile)],
                         env=env_without_systemd()) as arb:
        wait_workers(arb, 2)
        from gftest import unix_http_get
        wait_until(lambda: unix_http_get(str(sock)).status == 200)
        assert pidfile.read_text().strip() == str(arb.pid)
        workers = workers_of(arb)
        arb.signal(signal.SIGTERM)
        assert arb.wait(timeout=40) == 0
        assert not sock.exists()
        assert not pidfile.exists()
        assert_all_dead(workers)


def test_workers_get_listen_fds_and_nothing_else(short_tmp):
    port = free_port()
    sock = short_tmp / "w.sock"
    with start_arbiterd(short_tmp, ["-w", "1", "-b", f"127.0.0.1:{port}", "-b", f"unix:{sock}",
                                     "-e", "GF_TEST_MARK=yes"], env=env_without_systemd()) as arb:
        [pid] = wait_workers(arb, 1)
        info = wait_until(lambda: json.loads(http_get(port, "/info").body))
        assert info["pid"] == pid
        env = info["env"]
        assert env["LISTEN_FDS"] == "2"
        assert env["LISTEN_PID"] == str(pid)
        assert env["LISTEN_FDNAMES"] == f"127.0.0.1%3A{port}:unix%3A{sock}"
        assert env["GF_TEST_MARK"] == "yes"
        for name in ("ARBITER_WORKER_ID", "ARBITER_WORKER_TOKEN", "ARBITER_POOL", "NOTIFY_SOCKET"):
            assert env.get(name), f"{name} missing from the worker's environment"
        fds = info["fds"]
        assert sorted(int(fd) for fd in fds) == [0, 1, 2, 3, 4], f"leaked fds: {fds}"
        assert fds["3"].startswith("socket:") and fds["4"].startswith("socket:")
        assert info["pgid"] == pid, "each worker leads its own process group"
        from gftest import unix_http_get
        assert unix_http_get(str(sock)).body.startswith(b"pid ")
