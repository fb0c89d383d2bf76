"""Runs h2load (nghttp2-client) for the HTTP/2 rows and reads its summary
into a WrkResult, so the report treats them as every other row: requests
that succeeded, requests per second, failed and errored streams as errors.
h2load reports no latency percentiles (the row's p50/p99 stay empty)."""

from __future__ import annotations

import re
import subprocess

from .wrk import WrkResult

# 64 streams in flight: 4 connections of 16 concurrent streams each.
CONNECTIONS = 4
STREAMS = 16


def parse(out: str) -> WrkResult:
    r = WrkResult(raw=out)
    m = re.search(r"finished in ([0-9.]+)(us|ms|s), ([0-9.]+) req/s", out)
    counts = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                       r"(\d+) failed, (\d+) errored, (\d+) timeout", out)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", out)
    if not m or not counts:
        raise RuntimeError(f"h2load printed no summary: {out[-400:]}")
    scale = {"us": 1e-6, "ms": 1e-3, "s": 1.0}[m.group(2)]
    r.seconds = float(m.group(1)) * scale
    r.requests = int(counts.group(4))
    r.rps = r.requests / r.seconds if r.seconds else 0.0
    r.read = int(counts.group(6))     # errored: the connection failed under the stream
    r.timeout = int(counts.group(7))
    if codes:
        r.non2xx = int(codes.group(3)) + int(codes.group(4))
    r.notes.append(f"h2load -c {CONNECTIONS} -m {STREAMS}")
    return r


def run(url: str, duration: float, warmup: float = 0.0) -> WrkResult:
    argv = ["h2load", "-c", str(CONNECTIONS), "-m", str(STREAMS), "-t", "1",
            "-D", str(max(1, int(round(duration))))]
    if warmup > 0:
        argv += ["--warm-up-time", str(max(1, int(round(warmup))))]
    out = subprocess.run(argv + [url], capture_output=True, text=True,
                         timeout=duration + warmup + 60)
    return parse(out.stdout + out.stderr)
