"""Loading failures (exit 4, arbiterd stops with the message), --reload, and
what gworker tells arbiterd over the notify socket (counters, request age)."""
from __future__ import annotations

import json
import os
import subprocess
import threading

import pytest

from gftest import Spawned, binary, free_port, wait_until
from wsgi_support import APPS, control_socket, get, serving, worker_pids


def run_to_exit(spec: str, *args: str, timeout: float = 30) -> tuple[int, str]:
    port = free_port()
    with control_socket() as ctl, \
            Spawned([binary("arbiterd"), "--control-socket", ctl, "-w", "2",
                     "-b", f"127.0.0.1:{port}", "--chdir", str(APPS), *args, spec]) as arb:
        try:
            code = arb.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pytest.fail(f"arbiterd kept running with a broken app:\n{arb.output()}")
        return code, arb.stderr_text() + arb.stdout_text()


@pytest.mark.parametrize("spec, message", [
    ("broken_import:app", "No module named 'no_such_dependency_for_greenfork_tests'"),
    ("gateway_app:nope", "Failed to find application object 'nope' in 'gateway_app'"),
    ("gateway_app:not_callable", "Application object must be callable."),
    ("gateway_app:app(", "Failed to parse 'app(' as an attribute name or function call."),
])
def test_app_that_fails_to_load_stops_arbiterd(spec, message):
    code, output = run_to_exit(spec)
    assert code != 0, output
    assert message in output, output
    if spec.startswith("broken_import"):
        assert "Traceback (most recent call last)" in output, output


def test_gworker_alone_exits_4():
    port = free_port()
    with Spawned([binary("gworker"), "-b", f"127.0.0.1:{port}", "--chdir", str(APPS),
                  "gateway_app:not_callable"]) as w:
        assert w.wait(timeout=30) == 4, w.output()
        assert "Application object must be callable." in w.stderr_text()


V1 = 'def app(environ, start_response):\n' \
     '    start_response("200 OK", [("Content-Type", "text/plain")])\n' \
     '    return [b"%s"]\n'


def write_app(path, text):
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    # Make the change visible to an mtime poll even on coarse clocks.
    os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000)) if before else None


ASGI_V1 = 'async def app(scope, receive, send):\n' \
          '    if scope["type"] != "http":\n' \
          '        return\n' \
          '    await send({"type": "http.response.start", "status": 200, "headers": []})\n' \
          '    await send({"type": "http.response.body", "body": b"%s"})\n'


@pytest.mark.parametrize("worker_class", ["sync", "asgi", "gevent", "eventlet"])
def test_reload_picks_up_an_edited_file(tmp_path, worker_class):
    template = ASGI_V1 if worker_class == "asgi" else V1
    app = tmp_path / "live_app.py"
    write_app(app, template % "version one")
    with serving("live_app:app", "--reload", "-k", worker_class, chdir=tmp_path) as (port, arb):
        assert get(port, "/").body == b"version one"
        write_app(app, template % "version two")
        wait_until(lambda: get(port, "/").body == b"version two", timeout=30,
                   message="the edited app served")
        # A syntax error while editing: a 500 page with the traceback, no exit.
        write_app(app, "def app(environ, start_response:\n")
        wait_until(lambda: get(port, "/").status == 500 and b"SyntaxError" in get(port, "/").body,
                   timeout=30, message="the syntax error page")
        assert arb.poll() is None
        write_app(app, template % "version three")
        wait_until(lambda: get(port, "/").body == b"version three", timeout=30,
                   message="recovery after the fix")


def make_venv(path):
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", str(path)], check=True,
                   timeout=120)
    marker = path / "lib" / "python3.11" / "site-packages" / "venvmarker"
    marker.mkdir()
    (marker / "__init__.py").write_text("")


def test_virtualenv_from_the_environment(tmp_path):
    venv = tmp_path / "venv"
    make_venv(venv)
    with serving("gateway_app:app", extra_env={"VIRTUAL_ENV": str(venv)}) as (port, _):
        info = json.loads(get(port, "/sys", timeout=30).body)
    assert info["executable"] == str(venv / "bin" / "python3")
    assert info["prefix"] == str(venv)
    assert info["child_prefix"] == str(venv)  # subprocesses run the venv's python
    assert info["venv_marker"] is True


def test_gworker_virtualenv_flag_and_a_bad_one(tmp_path):
    venv = tmp_path / "venv"
    make_venv(venv)
    port = free_port()
    with Spawned([binary("gworker"), "-b", f"127.0.0.1:{port}", "--chdir", str(APPS),
                  "--virtualenv", str(venv), "gateway_app:app"]) as w:
        wait_until(lambda: get(port, "/hello").status == 200, timeout=30)
        info = json.loads(get(port, "/sys", timeout=30).body)
        assert info["prefix"] == str(venv) and info["venv_marker"] is True
    with Spawned([binary("gworker"), "-b", f"127.0.0.1:{free_port()}", "--chdir", str(APPS),
                  "--virtualenv", str(tmp_path / "missing"), "gateway_app:app"]) as w:
        assert w.wait(timeout=30) == 4, w.output()
        assert "no such directory" in w.stderr_text()


def pool_status(arb) -> dict:
    res = subprocess.run([binary("gctl"), "--socket", f"unix:{arb.control_socket}", "--json",
                          "status"], capture_output=True, text=True, timeout=10)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)["pools"][0]


def test_gworker_beats_carry_its_counters_to_gctl_status():
    # -t 2: a beat every second.
    with serving("gateway_app:app", "-t", "2", workers=1) as (port, arb):
        for _ in range(7):
            assert get(port, "/hello").status == 200
        workers = wait_until(
            lambda: [w for w in pool_status(arb)["workers"] if int(w["requests_served"]) >= 7],
            timeout=10, message="requests_served from gworker's beats")
        assert workers[0]["status_text"] == "serving"
        assert int(workers[0]["requests_in_flight"]) == 0
        assert pool_status(arb)["workers"][0]["last_heartbeat_age_seconds"] < 2.0


def replaced_when_stuck(port: int, arb) -> None:
    """Sends a request that stays in the app, waits until arbiterd replaced
    the worker, and checks the request failed and the pool serves again."""
    first = worker_pids(arb)
    outcome = []

    def stuck_request():
        try:
            outcome.append(get(port, "/slow?ms=30000", timeout=40).status)
        except (ConnectionError, OSError) as exc:  # the killed worker drops it
            outcome.append(type(exc).__name__)

    t = threading.Thread(target=stuck_request, daemon=True)
    t.start()
    wait_until(lambda: worker_pids(arb) and worker_pids(arb) != first, timeout=15,
               message="the stuck worker replaced")
    assert get(port, "/hello").status == 200
    t.join(10)
    assert outcome and outcome[0] != 200, outcome


def test_sync_gworker_stuck_in_a_request_is_replaced_after_the_timeout():
    """The sync worker runs the app on its I/O loop: stuck there, it stops
    beating and arbiterd replaces it after --timeout, as Gunicorn does."""
    with serving("gateway_app:app", "-t", "2", workers=1) as (port, arb):
        replaced_when_stuck(port, arb)
        assert "no heartbeat within timeout" in arb.stderr_text()


def test_max_request_age_replaces_a_gworker_stuck_in_a_request():
    """gthread: the I/O thread keeps beating while an app thread is stuck;
    the beats' oldest request age trips the pool's max_request_age."""
    with serving("gateway_app:app", "-k", "gthread", "--threads", "2", "-t", "2",
                 "--max-request-age", "2", workers=1) as (port, arb):
        replaced_when_stuck(port, arb)
        wait_until(lambda: "a request exceeded max_request_age" in arb.stderr_text(), timeout=5)
