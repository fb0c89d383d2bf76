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
from gftest import Spawned, binary, file_logging_ini, free_port, http_get, wait_until

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
        wait_until(lambda: served_by(port, app_log, "V1", n), timeout=60, message=f"a V1 line\n{arb.output()}")
        write_conf(tmp, port, dict_config(app_log, "V2"), errorlog=str(error_log))
        arb.signal(signal.SIGHUP)
        new_pid = wait_until(lambda: served_by(port, app_log, "V2", n), timeout=60,
                             message=f"a V2 line from a new worker\n{error_log.read_text()}")
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
            assert served_by(port, app_log, "V2", n) == new_pid, app_log.read_text()
        assert "V3 " not in app_log.read_text()
        assert arb.poll() is None
        arb.signal(signal.SIGTERM)
        assert arb.wait(timeout=30) == 0, arb.output()


INI = file_logging_ini("TAG %(name)s %(message)s")


def test_hup_rereads_the_logconfig_ini_file_the_conf_names(short_tmp):
    tmp = short_tmp
    (tmp / "logapp.py").write_text(APP)
    port = free_port()
    app_log, error_log, ini = tmp / "app.log", tmp / "error.log", tmp / "logging.ini"
    ini.write_text(INI.replace("TAG", "INI1"))
    (tmp / "gunicorn.conf.py").write_text("\n".join([
        f"bind = '127.0.0.1:{port}'", "workers = 1", "wsgi_app = 'logapp:app'", f"chdir = {str(tmp)!r}",
        f"control_socket = {str(tmp / 'ctl.sock')!r}", f"errorlog = {str(error_log)!r}",
        f"logconfig = {str(ini)!r}"]) + "\n")
    with Spawned([binary("arbiterd")], cwd=str(tmp), env=env(), logdir=tmp / "logs") as arb:
        n = [0]
        wait_until(lambda: served_by(port, app_log, "INI1", n), timeout=60, message=arb.output())
        ini.write_text(INI.replace("TAG", "INI2"))  # the same path, new contents
        arb.signal(signal.SIGHUP)
        wait_until(lambda: served_by(port, app_log, "INI2", n), timeout=60,
                   message=f"an INI2 line from a new worker\n{error_log.read_text()}")
        ini.write_text("[loggers]\nkeys = root\n")  # no [logger_root]: fileConfig fails
        arb.signal(signal.SIGHUP)
        wait_until(lambda: "reload rolled back" in error_log.read_text(), timeout=60, message=error_log.read_text())
        assert served_by(port, app_log, "INI2", n)
        arb.signal(signal.SIGTERM)
        assert arb.wait(timeout=30) == 0, arb.output()


HELLO_APP = ("def app(environ, start_response):\n"
             "    start_response('200 OK', [('Content-Length', '2')])\n    return [b'ok']\n")


def json_lines(path, start=0):
    out = []
    for line in path.read_text()[start:].splitlines():
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def test_hup_sets_arbiterds_own_error_log_up_again_and_a_bad_value_keeps_the_old(short_tmp):
    from arbiter_e2e_support import wait_workers
    tmp = short_tmp
    (tmp / "hello.py").write_text(HELLO_APP)
    port = free_port()
    log1, log2 = tmp / "one.log", tmp / "two.log"
    conf = tmp / "gunicorn.conf.py"

    def write(**settings):
        lines = [f"bind = '127.0.0.1:{port}'", "workers = 1", "wsgi_app = 'hello:app'",
                 f"chdir = {str(tmp)!r}", f"control_socket = {str(tmp / 'ctl.sock')!r}"]
        conf.write_text("\n".join(lines + [f"{k} = {v!r}" for k, v in settings.items()]) + "\n")

    write(errorlog=str(log1), loglevel="info")
    with Spawned([binary("arbiterd")], cwd=str(tmp), env=env(), logdir=tmp / "logs") as arb:
        wait_until(lambda: log1.exists() and "All pools ready" in log1.read_text(), timeout=60,
                   message=arb.output())
        assert http_get(port).status == 200
        first = wait_workers(arb, 1, marker="gworker", timeout=60)

        # 1. A new errorlog and log_format: arbiterd's own lines go to the
        # new file, as JSON, from the reload on (so do the new workers').
        write(errorlog=str(log2), loglevel="info", log_format="json")
        arb.signal(signal.SIGHUP)
        wait_until(lambda: log2.exists() and any(
            j["program"] == "arbiterd" and "reloaded (generation 1)" in j["message"] for j in json_lines(log2)),
            timeout=60, message=log1.read_text())
        text1 = log1.read_text()
        assert "reloaded (generation 1)" not in text1, text1
        assert "take effect on restart" not in text1 + log2.read_text()
        assert all(l.startswith("{") for l in log2.read_text().splitlines()), log2.read_text()
        # The new worker writes its own lines there too (it may log after its READY).
        wait_until(lambda: any(j["program"] == "gworker" for j in json_lines(log2)),
                   timeout=30, message=log2.read_text())
        second = wait_workers(arb, 1, marker="gworker", exclude=first, timeout=60)
        # The old worker's exit is logged (INFO) just after it is reaped.
        wait_until(lambda: all(f"Worker exited (pid: {p})" in log2.read_text() for p in first),
                   timeout=30, message=log2.read_text())

        # 2. loglevel warning: arbiterd's INFO lines stop.
        start = len(log2.read_text())
        write(errorlog=str(log2), loglevel="warning", log_format="json")
        arb.signal(signal.SIGHUP)
        wait_workers(arb, 1, marker="gworker", exclude=second, timeout=60)
        assert http_get(port).status == 200
        mine = [j for j in json_lines(log2, start) if j["program"] == "arbiterd"]
        assert not [j for j in mine if j["level"] == "INFO" and "Handling signal" not in j["message"]], mine

        # 3. An errorlog that cannot be opened: arbiterd keeps its log and
        # says why; the new workers cannot open it either, so the reload is
        # rolled back and the running worker keeps serving.
        third = wait_workers(arb, 1, marker="gworker", timeout=60)
        write(errorlog=str(tmp / "no-such-dir" / "x.log"), loglevel="warning", log_format="json")
        arb.signal(signal.SIGHUP)
        wait_until(lambda: any("reload rolled back" in j["message"] for j in json_lines(log2, start)),
                   timeout=60, message=log2.read_text())
        errors = [j["message"] for j in json_lines(log2, start) if j["level"] == "ERROR"]
        assert any("error log unchanged" in m and "no-such-dir" in m for m in errors), errors
        assert workers_alive(arb) == third
        assert http_get(port).status == 200

        # 4. A bad loglevel: the whole reload is refused with the reason.
        write(errorlog=str(log2), loglevel="loud", log_format="json")
        arb.signal(signal.SIGHUP)
        wait_until(lambda: any("loud" in j["message"] and "keeping the running configuration" in j["message"]
                           for j in json_lines(log2, start)),
                   timeout=60, message=log2.read_text())
        assert workers_alive(arb) == third
        assert arb.poll() is None
        arb.signal(signal.SIGTERM)
        assert arb.wait(timeout=30) == 0, arb.output()


def workers_alive(arb):
    from arbiter_e2e_support import workers_of
    return workers_of(arb, "gworker")


def test_hup_turns_syslog_on_and_an_unreachable_one_keeps_the_old(short_tmp):
    import re
    import socket
    from arbiter_e2e_support import wait_workers
    line = re.compile(rb"^<(\d+)>([^:]+): \[(\d+)\] (.*)\x00$", re.S)
    tmp = short_tmp
    (tmp / "hello.py").write_text(HELLO_APP)
    port = free_port()
    log = tmp / "error.log"
    conf = tmp / "gunicorn.conf.py"
    closed = free_port()  # nothing listens there: a tcp syslog cannot connect

    def write(**settings):
        lines = [f"bind = '127.0.0.1:{port}'", "workers = 1", "wsgi_app = 'hello:app'",
                 f"chdir = {str(tmp)!r}", f"control_socket = {str(tmp / 'ctl.sock')!r}",
                 f"errorlog = {str(log)!r}", "proc_name = 'hupsys'"]
        conf.write_text("\n".join(lines + [f"{k} = {v!r}" for k, v in settings.items()]) + "\n")

    got: list[bytes] = []

    def messages(pid):
        while True:
            try:
                got.append(sink.recv(65536))
            except BlockingIOError:
                break
        return [m.group(4).decode() for m in map(line.match, got) if m and int(m.group(3)) == pid]

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setblocking(False)
    write()
    with sink, Spawned([binary("arbiterd")], cwd=str(tmp), env=env(), logdir=tmp / "logs") as arb:
        wait_until(lambda: log.exists() and "All pools ready" in log.read_text(), timeout=60, message=arb.output())
        wait_workers(arb, 1, marker="gworker", timeout=60)
        write(syslog=True, syslog_addr=f"udp://127.0.0.1:{sink.getsockname()[1]}")
        arb.signal(signal.SIGHUP)
        wait_until(lambda: any("reloaded (generation 1)" in m for m in messages(arb.pid)), timeout=60,
                   message=log.read_text())
        write(syslog=True, syslog_addr=f"tcp://127.0.0.1:{closed}")
        arb.signal(signal.SIGHUP)
        wait_until(lambda: "error log unchanged" in log.read_text(), timeout=60, message=log.read_text())
        # The old syslog keeps getting arbiterd's lines after the refusal.
        wait_until(lambda: any("rolled back" in m or "reloaded (generation 2)" in m for m in messages(arb.pid)),
                   timeout=60, message=f"{log.read_text()}\n{messages(arb.pid)}")
        assert any("error log unchanged" in m for m in messages(arb.pid)), messages(arb.pid)
        arb.signal(signal.SIGTERM)
        assert arb.wait(timeout=30) == 0, arb.output()
