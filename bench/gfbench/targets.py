"""The issue's targets, checked against one run's rows."""

from __future__ import annotations

import statistics
from typing import Dict, List, Optional, Tuple

from . import repeat
from .fmt import fmt_us, fmt_x
from .report import _ok, best_python_peer, nginx_row
from .scenarios import Row

Results = Dict[str, List[Row]]


def _row(results: Results, sc: str, name: str) -> Optional[Row]:
    for r in results.get(sc, []):
        if r.server.split(" (")[0] == name and _ok(r):
            return r
    return None


def _best(results: Results, sc: str, prefix: str) -> Optional[Row]:
    rows = [r for r in results.get(sc, []) if r.server.startswith(prefix) and _ok(r)]
    return max(rows, key=lambda r: r.result.rps) if rows else None


def _cmp(a: Optional[Row], b: Optional[Row], want: float) -> Tuple[str, str]:
    if a is None or b is None or not b.result.rps:
        return "not measured", "–"
    v = a.result.rps / b.result.rps
    return (f"{fmt_x(v)} ({a.result.rps:,.0f} vs {b.server} {b.result.rps:,.0f} req/s)",
            "met" if v >= want else "missed")


def check(results: Results) -> List[str]:
    out: List[Tuple[str, str, str]] = []
    gf = lambda sc: _row(results, sc, "greenfork")  # noqa: E731
    out.append(("WSGI hello keep-alive ≥ 3× best Gunicorn",
                *_cmp(gf("hello-keepalive"), _best(results, "hello-keepalive", "gunicorn-"), 3.0)))
    out.append(("WSGI hello keep-alive ≥ 1.5× uWSGI",
                *_cmp(gf("hello-keepalive"), _row(results, "hello-keepalive", "uwsgi"), 1.5)))
    out.append(("WSGI hello keep-alive ≥ 0.6× nginx",
                *_cmp(gf("hello-keepalive"), _row(results, "hello-keepalive", "nginx"), 0.6)))
    out.append(("Native hello keep-alive ≥ 0.9× nginx",
                *_cmp(_row(results, "hello-keepalive", "greenfork-native"),
                      _row(results, "hello-keepalive", "nginx"), 0.9)))
    out.append(("Flask hello ≥ 1.5× best Gunicorn",
                *_cmp(gf("flask"), _best(results, "flask", "gunicorn-"), 1.5)))
    for lib in ("gevent", "eventlet"):
        out.append((f"{lib} app sleeping 10 ms, 256 connections ≥ 1.5× gunicorn -k {lib}",
                    *_cmp(_row(results, f"{lib}-sleep-10ms", f"greenfork-{lib}"),
                          _row(results, f"{lib}-sleep-10ms", f"gunicorn-{lib}"), 1.5)))
    for sc, rows in results.items():
        if sc in ("rss", "startup", "statsd"):
            continue
        for r in rows:
            if r.peer or not _ok(r):
                continue
            ref = nginx_row(rows) if r.server == "greenfork-native" else best_python_peer(rows)
            if ref is None or ref.result.p99_us is None or r.result.p99_us is None:
                continue
            met = r.result.p99_us <= ref.result.p99_us
            out.append((f"p99 ≤ best peer's, {sc}, {r.server}",
                        f"{fmt_us(r.result.p99_us)} vs {ref.server} {fmt_us(ref.result.p99_us)}",
                        "met" if met else "missed"))
    r = _row(results, "statsd", "greenfork")
    if r and r.extra.get("summary", {}).get("rps_ratio") is not None:
        summ = r.extra["summary"]
        cpu = f", worker CPU/request on/off {fmt_x(summ['cpu_ratio'])}" \
            if summ.get("cpu_ratio") else ""
        out.append(("hello keep-alive with statsd on ≥ 0.95× off (issue 11, median of rounds)",
                    f"{fmt_x(summ['rps_ratio'])} over {summ['rounds']} rounds{cpu}",
                    "met" if summ["met"] else "missed"))
    for name in ("greenfork", "greenfork-gthread", "greenfork-native"):
        r = _row(results, "reload", name)
        if r:
            out.append((f"zero failed requests during reload ({name})",
                        f"{r.result.errors} failed of {r.result.requests:,}",
                        "met" if r.result.errors == 0 else "missed"))
        r = _row(results, "scale", name)
        if r:
            out.append((f"zero failed requests during scale up/down ({name})",
                        f"{r.result.errors} failed of {r.result.requests:,}",
                        "met" if r.result.errors == 0 else "missed"))
        r = _row(results, "kill9", name)
        if r and r.extra.get("victim_connections") is not None:
            # Keep-alive: each connection has at most one request in flight.
            bound = int(r.extra["victim_connections"])
            out.append((f"kill -9: failed ≤ in-flight of the killed worker ({name})",
                        f"{r.result.errors} failed (bound {bound}: the keep-alive "
                        "connections it held, one request each at most)",
                        "met" if r.result.errors <= bound else "missed"))
        r = _row(results, "slowloris", name)
        if r and r.extra.get("base_rps"):
            v = r.result.rps / float(r.extra["base_rps"])
            out.append((f"slowloris: with 1,000 idle ≥ 90% of without ({name})",
                        f"{v * 100:.0f}%", "met" if v >= 0.9 else "missed"))
    r, sync = _row(results, "rss", "greenfork"), _row(results, "rss", "gunicorn-sync")
    if r and sync and r.rss_kib and sync.rss_kib:
        out.append(("RSS of a gworker (hello) ≤ a Gunicorn sync worker's",
                    f"{r.rss_kib / 1024:.1f} MiB vs {sync.rss_kib / 1024:.1f} MiB",
                    "met" if r.rss_kib <= sync.rss_kib else "missed"))
    lines = ["| target | measured | |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {v} |" for t, m, v in out]
    return lines


def check_repeated(rep, counts) -> List[str]:
    """Issue 18's targets on the medians of the repeated mode (rep:
    repeat.Repeated) and on the instruction counts (counts.Count lists)."""
    out: List[Tuple[str, str, str]] = []
    hk, post = rep.get("hello-keepalive", {}), rep.get("post-1m", {})

    def ratio(name: str, ref: str, series, want: float, title: str) -> None:
        a, b = series.get(name), series.get(ref)
        r = repeat.round_ratios(a, b) if a and b else []
        if not r:
            out.append((title, "not measured", "–"))
            return
        med = statistics.median(r)
        # three decimals: 1.096 must not read as a missed 1.10
        out.append((title, f"{med:.3f}× median of {len(r)} (min {fmt_x(min(r))}, "
                           f"max {fmt_x(max(r))}); {a.median_rps():,.0f} vs "
                           f"{b.median_rps():,.0f} req/s", "met" if med >= want else "missed"))

    def p99(name: str, ref: str, series, factor: float, title: str) -> None:
        a, b = series.get(name), series.get(ref)
        if not a or not b or a.median_p99() is None or b.median_p99() is None:
            out.append((title, "not measured", "–"))
            return
        out.append((title, f"{fmt_us(a.median_p99())} vs {ref} {fmt_us(b.median_p99())}",
                    "met" if a.median_p99() <= factor * b.median_p99() else "missed"))

    ratio("greenfork-native", "nginx", hk, 1.1, "native hello keep-alive ≥ 1.1× nginx")
    ratio("greenfork", "nginx", hk, 0.9, "WSGI hello keep-alive ≥ 0.9× nginx")
    p99("greenfork-native", "nginx", hk, 1.0, "p99 ≤ nginx's, native hello keep-alive")
    for peer in repeat.SERVES_EVERY_CONNECTION:
        p99("greenfork", peer, hk, 1.0, f"p99 ≤ {peer}'s, WSGI hello keep-alive")
    ratio("greenfork-gthread", "greenfork", hk, 0.8,
          "gthread hello keep-alive ≥ 0.8× sync (greenfork)")
    ratio("greenfork", "uwsgi", post, 1.0, "post-1m ≥ uWSGI's req/s")
    p99("greenfork", "uwsgi", post, 4.0, "post-1m p99 ≤ 4× uWSGI's")
    gf, sync = post.get("greenfork"), post.get("gunicorn-sync")
    if gf and sync and gf.rss() and sync.rss():
        a, b = statistics.median(gf.rss()), statistics.median(sync.rss())
        out.append(("post-1m RSS/worker ≤ 2× a Gunicorn sync worker's",
                    f"{a / 1024:.1f} MiB vs {b / 1024:.1f} MiB ({a / b:.2f}×)",
                    "met" if a <= 2 * b else "missed"))
    ir = {c.target: c.per_request for c in (counts or {}).get("callgrind", []) if c.per_request}
    if "greenfork-native" in ir and "nginx" in ir:
        out.append(("native: user-space instructions per request < nginx's",
                    f"{ir['greenfork-native']:,.0f} vs {ir['nginx']:,.0f} Ir",
                    "met" if ir["greenfork-native"] < ir["nginx"] else "missed"))
    lines = ["| target | measured | |", "|---|---|---|"]
    lines += [f"| {t} | {m} | {v} |" for t, m, v in out]
    return lines
