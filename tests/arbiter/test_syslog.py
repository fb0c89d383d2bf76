"""--log-syslog: the error logs of arbiterd and gworker also go to syslog,
each line as Python's SysLogHandler sends Gunicorn's records:
"<PRI>gunicorn.PREFIX.error: [PID] message\\0" with PRI = facility*8 + severity,
to udp://, unix://PATH#dgram and unix stream sockets (tested with sockets the
test binds)."""

from __future__ import annotations

import re
import signal
import socket
import subprocess

from arbiter_e2e_support import (TESTWORKER, env_without_systemd, short_tmp,  # noqa: F401
                                 start_arbiterd, wait_workers)
from gftest import PYTHON, Spawned, binary, free_port, http_get, source, wait_until

LINE = re.compile(rb"^<(\d+)>([^:]+): \[(\d+)\] (.*)\x00$", re.S)


def clean_env() -> dict:
    env = env_without_systemd()
    env.pop("GUNICORN_CMD_ARGS", None)
    return env


def datagrams(sock: socket.socket, into: list) -> list:
    while True:
        try:
            into.append(sock.recv(65536))
        except BlockingIOError:
            return into


def test_udp_syslog_gets_arbiterd_and_gworker_lines_with_gunicorns_tag_and_priority(short_tmp):
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setblocking(False)
    port = free_port()
    argv = [binary("arbiterd"), "--control-socket", str(short_tmp / "ctl.sock"), "-w", "1",
            "-b", f"127.0.0.1:{port}", "--chdir", source("examples/hello"), "--log-syslog",
            "--log-syslog-to", f"udp://127.0.0.1:{sink.getsockname()[1]}", "--log-syslog-facility", "local3",
            "app:app"]
    got: list[bytes] = []
    with sink, Spawned(argv, env=clean_env(), logdir=short_tmp / "logs") as arb:
        workers = wait_workers(arb, 1, marker="gworker", timeout=60)
        wait_until(lambda: http_get(port).status == 200, timeout=30)

        def from_both():
            pids = {int(LINE.match(d).group(3)) for d in datagrams(sink, got) if LINE.match(d)}
            return arb.pid in pids and workers[0] in pids
        wait_until(from_both, timeout=30, message="syslog lines of arbiterd and gworker")
        arb.signal(signal.SIGTERM)
        assert arb.wait(timeout=30) == 0
        stderr = arb.stderr_text()
    for d in got:
        m = LINE.match(d)
        assert m, d
        pri, tag = int(m.group(1)), m.group(2)
        assert tag == b"gunicorn.app.app.error", d  # the APP, ':' as '.'
        assert pri >> 3 == 19, d                     # local3
    listening = [d for d in got if b"Listening at: 127.0.0.1:" in d]
    assert listening and int(LINE.match(listening[0]).group(1)) == 19 * 8 + 6  # info
    # The lines still go to stderr too.
    assert "Listening at: 127.0.0.1:" in stderr


def test_unix_syslog_datagram_and_stream_sockets_and_the_prefix(short_tmp):
    for kind, suffix in ((socket.SOCK_DGRAM, "#dgram"), (socket.SOCK_STREAM, "")):
        path = str(short_tmp / f"log-{kind}.sock")
        server = socket.socket(socket.AF_UNIX, kind)
        server.bind(path)
        if kind == socket.SOCK_STREAM:
            server.listen(4)
        with server, start_arbiterd(short_tmp, ["--log-syslog", "--log-syslog-to", f"unix://{path}{suffix}",
                                                "--log-syslog-prefix", "my:app", "-w", "1",
                                                "-b", f"127.0.0.1:{free_port()}"], env=clean_env()) as arb:
            wait_workers(arb, 1)
            conn = server if kind == socket.SOCK_DGRAM else server.accept()[0]
            conn.settimeout(30)
            data = b""
            while b"Booting worker" not in data:
                chunk = conn.recv(65536)
                assert chunk, data
                data += chunk
            records = [r + b"\0" for r in data.split(b"\0") if r]
            for r in records[:-1]:
                m = LINE.match(r)
                assert m and m.group(2) == b"gunicorn.my.app.error" and int(m.group(3)) == arb.pid, r
                assert int(m.group(1)) >> 3 == 1  # user
            if conn is not server:
                conn.close()


def test_bad_syslog_settings_are_refused_at_start(short_tmp):
    for args, what in ((["--log-syslog-to", "http://x"], "invalid"),
                       (["--log-syslog-to", "udp://127.0.0.1:99999"], "not a valid port"),
                       (["--log-syslog-facility", "local9"], "unknown syslog facility")):
        r = subprocess.run([binary("arbiterd"), "--log-syslog", *args, "--check-config", "--", PYTHON, TESTWORKER],
                           env=clean_env(), capture_output=True, text=True, timeout=60)
        assert r.returncode == 2 and what in r.stderr, (args, r.stderr)
