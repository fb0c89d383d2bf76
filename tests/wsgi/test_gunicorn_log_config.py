"""--log-config (fileConfig ini), --log-config-dict / logconfig_dict and
--log-config-json applied in gworker's interpreter with Gunicorn's semantics
(merged over its CONFIG_DEFAULTS, existing loggers kept)."""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

from gftest import Spawned, binary, file_logging_ini, free_port, http_request, wait_until
from wsgi_support import serving

APP = textwrap.dedent('''
    import logging

    def app(environ, start_response):
        logging.getLogger("myapp").info("myapp says %s", environ["PATH_INFO"])
        logging.getLogger("gunicorn.error").warning("gunicorn.error says %s", environ["PATH_INFO"])
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]
''')

INI = file_logging_ini("INI %(name)s %(levelname)s %(message)s")


def dict_config(log_path: Path, tag: str) -> dict:
    # As under Gunicorn, the dict replaces CONFIG_DEFAULTS' top-level keys:
    # its "handlers" drop the default "console", so "root" is given too.
    return {
        "version": 1,
        "root": {"level": "WARNING", "handlers": []},
        "formatters": {"plain": {"format": tag + " %(name)s %(levelname)s %(message)s"}},
        "handlers": {"appfile": {"class": "logging.FileHandler", "filename": str(log_path),
                                 "formatter": "plain"}},
        "loggers": {"myapp": {"level": "INFO", "handlers": ["appfile"], "propagate": False}},
    }


def run_one(tmp_path: Path, *args: str, app_log: Path, expect: str) -> str:
    (tmp_path / "logcfgapp.py").write_text(APP)
    error_log = tmp_path / "error.log"
    port = free_port()
    with Spawned([binary("gworker"), "-b", f"127.0.0.1:{port}", "--chdir", str(tmp_path),
                  "--error-logfile", str(error_log), *args, "logcfgapp:app"]) as w:
        wait_until(lambda: w.poll() is None and http_request(port, "/first").status == 200,
                   timeout=30, message=f"gworker serving\n{w.output()}")
        wait_until(lambda: app_log.exists() and "/first" in app_log.read_text(), timeout=20,
                   message=f"the app's line in {app_log}")
        text = app_log.read_text()
        assert f"{expect} myapp INFO myapp says /first" in text, text
        # gunicorn.error keeps writing to gworker's error log (the default
        # error_console handler), in gworker's line format.
        wait_until(lambda: "gunicorn.error says /first" in error_log.read_text(), timeout=20)
        line = next(l for l in error_log.read_text().splitlines() if "gunicorn.error says" in l)
        assert f"[{w.pid}] [WARNING] gunicorn.error says /first" in line, line
    return text


def test_log_config_ini(tmp_path):
    ini = tmp_path / "logging.ini"
    ini.write_text(INI)
    run_one(tmp_path, "--log-config", str(ini), app_log=tmp_path / "app.log", expect="INI")


def test_log_config_dict_flag(tmp_path):
    app_log = tmp_path / "dict.log"
    run_one(tmp_path, "--log-config-dict", json.dumps(dict_config(app_log, "DICT")),
            app_log=app_log, expect="DICT")


def test_logconfig_dict_in_the_config_file(tmp_path):
    app_log = tmp_path / "file-dict.log"
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text("logconfig_dict = %r\n" % dict_config(app_log, "FILEDICT"))
    run_one(tmp_path, "--config", str(conf), app_log=app_log, expect="FILEDICT")


def test_log_config_json(tmp_path):
    app_log = tmp_path / "json.log"
    path = tmp_path / "logging.json"
    path.write_text(json.dumps(dict_config(app_log, "JSON")))
    run_one(tmp_path, "--log-config-json", str(path), app_log=app_log, expect="JSON")


def test_log_config_through_arbiterd(tmp_path):
    ini = tmp_path / "logging.ini"
    ini.write_text(INI)
    (tmp_path / "logcfgapp.py").write_text(APP)
    app_log = tmp_path / "app.log"
    with serving("logcfgapp:app", "--log-config", str(ini), chdir=tmp_path) as (port, arb):
        assert http_request(port, "/via-arbiterd").status == 200
        wait_until(lambda: app_log.exists() and "/via-arbiterd" in app_log.read_text(), timeout=20)


def test_bad_log_configs_fail_the_boot(tmp_path):
    (tmp_path / "logcfgapp.py").write_text(APP)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json")
    cases = [
        (["--log-config", str(tmp_path / "missing.ini")], "log config"),
        (["--log-config-json", str(bad_json)], "logging configuration"),
        (["--log-config-dict", "[1, 2]"], "logconfig_dict must be a dict"),
        (["--log-config-dict", json.dumps({"version": 1, "handlers": {"h": {"class": "no.Such"}}})],
         "logging configuration"),
    ]
    for args, message in cases:
        with Spawned([binary("gworker"), "-b", f"127.0.0.1:{free_port()}", "--chdir", str(tmp_path),
                      *args, "logcfgapp:app"]) as w:
            assert w.wait(timeout=30) == 3, (args, w.output())
            assert message in w.stderr_text(), (args, w.output())


def test_access_lines_go_through_gunicorn_access_with_a_log_config(tmp_path):
    """As in Gunicorn: with a logging config (and no --access-logfile) the
    access lines are records of gunicorn.access, wherever its handlers say."""
    (tmp_path / "logcfgapp.py").write_text(APP)
    access = tmp_path / "py-access.log"
    config = {
        "version": 1,
        "root": {"level": "WARNING", "handlers": []},
        "formatters": {"tagged": {"format": "ACCESS %(name)s %(message)s"}},
        "handlers": {"accessfile": {"class": "logging.FileHandler", "filename": str(access),
                                    "formatter": "tagged"}},
        "loggers": {"gunicorn.access": {"level": "INFO", "handlers": ["accessfile"],
                                        "propagate": False}},
    }
    port = free_port()
    with Spawned([binary("gworker"), "-b", f"127.0.0.1:{port}", "--chdir", str(tmp_path),
                  "--log-config-dict", json.dumps(config), "logcfgapp:app"]) as w:
        wait_until(lambda: http_request(port, "/counted?x=1").status == 200, timeout=30)
        wait_until(lambda: access.exists() and "/counted" in access.read_text(), timeout=20,
                   message="the access line through gunicorn.access")
        line = next(l for l in access.read_text().splitlines() if "/counted" in l)
        assert line.startswith('ACCESS gunicorn.access 127.0.0.1 - - [') and \
            '"GET /counted?x=1 HTTP/1.1" 200 2' in line, line
