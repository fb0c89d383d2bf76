"""The error log's line formats, shared by arbiterd and gworker
(common/error_log): Gunicorn's text line "[%Y-%m-%d %H:%M:%S %z] [PID]
[LEVEL] message", and --log-format json (one object per line: time, level,
pid, program, pool, message, exception), forwarded to gworker."""

from __future__ import annotations

import json
import re
import signal

from arbiter_e2e_support import env_without_systemd, short_tmp, wait_workers  # noqa: F401
from gftest import Spawned, binary, free_port, http_get, source, wait_until

TEXT_LINE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[(\d+)\] "
                       r"\[(DEBUG|INFO|WARNING|ERROR|CRITICAL)\] ")
RAISING_CONF = "def when_ready(server):\n    raise ZeroDivisionError('on purpose')\n"


def run_hello(tmp, *extra):
    port = free_port()
    conf = tmp / "gunicorn.conf.py"
    conf.write_text(RAISING_CONF)
    env = env_without_systemd()
    env.pop("GUNICORN_CMD_ARGS", None)
    argv = [binary("arbiterd"), "--control-socket", str(tmp / "ctl.sock"), "-c", str(conf), "-w", "2",
            "-b", f"127.0.0.1:{port}", "--chdir", source("examples/hello"), *extra, "app:app"]
    arb = Spawned(argv, env=env, logdir=tmp / "logs").start()
    try:
        workers = wait_workers(arb, 2, marker="gworker", timeout=60)
        wait_until(lambda: http_get(port).status == 200, timeout=30)
        wait_until(lambda: "on purpose" in arb.stderr_text(), timeout=30, message="when_ready's traceback")
        arb.signal(signal.SIGTERM)
        assert arb.wait(timeout=30) == 0, arb.output()
        return arb.pid, workers, arb.stderr_text()
    finally:
        arb.stop(timeout=5)


def test_json_error_log_lines_from_arbiterd_and_gworker_parse_one_object_each(short_tmp):
    master, workers, err = run_hello(short_tmp, "--log-format", "json")
    records = [json.loads(line) for line in err.splitlines()]  # every line is one object
    assert records
    for r in records:
        assert set(r) == {"time", "level", "pid", "program", "pool", "message", "exception"}, r
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", r["time"]), r
        assert r["level"] in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), r
    mine = [r for r in records if r["pid"] == master]
    assert mine and all(r["program"] == "arbiterd" and r["pool"] is None for r in mine)
    assert any(r["message"].startswith("Listening at: 127.0.0.1:") for r in mine)
    theirs = [r for r in records if r["pid"] in workers]
    assert theirs and all(r["program"] == "gworker" and r["pool"] == "main" for r in theirs), theirs
    # A hook's traceback is the record's exception, apart from its message.
    hook = [r for r in mine if r["exception"]]
    assert len(hook) == 1, hook
    assert hook[0]["level"] == "ERROR" and hook[0]["message"] == "Exception in when_ready hook:"
    assert hook[0]["exception"].startswith("Traceback (most recent call last):")
    assert hook[0]["exception"].endswith("ZeroDivisionError: on purpose")


def test_text_error_log_is_gunicorns_line_in_both_programs(short_tmp):
    master, workers, err = run_hello(short_tmp)
    pids = set()
    in_traceback = False
    for line in err.splitlines():
        m = TEXT_LINE.match(line)
        if m is None:
            # The lines of a multi-line message (a traceback) follow its first one.
            assert in_traceback, line
            continue
        in_traceback = line.endswith("Exception in when_ready hook:")
        pids.add(int(m.group(1)))
    assert master in pids and set(workers) & pids, (master, workers, pids)
    assert "ZeroDivisionError: on purpose" in err
