"""HUP re-reads the logging setup, as Gunicorn does (arbiter.reload ->
setup logging again), end to end through arbiterd and a gunicorn.conf.py:
new gworkers use the file's new logconfig_dict, a broken one keeps the old
workers serving; arbiterd re-applies its own loglevel, errorlog and
log_format, and a bad value keeps the old setup and says why."""

from __future__ import annotations

import json
import signal
import textwrap

from arbiter_e2e_support import env_without_systemd, short_tmp  # noqa: F401
from gftest import Spawned, binary, free_port, http_get, wait_until

APP = textwrap.dedent('''
    import logging, os

    def app(environ, start_response):
        logging.getLogger("myapp").info("pid=%d path=%s", os.getpid(), environ["PATH_INFO"])
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]
''')


def env():
    e = env_without_systemd()
    e.pop("GUNICORN_CMD_ARGS", None)
    return e


def dict_config(app_log, tag):
    return {
        "version": 1,
        "root": {"level": "WARNING", "handlers": []},
        "formatters": {"plain": {"format": tag + " %(name)s %(message)s"}},
        "handlers": {"appfile": {"class": "logging.FileHandler", "filename": str(app_log),
                                 "formatter": "plain"}},
        "loggers": {"myapp": {"level": "INFO", "handlers": ["appfile"], "propagate": False}},
    }


def write_conf(tmp, port, logconfig_dict, **extra):
    lines = [f"bind = '127.0.0.1:{port}'", "workers = 1", "wsgi_app = 'logapp:app'",
             f"chdir = {str(tmp)!r}", f"control_socket = {str(tmp / 'ctl.sock')!r}",
             f"logconfig_dict = {logconfig_dict!r}"]
    lines += [f"{k} = {v!r}" for k, v in extra.items()]
    (tmp / "gunicorn.conf.py").write_text("\n".join(lines) + "\n")


def served_by(port, app_log, tag, n):
    """Requests until one is logged with `tag`; the pid that logged it."""
    path = f"/{tag}-{n[0]}"
    n[0] += 1
    if http_get(port, path).status != 200:
        return None
    for line in app_log.read_text().splitlines() if app_log.exists() else []:
        if line.startswith(tag + " myapp ") and line.endswith("path=" + path):
            return int(line.split("pid=")[1].split()[0])
    return None


def test_hup_gives_new_workers_the_new_logconfig_dict_and_a_broken_one_keeps_the_old(short_tmp):
    tmp = short_tmp
    (tmp / "logapp.py").write_text(APP)
    port = free_port()
    app_log = tmp / "app.log"
    error_log = tmp / "error.log"
    write_conf(tmp, port, dict_config(app_log, "V1"), errorlog=str(error_log))
    with Spawned([binary("arbiterd")], cwd=str(tmp), env=env(), logdir=tmp / "logs") as arb:
        n = [0]
        first = {}
        wait_until(lambda: first.setdefault("pid", served_by(port, app_log, "V1", n)) or first.pop("pid"),
                   timeout=60, message=f"a V1 line\n{arb.output()}")
        write_conf(tmp, port, dict_config(app_log, "V2"), errorlog=str(error_log))
        arb.signal(signal.SIGHUP)
        new = {}
        wait_until(lambda: new.setdefault("pid", served_by(port, app_log, "V2", n)) or new.pop("pid"),
                   timeout=60, message=f"a V2 line from a new worker\n{error_log.read_text()}")
        wait_until(lambda: "reloaded (generation" in error_log.read_text(), timeout=60)
        broken = dict_config(app_log, "V3")
        broken["handlers"]["appfile"]["class"] = "no_such_module.NoSuchHandler"
        write_conf(tmp, port, broken, errorlog=str(error_log))
        arb.signal(signal.SIGHUP)
        wait_until(lambda: "reload rolled back" in error_log.read_text(), timeout=60,
                   message=f"the rollback\n{error_log.read_text()}")
        text = error_log.read_text()
        rolled = [l for l in text.splitlines() if "reload rolled back" in l]
        assert "no_such_module" in "\n".join(rolled) or "NoSuchHandler" in "\n".join(rolled), text
        # The V2 worker still serves every request, with the V2 format.
        for _ in range(5):
            assert served_by(port, app_log, "V2", n) == new["pid"], app_log.read_text()
        assert "V3 " not in app_log.read_text()
        assert arb.poll() is None
        arb.signal(signal.SIGTERM)
        assert arb.wait(timeout=30) == 0, arb.output()
