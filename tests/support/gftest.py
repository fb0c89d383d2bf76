"""Shared support for greenfork's end-to-end tests.

Every e2e test starts real processes (arbiterd, gworker, workers, clients)
on loopback. This module is the one way to do the things they all need:
find the built binaries, pick free ports, wait with a deadline (never a bare
sleep), and make sure nothing started by a test outlives it.

    from gftest import Spawned, free_port, wait_until, http_get, binary

    def test_serves(tmp_path):
        port = free_port()
        with Spawned([binary("arbiterd"), "-w", "2", "-b", f"127.0.0.1:{port}",
                      "--", "python3", "worker.py"]) as arb:
            wait_until(lambda: http_get(port, "/").status == 200, timeout=10)
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Optional, Sequence

BUILD_DIR = Path(os.environ.get("GF_BUILD_DIR", Path(__file__).resolve().parents[2] / "build"))
SOURCE_DIR = Path(os.environ.get("GF_SOURCE_DIR", Path(__file__).resolve().parents[2]))
PYTHON = "/usr/bin/python3"  # the interpreter gworker embeds and tests use

_BINARIES = {
    "arbiterd": "bin/arbiterd",
    "gworker": "bin/gworker",
    "gctl": "bin/gctl",
}


def binary(name: str) -> str:
    """Path of a built binary (arbiterd, gworker, gctl) or a file in the build tree."""
    path = BUILD_DIR / _BINARIES.get(name, name)
    if not path.exists():
        raise FileNotFoundError(f"{path} is not built")
    return str(path)


def source(rel: str) -> str:
    return str(SOURCE_DIR / rel)


def free_port(family: int = socket.AF_INET) -> int:
    """A TCP port nobody listens on right now (the kernel's choice)."""
    host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Timeout(AssertionError):
    pass


def wait_until(predicate: Callable[[], object], timeout: float = 10.0,
               interval: float = 0.02, message: str = "") -> object:
    """Polls predicate until it returns a truthy value; raises Timeout.

    Exceptions from predicate count as "not yet" (a server still starting
    refuses connections) and the last one is reported on timeout.
    """
    deadline = time.monotonic() + timeout
    last_exc: Optional[BaseException] = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - "not yet"
            last_exc = exc
        if time.monotonic() >= deadline:
            detail = f" (last error: {last_exc!r})" if last_exc else ""
            raise Timeout(f"timed out after {timeout}s waiting for {message or predicate}{detail}")
        time.sleep(interval)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def children_of(pid: int) -> list[int]:
    """Direct children of pid (from /proc)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            out.append(int(entry))
    return out


def cmdline(pid: int) -> str:
    """The process's command line, space-joined ("" once it is gone)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def worker_pids(arbiter_pid: int) -> list[int]:
    """arbiterd's workers: its children but for its orphan guard."""
    return sorted(p for p in children_of(arbiter_pid)
                  if not cmdline(p).startswith("arbiterd: guard"))


def descendants_of(pid: int) -> list[int]:
    result, frontier = [], [pid]
    while frontier:
        kids = children_of(frontier.pop())
        result.extend(kids)
        frontier.extend(kids)
    return result


_SESSION_LOGDIR: Optional[str] = None


def _session_logdir() -> str:
    """A directory for this test process's logs, removed when it exits: a
    failing test shows what it needs through Spawned.output(). Set
    GF_TEST_LOGDIR to keep the logs instead."""
    global _SESSION_LOGDIR
    if _SESSION_LOGDIR is None:
        _SESSION_LOGDIR = tempfile.mkdtemp(prefix="gftest-logs-")
        atexit.register(shutil.rmtree, _SESSION_LOGDIR, ignore_errors=True)
    return _SESSION_LOGDIR


class Spawned:
    """A process started for a test, killed (with all it started) on exit.

    stdout/stderr go to files under `logdir` (by default a directory removed
    when the test process ends) so a failing test can show them
    (see .output()). The process gets its own session, so the cleanup can
    kill its whole process group; descendants that left the group are
    killed by pid as recorded while it ran.
    """

    def __init__(self, argv: Sequence[str], env: Optional[dict] = None,
                 cwd: Optional[str] = None, logdir: Optional[Path] = None,
                 extra_env: Optional[dict] = None, stdin=subprocess.DEVNULL,
                 pass_fds: Iterable[int] = ()):
        self.argv = [str(a) for a in argv]
        base = dict(os.environ if env is None else env)
        if extra_env:
            base.update({k: str(v) for k, v in extra_env.items()})
        self.env = base
        self.cwd = cwd
        logdir = Path(logdir or os.environ.get("GF_TEST_LOGDIR") or _session_logdir())
        logdir.mkdir(parents=True, exist_ok=True)
        tag = f"{Path(self.argv[0]).name}-{os.getpid()}-{time.monotonic_ns()}"
        self.stdout_path = logdir / f"{tag}.out"
        self.stderr_path = logdir / f"{tag}.err"
        self.stdin = stdin
        self.pass_fds = tuple(pass_fds)
        self.proc: Optional[subprocess.Popen] = None
        self._seen: set[int] = set()

    def start(self) -> "Spawned":
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=self.cwd,
                                     stdout=self._out, stderr=self._err,
                                     stdin=self.stdin, start_new_session=True,
                                     pass_fds=self.pass_fds)
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def remember_descendants(self) -> list[int]:
        """Records the current descendants so cleanup can reach them by pid."""
        kids = descendants_of(self.pid) if self.proc else []
        self._seen.update(kids)
        return kids

    def poll(self) -> Optional[int]:
        return self.proc.poll() if self.proc else None

    def wait(self, timeout: float = 10.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def output(self) -> str:
        with contextlib.suppress(OSError):
            self._out.flush()
            self._err.flush()
        out = self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""
        err = self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""
        return f"--- stdout of {self.argv}\n{out}\n--- stderr\n{err}"

    def stderr_text(self) -> str:
        with contextlib.suppress(OSError):
            self._err.flush()
        return self.stderr_path.read_text(errors="replace")

    def stdout_text(self) -> str:
        with contextlib.suppress(OSError):
            self._out.flush()
        return self.stdout_path.read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> None:
        """TERM, then KILL after `timeout`; then everything it started."""
        if self.proc is None:
            return
        self.remember_descendants()
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        self.kill_all()

    def kill_all(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.remember_descendants()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        for pid in self._seen:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        for f in (getattr(self, "_out", None), getattr(self, "_err", None)):
            if f:
                f.close()

    def __enter__(self) -> "Spawned":
        return self.start()

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            sys.stderr.write(self.output())
        self.stop(timeout=5)


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> Optional[str]:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def http_request(port: int, path: str = "/", method: str = "GET", body: bytes | None = None,
                 headers: Optional[dict] = None, host: str = "127.0.0.1",
                 timeout: float = 5.0) -> Response:
    """One request on a fresh connection with http.client."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


def http_get(port: int, path: str = "/", **kw) -> Response:
    return http_request(port, path, "GET", **kw)


def unix_http_get(sock_path: str, path: str = "/", timeout: float = 5.0) -> Response:
    class _Conn(http.client.HTTPConnection):
        def connect(self):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(sock_path)

    conn = _Conn("localhost", timeout=timeout)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return Response(r.status, r.getheaders(), r.read())
    finally:
        conn.close()


def raw_exchange(port: int, data: bytes, host: str = "127.0.0.1", timeout: float = 5.0,
                 read_until_close: bool = True) -> bytes:
    """Sends raw bytes and returns what came back until close (or timeout)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if not read_until_close:
                break
        return b"".join(chunks)


def read_http_response(s: socket.socket, buf: Optional[bytearray] = None,
                       timeout: float = 30.0) -> tuple[bytes, bytes]:
    """Reads one HTTP/1.1 response from `s`, framed by its Content-Length (an
    empty body without one): (head, body), the head without its blank line.

    Bytes that came after the response stay in `buf`; pass the same buffer to
    the next call on the connection (pipelining). Raises ConnectionError
    (an OSError) when the peer closes first, Timeout after `timeout` seconds.
    The socket's own timeout is put back afterwards.
    """
    buf = bytearray() if buf is None else buf
    deadline = time.monotonic() + timeout
    saved = s.gettimeout()

    def receive(what: str) -> None:
        left = deadline - time.monotonic()
        if left <= 0:
            raise Timeout(f"no {what} within {timeout} s; got {bytes(buf[:200])!r}")
        s.settimeout(left)
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            raise Timeout(f"no {what} within {timeout} s; got {bytes(buf[:200])!r}") from None
        if not chunk:
            raise ConnectionError(f"closed before the {what}; got {bytes(buf[:200])!r}")
        buf.extend(chunk)

    try:
        while (end := buf.find(b"\r\n\r\n")) < 0:
            receive("response head")
        head = bytes(buf[:end])
        del buf[:end + 4]
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(buf) < length:
            receive("whole body")
        body = bytes(buf[:length])
        del buf[:length]
        return head, body
    finally:
        s.settimeout(saved)


class RequestLoop:
    """A bounded steady request loop in a thread: counts successes and failures.

    Used to prove "no failed request" across reloads, kills and upgrades.
    Stops after `max_requests` or `max_seconds`, whichever comes first.
    """

    def __init__(self, port: int, path: str = "/", host: str = "127.0.0.1",
                 max_requests: int = 20000, max_seconds: float = 60.0,
                 keep_alive: bool = False):
        import threading
        self.port, self.path, self.host = port, path, host
        self.max_requests, self.max_seconds = max_requests, max_seconds
        self.keep_alive = keep_alive
        self.ok = 0
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        conn = None
        while not self._stop.is_set() and time.monotonic() < deadline \
                and self.ok + len(self.failures) < self.max_requests:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
                conn.request("GET", self.path,
                             headers={} if self.keep_alive else {"Connection": "close"})
                r = conn.getresponse()
                r.read()
                if r.status == 200:
                    self.ok += 1
                else:
                    self.failures.append(f"status {r.status}")
                if not self.keep_alive or r.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except Exception as exc:  # noqa: BLE001 - every failure is counted
                self.failures.append(repr(exc))
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def __enter__(self) -> "RequestLoop":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def file_logging_ini(fmt: str) -> str:
    """A logging.config.fileConfig ini: the "myapp" logger (INFO) writes
    app.log beside the ini with format `fmt`; root stays quiet."""
    return f'''
[loggers]
keys = root, myapp

[handlers]
keys = appfile

[formatters]
keys = plain

[logger_root]
level = WARNING
handlers =

[logger_myapp]
level = INFO
handlers = appfile
propagate = 0
qualname = myapp

[handler_appfile]
class = FileHandler
formatter = plain
args = ('%(here)s/app.log', 'a')

[formatter_plain]
format = {fmt}
'''


def sanitizer_env() -> dict[str, str]:
    """The sanitizer settings of this run (LSAN_OPTIONS' suppressions...),
    for a child started with an environment of its own."""
    return {k: v for k, v in os.environ.items() if k.startswith(("ASAN_", "LSAN_", "UBSAN_", "TSAN_"))}
