"""Gunicorn's command lines, unchanged: `arbiterd [flags] APP` runs gworker
(found next to arbiterd) on the WSGI app and forwards the worker flags."""

from __future__ import annotations

import re
import shlex
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from arbiter_e2e_support import cmdline, env_without_systemd, short_tmp, wait_workers  # noqa: F401
from gftest import Spawned, binary, free_port, http_get, source, unix_http_get, wait_until


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


# --- The documented command lines, run verbatim (issue 14) -----------------
#
# Every `arbiterd ...` line in a ```sh block of the README and the examples'
# READMEs, plus Gunicorn-docs style lines, is run as written but for: ports
# (each replaced by a free one), 0.0.0.0 (loopback only in tests), unix
# socket paths (moved into the test's directory) and the binary's path. They
# run in a directory holding the apps the lines name (myproject.wsgi,
# app:create_app(), myapp) next to a link to examples/, with the control
# socket in $XDG_RUNTIME_DIR as a user's would be.

DOC_FILES = ["README.md", "examples/hello/README.md", "examples/flask_app/README.md",
             "examples/django_project/README.md", "examples/workers/README.md",
             "examples/fastapi_app/README.md", "examples/frameworks/README.md"]

# Gunicorn's documentation's command lines (docs/source/run.rst, settings.rst),
# gunicorn replaced by arbiterd and test:app by myapp:app.
GUNICORN_DOC_LINES = [
    "arbiterd --workers=2 -b 127.0.0.1:8000 myapp:app",
    "arbiterd -w 4 -b 127.0.0.1:4000 myapp:app",
    "arbiterd -b 127.0.0.1:8000 -b [::1]:8000 myapp:app",
    "arbiterd --bind unix:/tmp/gunicorn.sock myapp:app",
    "arbiterd -e GREETING=bonjour -e OTHER=1 -b 127.0.0.1:8000 myapp:app",
    "arbiterd --env GREETING=bonjour --bind=127.0.0.1:8000 myapp:app",
    "arbiterd -k gthread --threads 3 -b 127.0.0.1:8000 -b 127.0.0.1:8001 myapp:app",
    "arbiterd --forwarded-allow-ips=\"127.0.0.1,10.0.0.1\" -b 127.0.0.1:8000 myapp:app",
    "arbiterd -b 127.0.0.1:8000 'myapp:create_app()'",
    "arbiterd --workers=2 myapp:app",  # Gunicorn's default bind, 127.0.0.1:8000
    "arbiterd 'myapp:create_app()'",
]

MYAPP = '''
import os

def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("hello " + os.environ.get("GREETING", "world") + "\\n").encode()]

def create_app():
    return app
'''


# main:app of the ASGI lines (-k asgi, uvicorn's worker classes).
MAIN_ASGI = '''
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello asgi\\n"})
'''


def documented_lines() -> list[str]:
    lines = []
    for rel in DOC_FILES:
        text = Path(source(rel)).read_text()
        for block in re.findall(r"```sh\n(.*?)```", text, re.S):
            for line in block.splitlines():
                line = line.strip()
                if re.match(r"^(build/bin/)?arbiterd\s", line):
                    lines.append(line)
    return lines


def app_dir(tmp: Path) -> Path:
    """myproject/wsgi.py, app.py (create_app), myapp.py, main.py (ASGI), examples/ and
    examples/frameworks/*.py."""
    d = tmp / "apps"
    (d / "myproject").mkdir(parents=True)
    (d / "myproject" / "__init__.py").write_text("")
    (d / "myproject" / "wsgi.py").write_text("from myapp import app as application\n")
    (d / "myapp.py").write_text(MYAPP)
    (d / "main.py").write_text(MAIN_ASGI)
    (d / "app.py").write_text("from myapp import app, create_app  # noqa: F401\n")
    (d / "examples").symlink_to(source("examples"))
    (d / "workers").symlink_to(source("examples/workers"))
    for example in Path(source("examples/frameworks")).glob("*.py"):
        (d / example.name).symlink_to(example)
    return d


def localize(line: str, tmp: Path):
    """argv of a documented line for this machine, and where it serves."""
    argv = shlex.split(line.split(" #")[0])
    argv[0] = binary("arbiterd")
    ports: dict[str, int] = {}
    serves: list[tuple[str, object]] = []
    out = []
    default_bind = True
    for i, arg in enumerate(argv):
        flag_value = i > 0 and argv[i - 1] in ("-b", "--bind")
        inline = arg.startswith("--bind=")
        if flag_value or inline:
            default_bind = False
            value = arg[len("--bind="):] if inline else arg
            if value.startswith("unix:"):
                path = str(tmp / Path(value[5:]).name)
                value = "unix:" + path
                serves.append(("unix", path))
            else:
                host, port = value.rsplit(":", 1)
                host = "127.0.0.1" if host == "0.0.0.0" else host
                family = socket.AF_INET6 if host.startswith("[") else socket.AF_INET
                try:
                    ports.setdefault(port, free_port(family))
                except OSError:
                    pytest.skip(f"{host} is not available on this machine")
                value = f"{host}:{ports[port]}"
                serves.append((host.strip("[]"), ports[port]))
            arg = "--bind=" + value if inline else value
        out.append(arg)
    return out, serves, default_bind and "--" not in argv and "-c" not in argv


def serves_ok(where) -> bool:
    kind, addr = where
    if kind == "unix":
        return unix_http_get(addr).status == 200
    return http_get(addr, host=kind).status == 200


def check_config(argv, cwd, env):
    done = subprocess.run(argv + ["--check-config"], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, (argv, done.stdout, done.stderr)
    assert "config OK" in done.stdout


@pytest.mark.parametrize("line", documented_lines() + GUNICORN_DOC_LINES)
def test_documented_command_line_starts_and_serves(short_tmp, line):
    cwd = app_dir(short_tmp)
    argv, serves, default_bind = localize(line, short_tmp)
    env = env_without_systemd()
    env["XDG_RUNTIME_DIR"] = str(short_tmp)
    needs = [a for a in argv[argv.index("--") + 1:][:1]] if "--" in argv else []
    if needs and shutil.which(needs[0]) is None:
        pytest.skip(f"{needs[0]} is not installed")
    if "-c" in argv or default_bind:
        # Fixed ports (a config file's, Gunicorn's default 8000) may be taken
        # on a shared machine: validate without starting.
        check_config(argv, cwd, env)
        return
    with Spawned(argv, env=env, cwd=str(cwd), logdir=short_tmp / "logs") as arb:
        for where in serves:
            wait_until(lambda: arb.poll() is None and serves_ok(where), timeout=60,
                       message=f"{line} to serve on {where}")
        if "GREETING=bonjour" in line:
            assert http_get(serves[0][1]).body == b"hello bonjour\n"
        assert arb.poll() is None, arb.output()


def test_mixed_pools_example_starts_with_its_ports_replaced(short_tmp):
    """`arbiterd -c examples/mixed.toml` above is only validated (its ports
    are fixed); here the same file runs with free ports."""
    cwd = app_dir(short_tmp)
    text = Path(source("examples/mixed.toml")).read_text()
    ports = {}
    for port in sorted(set(re.findall(r'"127\.0\.0\.1:(\d+)"', text))):
        ports[port] = free_port()
        text = text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{ports[port]}")
    if shutil.which("node") is None:
        pytest.skip("node is not installed")
    (cwd / "mixed.toml").write_text(text)
    env = env_without_systemd()
    env["XDG_RUNTIME_DIR"] = str(short_tmp)
    with Spawned([binary("arbiterd"), "-c", "mixed.toml"], env=env, cwd=str(cwd),
                 logdir=short_tmp / "logs") as arb:
        for port in ports.values():
            wait_until(lambda: http_get(port).status == 200, timeout=60,
                       message=f"mixed.toml pool on {port}")
        assert arb.poll() is None


# --- Worker options checked before forking (issue 14) ----------------------

BAD_WORKER_OPTIONS = [
    ("--threads", "0"), ("--threads", "1025"), ("--worker-connections", "0"),
    ("--keep-alive", "3601"), ("--max-requests", "-1"), ("--max-requests-jitter", "1.5"),
    ("--limit-request-line", "8191"), ("--limit-request-fields", "32769"),
    ("--limit-request-field_size", "x"), ("--header-timeout", "0"),
    ("--body-timeout", "3601"), ("--write-timeout", "0.01"), ("--worker-class", "nosuchclass"),
    ("--timeout", "86401"), ("--graceful-timeout", "86401"),
]


@pytest.mark.parametrize("flag,value", BAD_WORKER_OPTIONS)
def test_bad_worker_option_is_refused_before_forking(short_tmp, flag, value):
    port = free_port()
    argv = [binary("arbiterd"), "--control-socket", str(short_tmp / "ctl.sock"), "-w", "2",
            "-b", f"127.0.0.1:{port}", "--chdir", source("examples/hello"),
            "-k", "gthread", flag, value, "app:app"]
    with Spawned(argv, env=env_without_systemd(), logdir=short_tmp / "logs") as arb:
        code = arb.wait(timeout=30)
        err = arb.stderr_text()
    assert code == 2, err
    assert flag in err and value in err, err
    assert len(err.strip().splitlines()) == 1, err


# --- The examples' gunicorn.conf.py, run as Gunicorn would run them ---------

@pytest.mark.parametrize("example,ready_line", [
    ("flask_app", "flask example: ready with 2 workers on 127.0.0.1:"),
    ("django_project", "django example: ready with 2 workers on 127.0.0.1:"),
])
def test_example_gunicorn_conf_py_serves_and_runs_its_hooks(short_tmp, example, ready_line):
    port = free_port()
    conf = source(f"examples/{example}/gunicorn.conf.py")
    argv = [binary("arbiterd"), "--control-socket", str(short_tmp / "ctl.sock"), "-c", conf,
            "-b", f"127.0.0.1:{port}"]  # the command line over the file's bind
    with Spawned(argv, env=env_without_systemd(), cwd=str(short_tmp), logdir=short_tmp / "logs") as arb:
        wait_workers(arb, 2, marker="gworker", timeout=60)
        wait_until(lambda: http_get(port, "/api/info").status == 200, timeout=60)
        wait_until(lambda: f"{ready_line}{port}" in arb.stderr_text(), timeout=30, message="when_ready's line")
        arb.signal(signal.SIGTERM)
        assert arb.wait(timeout=30) == 0, arb.output()
        assert f"{example.split('_')[0]} example: stopped" in arb.stderr_text()
