"""The `statsd` scenario (issue 11): hello keep-alive with `--statsd-host`
on against the same server without it, rounds alternating.

The harness binds a UDP socket on loopback and drains it in a thread,
counting datagrams and metric lines, so the packets are real and received.
Each round starts the server fresh twice (statsd off, then on; the next
round in the reverse order), warms up, reads the workers' CPU time from
/proc, measures with wrk, and reads it again: CPU time per request moves
less with the machine's load than req/s does. Ratios on/off are taken
within a round; the median of the rounds is what the target (on within 5%
of off) is judged on.
"""

from __future__ import annotations

import os
import socket
import statistics
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from . import procs, wrk
from .fmt import fmt_us, fmt_x

TARGET = 0.95  # on ≥ 95% of off


class Sink:
    """A UDP socket on 127.0.0.1 that counts what it receives."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.datagrams = self.lines = 0
        self.durations = 0  # lines of the per-request duration metric
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            lines, durations = count_lines(data)
            with self._lock:
                self.datagrams += 1
                self.lines += lines
                self.durations += durations

    def counts(self) -> Tuple[int, int, int]:
        with self._lock:
            return self.datagrams, self.lines, self.durations

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


def count_lines(datagram: bytes) -> Tuple[int, int]:
    """(metric lines, request.duration lines) in one statsd datagram."""
    lines = [x for x in datagram.split(b"\n") if x.strip()]
    return len(lines), sum(1 for x in lines if b"request.duration:" in x)


def cpu_ticks(stat_text: str) -> int:
    """utime + stime (clock ticks) from the text of /proc/PID/stat."""
    rest = stat_text[stat_text.rfind(")") + 2:].split()
    return int(rest[11]) + int(rest[12])  # fields 14 and 15 of proc(5)


def workers_cpu(pids: List[int]) -> Dict[int, int]:
    out = {}
    for pid in pids:
        try:
            out[pid] = cpu_ticks(Path(f"/proc/{pid}/stat").read_text())
        except (OSError, IndexError, ValueError):
            pass
    return out


@dataclass
class Sample:
    """One measured run of one mode (statsd on or off)."""
    rps: float
    p99_us: Optional[float]
    errors: int
    requests: int
    cpu_us_per_request: Optional[float]
    datagrams: int = 0
    lines: int = 0
    durations: int = 0


def cpu_per_request(before: Dict[int, int], after: Dict[int, int], requests: int,
                    hz: int) -> Optional[float]:
    """µs of worker CPU per request; None when a worker went away during the
    run (its CPU would be lost) or nothing was served."""
    if not requests or not before or set(before) - set(after):
        return None
    ticks = sum(after[p] - before[p] for p in before)
    return ticks / hz * 1e6 / requests


def summarize(off: List[Optional[Sample]], on: List[Optional[Sample]]) -> Dict[str, object]:
    """Medians and per-round ratios (rounds where both modes ran)."""
    pairs = [(a, b) for a, b in zip(off, on) if a is not None and b is not None]
    rps = [b.rps / a.rps for a, b in pairs if a.rps]
    cpu = [b.cpu_us_per_request / a.cpu_us_per_request for a, b in pairs
           if a.cpu_us_per_request and b.cpu_us_per_request]

    def med(xs):
        return statistics.median(xs) if xs else None
    return {"rounds": len(pairs), "rps_ratios": rps, "cpu_ratios": cpu,
            "rps_ratio": med(rps), "cpu_ratio": med(cpu),
            "met": (med(rps) >= TARGET) if rps else None}


def _spread(xs: List[float], f: Callable[[float], str]) -> str:
    if not xs:
        return "–"
    return f"{f(statistics.median(xs))} ({f(min(xs))} – {f(max(xs))})"


def run_row(ctx, sc, server, st, startups, row) -> None:
    """Fills row (a scenarios.Row): result = the median 'on' run, extra =
    both modes' samples and the summary."""
    from .scenarios import _check_answer  # scenarios imports this module lazily
    hz = os.sysconf("SC_CLK_TCK")
    samples: Dict[str, List[Optional[Sample]]] = {"off": [], "on": []}
    results: List[wrk.WrkResult] = []
    sink = Sink()
    try:
        for rnd in range(st.repeat):
            for mode in (("off", "on") if rnd % 2 == 0 else ("on", "off")):
                extra = ["--statsd-host", f"127.0.0.1:{sink.port}"] if mode == "on" else []
                port = procs.free_port()
                proc = server.start(ctx, sc.app, port, extra=extra)
                try:
                    startups.setdefault(server.name, []).append(
                        procs.wait_first_200(proc, port, "/", 60))
                    procs.wait_workers(proc, 2, 15)
                    bad = _check_answer(port, "/", sc.app)
                    if bad:
                        raise RuntimeError(bad)
                    url = f"http://127.0.0.1:{port}/"
                    if st.warmup > 0:
                        wrk.run(url, sc.connections, st.warmup)
                    pids = proc.workers()
                    c0, cpu0 = sink.counts(), workers_cpu(pids)
                    res = wrk.run(url, sc.connections, st.duration)
                    cpu1, c1 = workers_cpu(pids), sink.counts()
                    samples[mode].append(Sample(
                        rps=res.rps, p99_us=res.p99_us, errors=res.errors,
                        requests=res.requests,
                        cpu_us_per_request=cpu_per_request(cpu0, cpu1, res.requests, hz),
                        datagrams=c1[0] - c0[0], lines=c1[1] - c0[1],
                        durations=c1[2] - c0[2]))
                    if mode == "on":
                        results.append(res)
                except (RuntimeError, ValueError, OSError) as exc:
                    samples[mode].append(None)
                    row.note += f"round {rnd + 1} {mode}: failed: {exc}; "
                finally:
                    proc.stop()
    finally:
        sink.close()
    row.extra.update(samples=samples, summary=summarize(samples["off"], samples["on"]))
    if results:
        results.sort(key=lambda r: r.rps)
        row.result = results[len(results) // 2]


def table(rows) -> List[str]:
    head = ["server", "rounds", "req/s off", "req/s on", "on/off req/s: median (min – max)",
            "p99 off", "p99 on", "worker CPU/request off", "on", "on/off CPU: median (min – max)",
            "datagrams received (metric lines, durations) per request", "within 5%"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        summ = r.extra.get("summary")
        if not summ or not summ["rounds"]:
            lines.append("| " + " | ".join([r.server, r.note.strip("; ")[:120] or "no run"] +
                                           ["–"] * (len(head) - 2)) + " |")
            continue
        off = [s for s in r.extra["samples"]["off"] if s]
        on = [s for s in r.extra["samples"]["on"] if s]

        def med(xs, f):
            xs = [x for x in xs if x is not None]
            return f(statistics.median(xs)) if xs else "–"
        req_on = sum(s.requests for s in on)
        dg = (f"{sum(s.datagrams for s in on):,} ({sum(s.lines for s in on):,}, "
              f"{sum(s.durations for s in on):,}) for {req_on:,} requests: "
              f"{sum(s.datagrams for s in on) / req_on:.3f}" if req_on else "–")
        dg_off = sum(s.datagrams for s in off)
        if dg_off:
            dg += f"; {dg_off} while off"
        lines.append("| " + " | ".join([
            r.server, f"{summ['rounds']} of {len(r.extra['samples']['on'])}",
            med([s.rps for s in off], lambda v: f"{v:,.0f}"),
            med([s.rps for s in on], lambda v: f"{v:,.0f}"),
            _spread(summ["rps_ratios"], fmt_x),
            med([s.p99_us for s in off], fmt_us), med([s.p99_us for s in on], fmt_us),
            med([s.cpu_us_per_request for s in off], lambda v: f"{v:.1f} µs"),
            med([s.cpu_us_per_request for s in on], lambda v: f"{v:.1f} µs"),
            _spread(summ["cpu_ratios"], fmt_x), dg,
            {True: "met", False: "missed", None: "–"}[summ["met"]]]) + " |")
    notes = [f"- {r.server}: {r.note.strip('; ')}" for r in rows if r.note]
    return lines + ([""] + notes if notes else [])
