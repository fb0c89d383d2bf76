"""Gunicorn's master-side server hooks from a gunicorn.conf.py, run by
arbiterd's hook host (arbiter/python/gf_hook_host.py): each hook writes a
marker line "NAME PID PPID ARGS..." so the test can check that it ran in
the hook host (a child of arbiterd, not arbiterd, not a worker), how often,
and in what order; a hook that raises is logged and supervision goes on; a
hook that hangs is abandoned after the bound and HUP still works."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from arbiter_e2e_support import (TESTWORKER, cmdline, env_without_systemd, short_tmp,  # noqa: F401
                                 start_arbiterd, wait_workers)
from gftest import PYTHON, binary, free_port, http_get, pid_alive, wait_until

MARKER_HELPER = """\
import os
MARKS = {marks!r}

def mark(name, *extra):
    with open(MARKS, "a") as f:
        f.write(" ".join([name, str(os.getpid()), str(os.getppid())] + [str(e) for e in extra]) + "\\n")
"""

ALL_HOOKS = """
def nworkers_changed(server, new, old):
    mark("nworkers_changed", new, old)

def on_starting(server):
    mark("on_starting", server.pid)

def when_ready(server):
    mark("when_ready", server.pid, server.num_workers, server.cfg.workers, server.cfg.timeout,
         server.cfg.backlog, ",".join(server.cfg.bind))

def pre_fork(server, worker):
    mark("pre_fork", worker.pid, worker.age)

def child_exit(server, worker):
    mark("child_exit", worker.pid, worker.age)

def on_reload(server):
    mark("on_reload", len(server.WORKERS))

def on_exit(server):
    mark("on_exit")
"""


def marks(path: Path) -> list[list[str]]:
    if not path.exists():
        return []
    return [line.split() for line in path.read_text().splitlines() if line.strip()]


def named(path: Path, name: str) -> list[list[str]]:
    return [m for m in marks(path) if m[0] == name]


def write_conf(tmp: Path, body: str, settings: str = "") -> tuple[Path, Path]:
    mark_file = tmp / "marks"
    conf = tmp / "gunicorn.conf.py"
    conf.write_text(MARKER_HELPER.format(marks=str(mark_file)) + settings + body)
    return conf, mark_file


def clean_env(**extra) -> dict:
    env = env_without_systemd()
    env.pop("GUNICORN_CMD_ARGS", None)
    env.update(extra)
    return env


def gctl(tmp: Path, *args) -> subprocess.CompletedProcess:
    return subprocess.run([binary("gctl"), "--socket", str(tmp / "ctl.sock"), *args],
                          capture_output=True, text=True, timeout=30)


def test_every_master_hook_runs_in_the_hook_host_at_its_event(short_tmp):
    port = free_port()
    conf, mark_file = write_conf(short_tmp, ALL_HOOKS, "workers = 1\nbacklog = 100\ntimeout = 20\n")
    env = clean_env(GUNICORN_CMD_ARGS="-w 2 --backlog 200")
    with start_arbiterd(short_tmp, ["-c", str(conf), "-b", f"127.0.0.1:{port}", "--timeout", "25",
                                     "--graceful-timeout", "5"],
                        env=env) as arb:
        first = wait_workers(arb, 2)
        wait_until(lambda: len(named(mark_file, "pre_fork")) == 2, timeout=30, message="2 pre_fork")
        m = marks(mark_file)
        # Gunicorn's order: nworkers_changed(N, None), on_starting, when_ready, then the workers.
        assert [x[0] for x in m[:3]] == ["nworkers_changed", "on_starting", "when_ready"], m
        assert m[0][3:] == ["2", "None"]
        host = int(m[0][1])
        assert host not in (arb.pid, *first)
        assert "gf_hook_host.py" in cmdline(host)
        for x in m:
            assert (int(x[1]), int(x[2])) == (host, arb.pid), x  # every hook: the host, arbiterd's child
        assert int(named(mark_file, "on_starting")[0][3]) == arb.pid  # server.pid is arbiterd's
        # server.cfg: file < GUNICORN_CMD_ARGS < command line
        ready = named(mark_file, "when_ready")[0]
        assert ready[3:] == [str(arb.pid), "2", "2", "25", "200", f"127.0.0.1:{port}"], ready
        assert sorted(int(x[3]) for x in named(mark_file, "pre_fork")) == first
        assert sorted(int(x[4]) for x in named(mark_file, "pre_fork")) == [1, 2]  # worker.age

        # TTIN: nworkers_changed(3, 2) and one more pre_fork; gctl scale back: (2, 3).
        arb.signal(signal.SIGTTIN)
        three = wait_workers(arb, 3)
        wait_until(lambda: len(named(mark_file, "pre_fork")) == 3, timeout=30, message="3rd pre_fork")
        assert [x[3:] for x in named(mark_file, "nworkers_changed")] == [["2", "None"], ["3", "2"]]
        r = gctl(short_tmp, "scale", "2")
        assert r.returncode == 0, r.stderr
        two = wait_workers(arb, 2)
        wait_until(lambda: len(named(mark_file, "nworkers_changed")) == 3, timeout=30, message="scale hook")
        assert named(mark_file, "nworkers_changed")[2][3:] == ["2", "3"]
        stopped = (set(three) - set(two)).pop()
        wait_until(lambda: any(int(x[3]) == stopped for x in named(mark_file, "child_exit")), timeout=30,
                   message="child_exit of the scaled-down worker")

        # kill -9 of a worker: child_exit with its pid and age, and a pre_fork for its replacement.
        victim = two[0]
        victim_age = next(x[4] for x in named(mark_file, "pre_fork") if int(x[3]) == victim)
        os.kill(victim, signal.SIGKILL)
        wait_workers(arb, 2, exclude=[victim])
        wait_until(lambda: any(int(x[3]) == victim for x in named(mark_file, "child_exit")), timeout=30,
                   message="child_exit of the killed worker")
        assert [x[4] for x in named(mark_file, "child_exit") if int(x[3]) == victim] == [victim_age]
        wait_until(lambda: len(named(mark_file, "pre_fork")) == 4, timeout=30, message="replacement pre_fork")

        # HUP: on_reload once, and a pre_fork per new worker.
        before = wait_workers(arb, 2)
        arb.signal(signal.SIGHUP)
        wait_until(lambda: len(named(mark_file, "on_reload")) == 1, timeout=30, message="on_reload")
        wait_workers(arb, 2, exclude=before, timeout=30)
        wait_until(lambda: len(named(mark_file, "pre_fork")) == 6, timeout=30, message="reload pre_forks")
        assert http_get(port).status == 200

        arb.remember_descendants()
        arb.signal(signal.SIGTERM)
        assert arb.wait(timeout=30) == 0, arb.output()
    m = marks(mark_file)
    assert m[-1][0] == "on_exit" and [x[0] for x in m].count("on_exit") == 1, m
    # Every worker that was forked had its child_exit before on_exit.
    assert sorted(x[3] for x in named(mark_file, "pre_fork")) == sorted(x[3] for x in named(mark_file, "child_exit"))
    assert not pid_alive(host)


def test_a_hook_that_raises_is_logged_and_supervision_goes_on(short_tmp):
    port = free_port()
    conf, mark_file = write_conf(short_tmp, """
def when_ready(server):
    server.log.info("when_ready says %s", "hello")
    raise ZeroDivisionError("when_ready failed on purpose")

def pre_fork(server, worker):
    mark("pre_fork", worker.pid)
    raise KeyError("pre_fork failed on purpose")
""")
    with start_arbiterd(short_tmp, ["-c", str(conf), "-w", "2", "-b", f"127.0.0.1:{port}"],
                        env=clean_env()) as arb:
        wait_workers(arb, 2)
        wait_until(lambda: len(named(mark_file, "pre_fork")) == 2, timeout=30, message="pre_fork twice")
        wait_until(lambda: "pre_fork failed on purpose" in arb.stderr_text(), timeout=30, message="traceback")
        err = arb.stderr_text()
        assert "when_ready says hello" in err
        assert "Exception in when_ready hook" in err and "ZeroDivisionError: when_ready failed on purpose" in err
        assert "Exception in pre_fork hook" in err and 'File "' in err  # the traceback
        assert http_get(port).status == 200
        # The host survives a raising hook: still the same one for the next worker.
        host = int(named(mark_file, "pre_fork")[0][1])
        arb.signal(signal.SIGTTIN)
        wait_workers(arb, 3)
        wait_until(lambda: len(named(mark_file, "pre_fork")) == 3, timeout=30, message="3rd pre_fork")
        assert int(named(mark_file, "pre_fork")[2][1]) == host


def test_on_starting_that_raises_stops_arbiterd_before_it_binds(short_tmp):
    port = free_port()
    conf, _ = write_conf(short_tmp, """
def on_starting(server):
    raise RuntimeError("not today")
""")
    r = subprocess.run([binary("arbiterd"), "--control-socket", str(short_tmp / "ctl.sock"), "-c", str(conf),
                        "-b", f"127.0.0.1:{port}", "--", PYTHON, TESTWORKER],
                       env=clean_env(), capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stderr
    assert "RuntimeError: not today" in r.stderr and "Exception in on_starting hook" in r.stderr
    assert "Listening at" not in r.stderr
    assert "on_starting hook raised" in r.stderr.strip().splitlines()[-1]


def test_a_hook_that_hangs_is_abandoned_and_supervision_and_hup_go_on(short_tmp):
    conf, mark_file = write_conf(short_tmp, """
import time

def pre_fork(server, worker):
    mark("pre_fork", worker.pid, worker.age)
    if worker.age == 1:
        time.sleep(3600)

def on_reload(server):
    mark("on_reload")
""")
    # The bound is the pool's --timeout (3 s here).
    with start_arbiterd(short_tmp, ["-c", str(conf), "-w", "2", "-b", f"127.0.0.1:{free_port()}", "-t", "3"],
                        env=clean_env()) as arb:
        # Both workers run while the first pre_fork hangs: supervision does not wait.
        wait_workers(arb, 2, timeout=30)
        hung_host = int(wait_until(lambda: named(mark_file, "pre_fork"), timeout=30)[0][1])
        wait_until(lambda: "pre_fork hook did not return within 3s" in arb.stderr_text(), timeout=30,
                   message="the hung hook logged")
        wait_until(lambda: not pid_alive(hung_host) or cmdline(hung_host) == "", timeout=30,
                   message="the hung host killed")
        # A new host runs the next calls (age 2's pre_fork was queued behind the hung one).
        wait_until(lambda: len(named(mark_file, "pre_fork")) == 2, timeout=30, message="queued pre_fork")
        new_host = int(named(mark_file, "pre_fork")[1][1])
        assert new_host != hung_host and "gf_hook_host.py" in cmdline(new_host)
        before = wait_workers(arb, 2)
        arb.signal(signal.SIGHUP)
        wait_until(lambda: named(mark_file, "on_reload"), timeout=30, message="on_reload after the hang")
        wait_workers(arb, 2, exclude=before, timeout=30)
        assert arb.poll() is None


def test_no_master_hook_means_no_hook_host(short_tmp):
    conf = short_tmp / "gunicorn.conf.py"
    conf.write_text("workers = 2\ndef helper():\n    return 1\n")
    with start_arbiterd(short_tmp, ["-c", str(conf), "-b", f"127.0.0.1:{free_port()}"], env=clean_env()) as arb:
        wait_workers(arb, 2)
        kids = arb.remember_descendants()
        assert not [p for p in kids if "gf_hook_host.py" in cmdline(p)]


def test_server_reload_from_a_hook_reloads_the_workers(short_tmp):
    flag = short_tmp / "reloaded-once"
    conf, mark_file = write_conf(short_tmp, f"""
import os
def when_ready(server):
    if not os.path.exists({str(flag)!r}):
        open({str(flag)!r}, "w").close()
        server.reload()

def on_reload(server):
    mark("on_reload")
""")
    with start_arbiterd(short_tmp, ["-c", str(conf), "-w", "1", "-b", f"127.0.0.1:{free_port()}"],
                        env=clean_env()) as arb:
        wait_until(lambda: named(mark_file, "on_reload"), timeout=30, message="server.reload() -> on_reload")
        wait_workers(arb, 1)
        assert "Handling signal: SIGHUP" in arb.stderr_text()


def test_on_starting_that_hangs_is_abandoned_and_arbiterd_starts_with_a_new_host(short_tmp):
    conf, mark_file = write_conf(short_tmp, """
import time

def on_starting(server):
    mark("on_starting")
    time.sleep(3600)

def when_ready(server):
    mark("when_ready")
""")
    with start_arbiterd(short_tmp, ["-c", str(conf), "-w", "1", "-b", f"127.0.0.1:{free_port()}", "-t", "2"],
                        env=clean_env()) as arb:
        wait_workers(arb, 1, timeout=30)
        wait_until(lambda: named(mark_file, "when_ready"), timeout=30, message="when_ready in a new host")
        assert "on_starting hook did not return within 2s" in arb.stderr_text()
        assert named(mark_file, "when_ready")[0][1] != named(mark_file, "on_starting")[0][1]
        assert not pid_alive(int(named(mark_file, "on_starting")[0][1]))
