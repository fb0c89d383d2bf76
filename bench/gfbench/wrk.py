"""Runs wrk (one thread) and parses what it prints.

wrk reports socket errors (connect, read, write, timeout) and responses
that are not 2xx or 3xx; none of the benchmark's apps answer 3xx, so that
count is the non-2xx count. Latencies come from `--latency`.
"""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence



_UNITS_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}
_COUNT_UNITS = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}


@dataclass
class WrkResult:
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_us: Optional[float] = None
    p99_us: Optional[float] = None
    connect: int = 0
    read: int = 0
    write: int = 0
    timeout: int = 0
    non2xx: int = 0
    raw: str = ""
    notes: List[str] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return self.connect + self.read + self.write + self.timeout + self.non2xx

    def add(self, other: "WrkResult") -> "WrkResult":
        """Totals of two consecutive runs (latencies: the later run's)."""
        out = WrkResult(requests=self.requests + other.requests,
                        seconds=self.seconds + other.seconds,
                        p50_us=other.p50_us, p99_us=other.p99_us,
                        connect=self.connect + other.connect, read=self.read + other.read,
                        write=self.write + other.write, timeout=self.timeout + other.timeout,
                        non2xx=self.non2xx + other.non2xx, raw=self.raw + other.raw)
        out.rps = out.requests / out.seconds if out.seconds else 0.0
        return out


def _duration_us(text: str) -> float:
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(m.group(1)) * _UNITS_US[m.group(2)]


def parse(output: str) -> WrkResult:
    """Parses wrk 4.x output; raises ValueError when the summary is missing."""
    res = WrkResult(raw=output)
    m = re.search(r"^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m|h)", output, re.M)
    if not m:
        raise ValueError("wrk printed no summary: " + " | ".join(output.strip().splitlines()[-3:]))
    res.requests = int(m.group(1))
    res.seconds = _duration_us(m.group(2) + m.group(3)) / 1e6
    m = re.search(r"^Requests/sec:\s+([0-9.]+)", output, re.M)
    res.rps = float(m.group(1)) if m else (res.requests / res.seconds if res.seconds else 0.0)
    for pct, attr in (("50", "p50_us"), ("99", "p99_us")):
        m = re.search(rf"^\s*{pct}(?:\.0+)?%\s+(\S+)", output, re.M)
        if m:
            setattr(res, attr, _duration_us(m.group(1)))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if m:
        res.connect, res.read, res.write, res.timeout = (int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if m:
        res.non2xx = int(m.group(1))
    return res


def post_script(tmpdir: Path, size: int) -> Path:
    """A wrk Lua script that POSTs `size` bytes per request."""
    path = tmpdir / f"post-{size}.lua"
    path.write_text(
        'wrk.method = "POST"\n'
        f'wrk.body = string.rep("a", {size})\n'
        'wrk.headers["Content-Type"] = "application/octet-stream"\n')
    return path


def run(url: str, connections: int, duration: float, headers: Sequence[str] = (),
        script: Optional[Path] = None, timeout_s: float = 2.0,
        during: Optional[Callable[[], Optional[str]]] = None,
        during_at: float = 0.5) -> WrkResult:
    """One wrk run with one thread. `during` is called `during_at` (a
    fraction of duration) into the run, in this process, while wrk loads
    the server; a string it returns is kept as a note."""
    duration = float(max(1, round(duration)))  # wrk takes whole seconds
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{int(duration)}s",
            "--timeout", f"{max(1, round(timeout_s))}s", "--latency"]
    for h in headers:
        argv += ["-H", h]
    if script is not None:
        argv += ["-s", str(script)]
    argv.append(url)
    popen = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             start_new_session=True)
    note = None
    try:
        if during is not None:
            time.sleep(duration * during_at)
            note = during()
        out, _ = popen.communicate(timeout=duration + timeout_s + 30)
    except BaseException:
        popen.kill()
        popen.wait()
        raise
    text = out.decode(errors="replace")
    if popen.returncode != 0:
        raise RuntimeError(f"wrk exited {popen.returncode}: {text.strip()[-300:]}")
    res = parse(text)
    if note:
        res.notes.append(note)
    return res


def run_until(url: str, connections: int, total: int, cap_seconds: float) -> WrkResult:
    """Keeps loading until `total` requests were answered or cap_seconds passed."""
    acc = run(url, connections, min(2.0, cap_seconds))
    while acc.requests < total and acc.seconds < cap_seconds:
        rate = max(acc.rps, 1.0)
        left = min((total - acc.requests) / rate * 1.1 + 0.5, cap_seconds - acc.seconds)
        acc = acc.add(run(url, connections, max(left, 1.0)))
    return acc


def version() -> str:
    try:
        out = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=5)
        first = (out.stdout or out.stderr).strip().splitlines()[0]
        return first.split(" Copyright")[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


