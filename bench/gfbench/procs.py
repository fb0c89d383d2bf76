"""Processes the benchmark starts: spawning, waiting, RSS, and clean-up.

Every server is started in its own session (so its process group id is its
pid) and registered in LIVE until stopped. stop() asks the master to quit,
then SIGKILLs what is left of its group and every descendant it had, each by
pid (checked against the start time recorded, so a recycled pid is never
hit). cleanup_all() runs on every exit path: normal end, exception, Ctrl-C,
SIGTERM/SIGHUP (turned into KeyboardInterrupt by install_signal_handlers).
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

LIVE: Set["Proc"] = set()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat_fields(pid: int) -> Optional[List[str]]:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # comm may contain spaces and parentheses: split after the last ')'.
    rest = raw[raw.rfind(")") + 2:].split()
    return rest  # rest[0] = state, rest[1] = ppid, rest[2] = pgrp, rest[19] = starttime


def start_time(pid: int) -> Optional[str]:
    fields = _stat_fields(pid)
    return fields[19] if fields else None


def _all_stats() -> Dict[int, List[str]]:
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields:
                out[int(entry)] = fields
    return out


def children(pid: int) -> List[int]:
    """Direct children of pid that are still running (not zombies)."""
    return sorted(p for p, f in _all_stats().items() if f[1] == str(pid) and f[0] != "Z")


def descendants(pid: int) -> List[Tuple[int, str]]:
    """(pid, starttime) of every live descendant of pid."""
    stats = _all_stats()
    kids: Dict[str, List[int]] = {}
    for p, f in stats.items():
        kids.setdefault(f[1], []).append(p)
    out, todo = [], [pid]
    while todo:
        for child in kids.get(str(todo.pop()), []):
            out.append((child, stats[child][19]))
            todo.append(child)
    return out


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(
            errors="replace")
    except OSError:
        return ""


def rss_kib(pid: int) -> Optional[int]:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def established_connections(pid: int, port: int) -> Optional[int]:
    """TCP connections to local `port` that process `pid` holds open."""
    try:
        inodes = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        count = 0
        for table in ("tcp", "tcp6"):
            for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
                f = line.split()
                # local address "ADDR:PORT" (hex), state 01 = ESTABLISHED, inode
                if int(f[1].rsplit(":", 1)[1], 16) == port and f[3] == "01" and f[9] in inodes:
                    count += 1
        return count
    except OSError:
        return None


def _kill_if_same(pid: int, started: str, sig: int) -> None:
    if start_time(pid) == started:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def signal_pid(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


class Proc:
    """A server process (and its process group) the benchmark owns."""

    def __init__(self, argv: Sequence[str], log_path: Path, cwd: Optional[str] = None,
                 env: Optional[Dict[str, str]] = None, stop_signal: int = signal.SIGINT,
                 is_worker: Callable[[int], bool] = lambda pid: True):
        self.argv = list(argv)
        self.log_path = log_path
        self.stop_signal = stop_signal
        self.is_worker = is_worker  # tells workers from other children (helpers)
        self._log = open(log_path, "ab")
        self.started_at = time.monotonic()
        self.popen = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self._log,
                                      stderr=subprocess.STDOUT, cwd=cwd, env=env,
                                      start_new_session=True)
        self.pid = self.popen.pid
        self._known: Dict[int, str] = {}
        LIVE.add(self)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def remember_descendants(self) -> None:
        for pid, started in descendants(self.pid):
            self._known[pid] = started

    def workers(self) -> List[int]:
        self.remember_descendants()
        return [pid for pid in children(self.pid) if self.is_worker(pid)]

    def log_tail(self, lines: int = 6) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(line.strip() for line in text[-lines:])

    def stop(self, grace: float = 1.0) -> None:
        if self not in LIVE:
            return
        self.remember_descendants()
        if self.alive():
            try:
                os.kill(self.pid, self.stop_signal)
            except ProcessLookupError:
                pass
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever is left of its group (the group id is its pid)
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for pid, started in self._known.items():
            _kill_if_same(pid, started, signal.SIGKILL)
        try:
            self.popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        self._log.close()
        LIVE.discard(self)


def cleanup_all() -> None:
    for proc in list(LIVE):
        try:
            proc.stop(grace=0.5)
        except Exception:  # noqa: BLE001 - keep cleaning the others
            pass


def install_signal_handlers() -> None:
    def interrupt(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGHUP, interrupt)
    # Also when started in the background, where SIGINT starts out ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)


def http_get(port: int, path: str = "/", timeout: float = 2.0,
             method: str = "GET", body: Optional[bytes] = None,
             tls: bool = False) -> Tuple[int, bytes]:
    if tls:  # the TLS rows' self-signed certificate
        import ssl
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=timeout, context=ssl._create_unverified_context())
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def wait_first_200(proc: Proc, port: int, path: str, timeout: float, tls: bool = False) -> float:
    """Seconds from spawn to the first 200 on path; raises RuntimeError."""
    deadline = proc.started_at + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"exited with {proc.popen.returncode}: {proc.log_tail()}")
        try:
            status, _ = http_get(port, path, timeout=1.0, tls=tls)
            if status == 200:
                return time.monotonic() - proc.started_at
            last = f"HTTP {status}"
        except OSError as exc:
            last = str(exc) or type(exc).__name__
        except http.client.HTTPException as exc:
            last = f"{type(exc).__name__}: {exc}"
        time.sleep(0.01)
    raise RuntimeError(f"no 200 within {timeout:.0f} s ({last}): {proc.log_tail()}")


def wait_workers(proc: Proc, count: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(proc.workers()) >= count:
            return True
        time.sleep(0.05)
    return False
