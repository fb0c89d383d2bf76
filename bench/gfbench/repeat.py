"""Repeated mode for the headline rows: noise cannot decide a target.

One 5-second wrk sample on a shared 2-core machine moves by ±15%. The
headline rows (hello keep-alive: WSGI sync and gthread, native; post-1m) are measured N
times in one run, the servers alternating: every round runs each server once,
in the opposite order to the round before, so slow drift of the machine's
load hits every server alike. Per server: the median req/s and p99 and their
spread (min–max). Ratios are taken round by round (greenfork's run against
nginx's run of the same round) and reported as their median and spread; a
target is met or missed on the median.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from .fmt import fmt_mib, fmt_us, fmt_x
from .scenarios import SCENARIOS, Row, Settings, applies, run_one
from .servers import Context, Server

# (scenario, servers in the order of the first round)
HEADLINE: List[Tuple[str, List[str]]] = [
    ("hello-keepalive", ["greenfork", "nginx", "greenfork-native", "gunicorn-sync", "uwsgi",
                         "greenfork-gthread"]),
    ("post-1m", ["greenfork", "uwsgi", "gunicorn-sync"]),
]
PYTHON_PEERS = ("gunicorn-sync", "uwsgi")
# uWSGI's --http11-socket serves one connection per process at a time: its
# p99 is that of the lucky connections, so p99 targets leave it out (issue 18).
SERVES_EVERY_CONNECTION = ("gunicorn-sync",)


@dataclass
class Series:
    """One server's rows of one headline scenario, one per round."""
    server: str
    rows: List[Row] = field(default_factory=list)

    def ok(self) -> List[Row]:
        return [r for r in self.rows if r.result is not None and
                not r.note.startswith(("not available", "failed"))]

    def rps(self) -> List[float]:
        return [r.result.rps for r in self.ok()]

    def p99(self) -> List[float]:
        return [r.result.p99_us for r in self.ok() if r.result.p99_us is not None]

    def rss(self) -> List[float]:
        return [r.rss_kib for r in self.ok() if r.rss_kib is not None]

    def median_rps(self) -> Optional[float]:
        v = self.rps()
        return statistics.median(v) if v else None

    def median_p99(self) -> Optional[float]:
        v = self.p99()
        return statistics.median(v) if v else None

    def rps_of_round(self, i: int) -> Optional[float]:
        if i >= len(self.rows):
            return None
        r = self.rows[i]
        return r.result.rps if r in self.ok() else None


Repeated = Dict[str, Dict[str, Series]]   # scenario -> server -> series


def run(ctx: Context, servers: List[Server], st: Settings, repeat: int,
        startups: Dict[str, List[float]], log: Callable[[str], None]) -> Repeated:
    by_name = {s.name: s for s in servers}
    out: Repeated = {}
    for rnd in range(repeat):
        for sc_id, names in HEADLINE:
            sc = next(s for s in SCENARIOS if s.id == sc_id)
            order = names if rnd % 2 == 0 else list(reversed(names))
            for name in order:
                server = by_name.get(name)
                if server is None or not applies(sc, server):
                    continue
                row = run_one(ctx, sc, server, st, startups)
                out.setdefault(sc_id, {}).setdefault(name, Series(name)).rows.append(row)
                r = row.result
                log(f"  round {rnd + 1}/{repeat} {sc_id:16} {name:18} " +
                    (f"{r.rps:10,.0f} req/s  p99 {fmt_us(r.p99_us):>9}" if r else
                     row.note.strip("; ")[:100]))
    return out


def round_ratios(a: Series, b: Series) -> List[float]:
    """a's req/s over b's, round by round (rounds where both ran)."""
    out = []
    for i in range(min(len(a.rows), len(b.rows))):
        x, y = a.rps_of_round(i), b.rps_of_round(i)
        if x is not None and y:
            out.append(x / y)
    return out


def best_peer(series: Dict[str, Series], names=PYTHON_PEERS) -> Optional[Series]:
    peers = [s for n, s in series.items() if n in names and s.median_rps()]
    return max(peers, key=lambda s: s.median_rps()) if peers else None


def _spread(values: List[float], fmt: Callable[[float], str]) -> str:
    if not values:
        return "–"
    return fmt(min(values)) if len(values) == 1 else f"{fmt(min(values))} – {fmt(max(values))}"


def _ratio_cell(ratios: List[float]) -> str:
    if not ratios:
        return "–"
    return f"{fmt_x(statistics.median(ratios))} ({_spread(ratios, fmt_x)})"


def table(sc_id: str, series: Dict[str, Series]) -> List[str]:
    ngx = series.get("nginx")
    ngx = ngx if ngx and ngx.median_rps() else None
    peer = best_peer(series)
    head = ["server", "runs", "req/s (median)", "req/s min – max", "p99 (median)",
            "p99 min – max", "errors", "RSS/worker (median)",
            f"× best Python peer ({peer.server if peer else '–'}): median (min – max)"]
    if ngx:
        head.append("× nginx: median (min – max)")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, s in series.items():
        ok = s.ok()
        if not ok:
            note = next((r.note.strip("; ") for r in s.rows if r.note), "no run")
            lines.append("| " + " | ".join([name, note] + ["–"] * (len(head) - 2)) + " |")
            continue
        errors = sum(r.result.errors for r in ok)
        cells = [name, f"{len(ok)} of {len(s.rows)}", f"{s.median_rps():,.0f}",
                 _spread(s.rps(), lambda v: f"{v:,.0f}"), fmt_us(s.median_p99()),
                 _spread(s.p99(), fmt_us), str(errors),
                 fmt_mib(statistics.median(s.rss())) if s.rss() else "–",
                 _ratio_cell(round_ratios(s, peer)) if peer else "–"]
        if ngx:
            cells.append(_ratio_cell(round_ratios(s, ngx)))
        lines.append("| " + " | ".join(cells) + " |")
    notes = [f"- {name}, round {i + 1}: {r.note.strip('; ')}"
             for name, s in series.items() for i, r in enumerate(s.rows)
             if r.note and r in s.ok()]
    return lines + ([""] + notes if notes else [])


def section(rep: Repeated, repeat: int, titles: Dict[str, str]) -> List[str]:
    lines = [f"## headline: the headline rows, {repeat} alternating runs each", "",
             "Each round runs every server once (fresh start, warm-up, measured run), "
             "in the reverse order of the round before. Medians and min – max over the "
             "rounds; ratios are taken within a round and their median is what a target "
             "is judged on.", ""]
    for sc_id, _ in HEADLINE:
        if sc_id in rep:
            lines += [f"### {sc_id} (repeated): {titles.get(sc_id, '')}", ""]
            lines += table(sc_id, rep[sc_id]) + [""]
    return lines
