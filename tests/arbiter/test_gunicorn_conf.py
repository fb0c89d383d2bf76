"""A Gunicorn deployment's configuration, unchanged: gunicorn.conf.py (read
by arbiterd through gf_config_eval.py), `-c python:MODULE`, GUNICORN_CMD_ARGS
and the command line with Gunicorn's precedence, --print-config, and the
Gunicorn settings greenfork honours (-D, --reuse-port, --capture-output,
numeric --user/--group)."""

from __future__ import annotations

import errno
import os
import signal
import socket
import subprocess
from pathlib import Path

from arbiter_e2e_support import (TESTWORKER, env_without_systemd, short_tmp,  # noqa: F401
                                 start_arbiterd, wait_workers, workers_of)
from gftest import PYTHON, Spawned, binary, free_port, http_get, pid_alive, source, wait_until

HELLO = source("examples/hello")


def clean_env(**extra) -> dict:
    env = env_without_systemd()
    env.pop("GUNICORN_CMD_ARGS", None)
    env.update(extra)
    return env


def arbiterd(args, cwd, **env):
    return subprocess.run([binary("arbiterd"), *args], cwd=cwd, env=clean_env(**env),
                          capture_output=True, text=True, timeout=60)


def settings_of(print_config_output: str) -> dict:
    out = {}
    for line in print_config_output.splitlines():
        name, _, value = line.partition(" = ")
        out[name.strip()] = value
    return out


def test_dot_gunicorn_conf_py_is_read_without_c_and_its_wsgi_app_is_served(short_tmp):
    port = free_port()
    (short_tmp / "gunicorn.conf.py").write_text(
        "import multiprocessing\n"
        f"bind = '127.0.0.1:{port}'\n"
        "workers = 2\n"
        f"chdir = {HELLO!r}\n"
        "wsgi_app = 'app:app'\n"
        f"control_socket = {str(short_tmp / 'ctl.sock')!r}\n"
        "def helper():\n    return 1\n")
    with Spawned([binary("arbiterd")], cwd=str(short_tmp), env=clean_env(),
                 logdir=short_tmp / "logs") as arb:
        wait_workers(arb, 2, marker="gworker", timeout=30)
        wait_until(lambda: http_get(port).body == b"Hello, World!\n", timeout=30)


def test_file_then_gunicorn_cmd_args_then_command_line(short_tmp):
    conf = short_tmp / "gunicorn.conf.py"
    conf.write_text("workers = 2\nbind = ['127.0.0.1:8001', '127.0.0.1:8002']\ntimeout = 11\n"
                    "keepalive = 4\nwsgi_app = 'file:app'\n")
    r = arbiterd(["-c", str(conf), "--keep-alive", "6", "--print-config"], cwd=short_tmp,
                 GUNICORN_CMD_ARGS="-w 3 --bind 127.0.0.1:8003 --keep-alive 5 "
                                   "--access-logformat '%(h)s \"%(r)s\"' env:app")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines == sorted(lines) and len({line.index(" = ") for line in lines}) == 1
    s = settings_of(r.stdout)
    assert s["workers"] == "3"                      # env over file
    assert s["bind"] == "['127.0.0.1:8003']"        # a list is replaced, not merged
    assert s["timeout"] == "11"                     # file
    assert s["keepalive"] == "6"                    # command line over env
    assert s["access_log_format"] == '%(h)s "%(r)s"'  # shlex quoting
    assert s["wsgi_app"] == "file:app"              # an APP in GUNICORN_CMD_ARGS is ignored
    assert s["config"] == str(conf)
    r = arbiterd(["-c", str(conf), "--check-config"], cwd=short_tmp)
    assert (r.returncode, r.stdout.strip()) == (0, "config OK: 1 pool"), r.stderr


def test_config_from_a_python_module(short_tmp):
    (short_tmp / "deploy_pkg").mkdir()
    (short_tmp / "deploy_pkg" / "__init__.py").write_text("")
    (short_tmp / "deploy_pkg" / "gconf.py").write_text("print('what a config prints')\nworkers = 4\n")
    r = arbiterd(["-c", "python:deploy_pkg.gconf", "--print-config", "app:app"], cwd=short_tmp)
    assert r.returncode == 0, r.stderr
    assert settings_of(r.stdout)["workers"] == "4"
    assert "what a config prints" in r.stderr  # stdout carries the helper's JSON only


def test_broken_file_shows_its_traceback_and_starts_nothing(short_tmp):
    port = free_port()
    conf = short_tmp / "gunicorn.conf.py"
    conf.write_text(f"bind = '127.0.0.1:{port}'\nworkers = undefined_name + 1\n")
    r = arbiterd(["app:app"], cwd=short_tmp)
    assert r.returncode == 2
    assert "Failed to read config file: gunicorn.conf.py" in r.stderr
    assert "Traceback (most recent call last)" in r.stderr
    assert "NameError: name 'undefined_name' is not defined" in r.stderr
    assert r.stderr.strip().splitlines()[-1] == \
        "arbiterd: config file gunicorn.conf.py failed (its traceback is above)"
    with socket.create_server(("127.0.0.1", port)):
        pass  # nothing was bound
    conf.write_text("workers = 'many'\n")
    r = arbiterd(["app:app", "--check-config"], cwd=short_tmp)
    assert r.returncode == 2 and r.stderr.startswith("arbiterd: gunicorn.conf.py: --workers"), r.stderr
    r = arbiterd(["app:app", "--check-config", "-w", "2"], cwd=short_tmp, GUNICORN_CMD_ARGS="--threads 0")
    assert r.returncode == 2 and r.stderr.startswith("arbiterd: GUNICORN_CMD_ARGS: --threads"), r.stderr
    conf.write_text("bind = 8000\n")
    r = arbiterd(["app:app", "--check-config"], cwd=short_tmp)
    assert r.returncode == 2
    assert r.stderr.strip() == "arbiterd: gunicorn.conf.py: bind: expected a list of strings, got int 8000"


def test_gunicorn_cmd_args_refusals_and_mistakes_name_it(short_tmp):
    r = arbiterd(["--check-config", "app:app"], cwd=short_tmp, GUNICORN_CMD_ARGS="--spew")
    assert r.returncode == 2
    assert r.stderr.startswith("arbiterd: GUNICORN_CMD_ARGS: --spew (spew): not supported"), r.stderr
    # TLS files are read before anything starts: a missing one is named.
    r = arbiterd(["--check-config", "app:app"], cwd=short_tmp, GUNICORN_CMD_ARGS="--certfile x.pem")
    assert r.returncode == 2
    assert r.stderr.strip() == f"arbiterd: --certfile {short_tmp}/x.pem: No such file or directory", r.stderr
    r = arbiterd(["--check-config", "app:app"], cwd=short_tmp, GUNICORN_CMD_ARGS="--no-such-thing")
    assert (r.returncode, r.stderr.strip()) == (
        2, "arbiterd: GUNICORN_CMD_ARGS: unrecognized option --no-such-thing")


def test_print_config_of_a_toml_file_lists_its_pools(short_tmp):
    r = arbiterd(["-c", source("examples/mixed.toml"), "--print-config"], cwd=short_tmp)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines == sorted(lines)
    s = settings_of(r.stdout)
    assert s["config"] == f'"{source("examples/mixed.toml")}"'
    assert any(k.startswith("pools.") and k.endswith(".workers") for k in s)
    # the command line's overrides of [arbiter] show
    r = arbiterd(["-c", source("examples/mixed.toml"), "-n", "shop", "--print-config"], cwd=short_tmp)
    assert settings_of(r.stdout)["arbiter.name"] == '"shop"'


def test_numeric_user_and_group(short_tmp):
    r = arbiterd(["-u", str(os.getuid()), "-g", str(os.getgid()), "--check-config", "app:app"], cwd=short_tmp)
    assert (r.returncode, r.stdout.strip()) == (0, "config OK: 1 pool"), r.stderr
    r = arbiterd(["-u", "3999999", "--check-config", "app:app"], cwd=short_tmp)
    assert (r.returncode, r.stderr.strip()) == (2, "arbiterd: -u/--user: uid 3999999 has no passwd entry")


def test_daemon_detaches_and_serves(short_tmp):
    port = free_port()
    pidfile = short_tmp / "arbiterd.pid"
    r = arbiterd(["-D", "--pid", str(pidfile), "-b", f"127.0.0.1:{port}", "--chdir", HELLO,
                  "--control-socket", str(short_tmp / "ctl.sock"), "app:app"], cwd=short_tmp)
    pid = None
    try:
        assert r.returncode == 0, r.stderr
        pid = int(wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), timeout=30))
        assert os.getsid(pid) != os.getsid(0)   # a session of its own
        assert os.getsid(pid) != pid            # and not its leader (forked twice)
        wait_until(lambda: http_get(port).body == b"Hello, World!\n", timeout=30)
        os.kill(pid, signal.SIGTERM)
        wait_until(lambda: not pid_alive(pid), timeout=60)
    finally:
        if pid is not None and pid_alive(pid):
            os.killpg(os.getpgid(pid), signal.SIGKILL)


def test_reuse_port_lets_another_socket_bind_the_port(short_tmp):
    def second_bind(port):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            s.bind(("127.0.0.1", port))
            return 0
        except OSError as e:
            return e.errno
        finally:
            s.close()

    for flag, expected in ((["--reuse-port"], 0), ([], errno.EADDRINUSE)):
        port = free_port()
        with start_arbiterd(short_tmp, ["-b", f"127.0.0.1:{port}", *flag], env=clean_env()) as arb:
            wait_workers(arb, 1)
            assert second_bind(port) == expected


def test_capture_output_sends_the_apps_prints_to_the_error_log(short_tmp):
    port = free_port()
    (short_tmp / "printing.py").write_text(
        "import sys\nprint('printed by the app', flush=True)\n"
        "print('to stderr too', file=sys.stderr, flush=True)\n"
        "def app(environ, start_response):\n"
        "    start_response('200 OK', [('Content-Length', '2')])\n    return [b'ok']\n")
    log = short_tmp / "error.log"
    argv = [binary("arbiterd"), "--control-socket", str(short_tmp / "ctl.sock"), "--capture-output",
            "--error-logfile", str(log), "-b", f"127.0.0.1:{port}", "--chdir", str(short_tmp),
            "printing:app"]
    with Spawned(argv, env=clean_env(), logdir=short_tmp / "logs") as arb:
        wait_until(lambda: http_get(port).body == b"ok", timeout=30)
        wait_until(lambda: "to stderr too" in log.read_text(), timeout=30)
        assert "printed by the app" in log.read_text()
        assert "printed by the app" not in Path(arb.stdout_path).read_text()


def test_hup_rereads_gunicorn_conf_py_and_keeps_running_on_a_broken_edit(short_tmp):
    port = free_port()
    conf = short_tmp / "gunicorn.conf.py"

    def write(body):
        conf.write_text(f"bind = '127.0.0.1:{port}'\n{body}\n")

    write("workers = 1")
    argv = [binary("arbiterd"), "--control-socket", str(short_tmp / "ctl.sock"), "--", PYTHON, TESTWORKER]
    with Spawned(argv, cwd=str(short_tmp), env=clean_env(), logdir=short_tmp / "logs") as arb:
        # Until the helper has exec'd, its cmdline is arbiterd's: wait for
        # arbiterd to serve (its signal handling is up by then).
        wait_until(lambda: http_get(port).status == 200, timeout=30)
        wait_workers(arb, 1)
        write("workers = 1 + 1")
        arb.signal(signal.SIGHUP)
        wait_workers(arb, 2, timeout=30)
        write("workers = 3 / 0")
        arb.signal(signal.SIGHUP)
        wait_until(lambda: "ZeroDivisionError" in arb.stderr_text(), timeout=30)
        assert arb.poll() is None
        # The reload to 2 workers may still be rolling (a surge worker
        # READY before an old one stops): the count settles at 2.
        wait_until(lambda: len(workers_of(arb)) == 2, timeout=30)
        assert http_get(port).status == 200


def test_proxy_protocol_true_or_false_from_an_older_config_means_auto_or_off(short_tmp):
    conf = short_tmp / "gunicorn.conf.py"
    for given, meant in (("True", "auto"), ("False", "off"), ("'v2'", "v2")):
        conf.write_text(f"proxy_protocol = {given}\nproxy_allow_ips = '10.0.0.0/8'\nwsgi_app = 'app:app'\n")
        r = arbiterd(["-c", str(conf), "--print-config"], cwd=short_tmp)
        assert r.returncode == 0, r.stderr
        s = settings_of(r.stdout)
        assert s["proxy_protocol"] == meant, r.stdout
        assert s["proxy_allow_ips"] == "10.0.0.0/8"
    conf.write_text("proxy_protocol = 'v3'\nwsgi_app = 'app:app'\n")
    r = arbiterd(["-c", str(conf), "--check-config"], cwd=short_tmp)
    assert r.returncode == 2 and "v3" in r.stderr, (r.returncode, r.stderr)
