"""arbiterd's configuration end to end: every bad config gets one message
naming file, line and key and a non-zero exit before anything starts;
--check-config; the command line's mistakes; unix socket files; sockets
adopted from systemd (LISTEN_FDS)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess

import pytest

from arbiter_e2e_support import (TESTWORKER, env_without_systemd, short_tmp,  # noqa: F401
                                 start_arbiterd, wait_workers, workers_of)
from gftest import PYTHON, Spawned, binary, free_port, http_get, source, unix_http_get, wait_until


def run(argv, cwd=None, timeout=20, env=None):
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env=env or env_without_systemd())


def write_config(tmp, body: str, marker) -> str:
    """A config with a valid pool that would create `marker` if anything
    started, followed by `body`."""
    path = tmp / "arbiter.toml"
    path.write_text(
        "[pools.canary]\n"
        f"command = [\"/bin/sh\", \"-c\", \"touch {marker}; exec sleep 100\"]\n"
        f"bind = \"127.0.0.1:{free_port()}\"\n"
        + body)
    return str(path)


BAD_CONFIGS = [
    # (body after the 3-line canary pool, line, key, message)
    ("[pools.web]\ncommand = [\"true\"]\nwrokers = 2\n", 6, "pools.web.wrokers", "unknown key"),
    ("[pools.web]\ncommand = [\"true\"]\nworkers = \"two\"\n", 6, "pools.web.workers",
     "expected an integer, got a string"),
    ("[pools.web]\ncommand = [\"true\"]\nbind = [\"127.0.0.1:99999\"]\n", 6, "pools.web.bind",
     "bad address '127.0.0.1:99999': port 99999 is out of range"),
    ("[pools.web]\ncommand = [\"true\"]\nbind = [\"::1:80\"]\n", 6, "pools.web.bind",
     "IPv6 addresses need brackets"),
    ("[pools.web]\nworkers = 2\n", 4, "pools.web.command", "missing command"),
    ("[pools.web]\ncommand = [\"/nonexistent/gf-worker\"]\n", 5, "pools.web.command",
     "/nonexistent/gf-worker: No such file or directory"),
    ("[pools.web]\ncommand = [\"gf-no-such-command\"]\n", 5, "pools.web.command",
     "command 'gf-no-such-command' not found on PATH"),
    ("[pools.web]\ncommand = [\"/etc/passwd\"]\n", 5, "pools.web.command",
     "/etc/passwd: not executable"),
    ("[pools.web]\ncommand = [\"true\"]\nheartbeat = \"sometimes\"\n", 6, "pools.web.heartbeat",
     "'sometimes' is not one of auto, grpc, notify, none"),
    ("[pools.web]\ncommand = [\"true\"]\nworkers = 10\nmax_workers = 3\n", 6, "pools.web.workers",
     "10 is more than max_workers (3)"),
    ("[arbiter]\nbacklog = \"big\"\n", 5, "arbiter.backlog", "expected an integer, got a string"),
    ("[arbiter]\ncolour = \"green\"\n", 5, "arbiter.colour", "unknown key"),
]


@pytest.mark.parametrize("body,line,key,message", BAD_CONFIGS, ids=[c[2] + ":" + c[3][:20] for c in BAD_CONFIGS])
def test_bad_config_names_file_line_and_key_and_starts_nothing(short_tmp, body, line, key, message):
    marker = short_tmp / "started"
    path = write_config(short_tmp, body, marker)
    r = run([binary("arbiterd"), "--control-socket", short_tmp / "c.sock", "-c", path])
    assert r.returncode != 0
    lines = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith(f"arbiterd: {path}:{line}: {key}: "), r.stderr
    assert message in lines[0]
    assert not marker.exists(), "nothing may start before the config is valid"


def test_two_pools_binding_one_address(short_tmp):
    port = free_port()
    path = short_tmp / "dup.toml"
    path.write_text(f"[pools.a]\ncommand = [\"true\"]\nbind = \"127.0.0.1:{port}\"\n\n"
                    f"[pools.b]\ncommand = [\"true\"]\nbind = \"tcp://127.0.0.1:{port}\"\n")
    r = run([binary("arbiterd"), "-c", path, "--check-config"])
    assert r.returncode != 0
    assert f"{path}:7: pools.b.bind: 127.0.0.1:{port} is already bound by pool 'a'" in r.stderr


def test_toml_syntax_error_and_python_config(short_tmp):
    path = short_tmp / "broken.toml"
    path.write_text("[pools.web]\ncommand = [\"true\"\n")
    r = run([binary("arbiterd"), "-c", path])
    assert r.returncode != 0 and f"{path}:" in r.stderr
    py = short_tmp / "gunicorn.conf.py"
    py.write_text("workers = 2\n")
    r = run([binary("arbiterd"), "-c", py])
    assert r.returncode == 2
    assert "nothing to run" in r.stderr


def test_check_config_validates_and_starts_nothing(short_tmp):
    marker = short_tmp / "started"
    path = write_config(short_tmp, "[pools.web]\ncommand = [\"true\"]\nworkers = 3\n", marker)
    r = run([binary("arbiterd"), "-c", path, "--check-config"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "config OK: 2 pools"
    assert not marker.exists()
    r = run([binary("arbiterd"), "--check-config", "-w", "2", "-b", "127.0.0.1:1", "--", "true"])
    assert (r.returncode, r.stdout.strip()) == (0, "config OK: 1 pool")
    r = run([binary("arbiterd"), "--check-config", "-b", "127.0.0.1:x", "--", "true"])
    assert r.returncode != 0 and "-b/--bind: bad address '127.0.0.1:x'" in r.stderr
    # gworker's address lists, checked before any worker starts.
    for flag in ("--forwarded-allow-ips", "--proxy-allow-from", "--uwsgi-allow-from"):
        r = run([binary("arbiterd"), "--check-config", flag, "10.0.0.0/8, 10.0.0.300", "app:app"])
        assert r.returncode == 2, (flag, r.stdout, r.stderr)
        assert f"{flag}: '10.0.0.300' is not an IP address or CIDR range" in r.stderr, r.stderr
        r = run([binary("arbiterd"), "--check-config", flag, "10.0.0.0/8, ::1, 127.0.0.1", "app:app"])
        assert (r.returncode, r.stdout.strip()) == (0, "config OK: 1 pool"), (flag, r.stderr)


def test_command_line_mistakes_and_help(short_tmp):
    cases = [
        ([], "nothing to run"),
        (["-w", "2"], "nothing to run"),
        (["--workers", "many", "--", "true"], "--workers"),
        (["--threads", "4", "--", "true"], "--threads is a gworker option"),
        (["--heartbeat", "maybe", "--", "true"], "--heartbeat"),
        (["node", "server.js"], "put it after '--'"),
        (["-e", "JUSTKEY", "--", "true"], "-e/--env: 'JUSTKEY' is not KEY=VALUE"),
        (["--", "gf-no-such-command"], "command 'gf-no-such-command' not found on PATH"),
    ]
    for args, text in cases:
        r = run([binary("arbiterd"), *args])
        assert r.returncode != 0, args
        assert text in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, (args, r.stderr)
    r = run([binary("arbiterd"), "--version"])
    assert (r.returncode, r.stdout.strip()) == (0, "arbiterd (greenfork) 0.1.0")
    r = run([binary("arbiterd"), "--help"])
    assert r.returncode == 0 and "--workers" in r.stdout and "--worker-class" in r.stdout


def test_stale_unix_socket_file_is_replaced(short_tmp):
    path = short_tmp / "stale.sock"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    s.listen()
    s.close()  # the file stays: what a crashed server leaves behind
    assert path.exists()
    with start_arbiterd(short_tmp, ["-w", "1", "-b", f"unix:{path}"], env=env_without_systemd()) as arb:
        wait_until(lambda: unix_http_get(str(path)).status == 200, timeout=15)


def test_unix_socket_of_a_live_process_is_refused(short_tmp):
    path = short_tmp / "live.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.bind(str(path))
        s.listen()
        r = run([binary("arbiterd"), "--control-socket", short_tmp / "c.sock", "-b", f"unix:{path}",
                 "--", PYTHON, TESTWORKER])
        assert r.returncode != 0
        assert f"unix:{path}: already in use by a running process" in r.stderr
        assert path.exists()


def test_bind_error_names_address_and_reason(short_tmp):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = run([binary("arbiterd"), "--control-socket", short_tmp / "c.sock", "-b",
                 f"127.0.0.1:{port}", "--", PYTHON, TESTWORKER])
    assert r.returncode != 0
    assert f"bind 127.0.0.1:{port}: Address already in use" in r.stderr


def systemd_launch(tmp, arbiter_args, listener: socket.socket) -> Spawned:
    """Starts arbiterd as systemd would: the socket as fd 3, LISTEN_FDS=1,
    LISTEN_PID = arbiterd's own pid (exec keeps the launcher's pid)."""
    launcher = ("import os, sys\n"
                "os.dup2(int(sys.argv[1]), 3)\n"
                "os.environ.update(LISTEN_FDS='1', LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES='http')\n"
                "os.execv(sys.argv[2], sys.argv[2:])\n")
    argv = [PYTHON, "-c", launcher, str(listener.fileno()), binary("arbiterd"),
            "--control-socket", str(tmp / "ctl.sock"), *arbiter_args, "--", PYTHON, TESTWORKER]
    return Spawned(argv, env=env_without_systemd(), logdir=tmp / "logs",
                   pass_fds=[listener.fileno()])


@pytest.mark.parametrize("with_bind", [True, False], ids=["matched-by-address", "no-bind-takes-all"])
def test_adopts_the_socket_systemd_passed(short_tmp, with_bind):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        port = listener.getsockname()[1]
        # Binding this port again would fail: serving proves adoption.
        args = ["-w", "1"] + (["-b", f"127.0.0.1:{port}"] if with_bind else [])
        with systemd_launch(short_tmp, args, listener) as arb:
            listener.close()
            info = wait_until(lambda: json.loads(http_get(port, "/info").body), timeout=15)
            assert info["env"]["LISTEN_FDS"] == "1"
            assert info["env"]["LISTEN_PID"] == str(info["pid"])
            assert info["env"]["LISTEN_FDNAMES"] == "http"
            assert sorted(int(fd) for fd in info["fds"]) == [0, 1, 2, 3]


@pytest.mark.parametrize("example,pools", [("examples/mixed.toml", 2), ("examples/reference.toml", 1)])
def test_example_configs_are_valid(example, pools):
    r = run([binary("arbiterd"), "-c", source(example), "--check-config"])
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"config OK: {pools} pool" + ("s" if pools > 1 else "")


def test_hup_rereads_the_config_file_and_keeps_running_on_a_bad_edit(short_tmp):
    port = free_port()
    path = short_tmp / "reload.toml"

    def write(workers, extra=""):
        path.write_text(f"[pools.web]\ncommand = [\"{PYTHON}\", \"{TESTWORKER}\"]\n"
                        f"bind = \"127.0.0.1:{port}\"\nworkers = {workers}\n{extra}")

    write(1)
    argv = [binary("arbiterd"), "-c", str(path), "--control-socket", str(short_tmp / "ctl.sock")]
    with Spawned(argv, env=env_without_systemd(), logdir=short_tmp / "logs") as arb:
        wait_workers(arb, 1)
        write(2)
        arb.signal(signal.SIGHUP)
        wait_workers(arb, 2, timeout=20)
        write(3, "wrokers = 1\n")  # a typo: the running config stays
        arb.signal(signal.SIGHUP)
        wait_until(lambda: f"{path}:5: pools.web.wrokers: unknown key" in arb.stderr_text(), timeout=10)
        assert arb.poll() is None
        assert len(workers_of(arb)) == 2
        assert http_get(port).status == 200
