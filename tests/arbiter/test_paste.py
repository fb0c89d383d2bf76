"""Gunicorn's --paste: the app of a PasteDeploy ini file (python3-pastedeploy),
[app:main] or FILE#name, with --paste-global's global_conf, run by gworker."""

from __future__ import annotations

import subprocess

from arbiter_e2e_support import env_without_systemd, short_tmp, wait_workers  # noqa: F401
from gftest import Spawned, binary, free_port, http_get, wait_until

FACTORY = '''
def make_app(global_conf, greeting="hello", **local_conf):
    who = global_conf.get("who", "nobody")

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [("%s %s\\n" % (greeting, who)).encode()]
    return app
'''

INI = '''
[app:main]
paste.app_factory = pasteapp:make_app
greeting = bonjour

[app:other]
paste.app_factory = pasteapp:make_app
greeting = hola
'''


def clean_env() -> dict:
    env = env_without_systemd()
    env.pop("GUNICORN_CMD_ARGS", None)
    return env


def serve(tmp, *args) -> bytes:
    port = free_port()
    argv = [binary("arbiterd"), "--control-socket", str(tmp / "ctl.sock"), "-w", "1", "-b", f"127.0.0.1:{port}",
            *args]
    with Spawned(argv, env=clean_env(), cwd=str(tmp), logdir=tmp / "logs") as arb:
        wait_workers(arb, 1, marker="gworker", timeout=60)
        return wait_until(lambda: http_get(port).body, timeout=30)


def test_paste_ini_app_main_and_a_named_app_with_global_conf(short_tmp):
    (short_tmp / "pasteapp.py").write_text(FACTORY)
    (short_tmp / "app.ini").write_text(INI)
    assert serve(short_tmp, "--paste", "app.ini") == b"bonjour nobody\n"
    assert serve(short_tmp, "--paste", "app.ini#other", "--paste-global", "who=world") == b"hola world\n"


def test_paste_mistakes_are_refused_at_start(short_tmp):
    (short_tmp / "app.ini").write_text(INI)
    for args, what in ((["--paste", "missing.ini"], "not found"),
                       (["--paste", "app.ini", "app:app"], "give no APP"),
                       (["--paste-global", "a=1", "app:app"], "needs --paste")):
        r = subprocess.run([binary("arbiterd"), *args, "--check-config"], cwd=short_tmp, env=clean_env(),
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 2 and what in r.stderr, (args, r.stderr)
