"""Markdown for one benchmark run: the machine, the versions, one table per
scenario, and the issue's targets with the measured ratios."""

from __future__ import annotations

import os
import platform
import statistics
from typing import Dict, List, Optional

from .fmt import fmt_mib, fmt_us, fmt_x
from .scenarios import Row, Scenario

PYTHON_PEERS = ("gunicorn-", "uwsgi", "uvicorn")


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def system_lines(versions: Dict[str, str], load_start: str, settings_line: str) -> List[str]:
    return [f"- CPU: {cpu_model()}, {os.cpu_count()} cores; kernel {platform.release()}",
            f"- load average at start: {load_start}; at end: {load_avg()}",
            f"- {settings_line}"] + [f"- {name}: {v}" for name, v in versions.items()]


def load_avg() -> str:
    try:
        return " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        return "unknown"


def _is_python_peer(row: Row) -> bool:
    return row.peer and row.server.startswith(PYTHON_PEERS)


def _ok(row: Row) -> bool:
    return row.result is not None and not row.note.startswith(("not available", "failed"))


def best_python_peer(rows: List[Row]) -> Optional[Row]:
    peers = [r for r in rows if _is_python_peer(r) and _ok(r)]
    return max(peers, key=lambda r: r.result.rps) if peers else None


def nginx_row(rows: List[Row]) -> Optional[Row]:
    return next((r for r in rows if r.server == "nginx" and _ok(r)), None)


def _ratio(a: Optional[Row], b: Optional[Row]) -> Optional[float]:
    if a is None or b is None or not _ok(a) or not _ok(b) or not b.result.rps:
        return None
    return a.result.rps / b.result.rps


def _errs(r) -> List[str]:
    return [str(r.connect), str(r.read), str(r.write), str(r.timeout), str(r.non2xx)]


def _notes(rows: List[Row]) -> List[str]:
    out = [f"- {r.server}: {r.note.strip('; ')}" for r in rows if r.note]
    out += [f"- {r.server}: no response at all during the measured run (wrk 4.1 does not "
            "count requests that never got an answer as timeouts)"
            for r in rows if r.result is not None and r.result.requests == 0]
    return [""] + out if out else []


def throughput_table(rows: List[Row]) -> List[str]:
    best, ngx = best_python_peer(rows), nginx_row(rows)
    head = ["server", "req/s", "p50", "p99", "connect err", "read err", "write err",
            "timeouts", "non-2xx", "RSS/worker", "new connection under load",
            "× best Python peer"]
    if ngx:
        head.append("× nginx")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if not _ok(r):
            cells = [r.server, "not available" if "not available" in r.note else "failed"] + \
                ["–"] * (len(head) - 2)
        else:
            cells = [r.server, f"{r.result.rps:,.0f}", fmt_us(r.result.p50_us),
                     fmt_us(r.result.p99_us)] + _errs(r.result) + \
                [fmt_mib(r.rss_kib), "; ".join(r.result.notes).replace("probe ", "") or "–",
                 fmt_x(_ratio(r, best))]
            if ngx:
                cells.append(fmt_x(_ratio(r, ngx)))
        lines.append("| " + " | ".join(cells) + " |")
    return lines + _notes(rows)


def slowloris_table(rows: List[Row]) -> List[str]:
    head = ["server", "req/s without", "req/s with idle", "with/without", "p99 with",
            "errors with (c/r/w/t/non-2xx)", "idle held (open at end)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if not _ok(r):
            lines.append("| " + " | ".join([r.server, "not available"] + ["–"] * 5) + " |")
            continue
        base = r.extra.get("base_rps") or 0.0
        held = f"{r.extra.get('held')} ({r.extra.get('open_after')})"
        if r.extra.get("not_connected"):
            held += f", {r.extra['not_connected']} not connected"
        lines.append("| " + " | ".join([
            r.server, f"{base:,.0f}", f"{r.result.rps:,.0f}",
            fmt_x(r.result.rps / base if base else None), fmt_us(r.result.p99_us),
            "/".join(_errs(r.result)), held]) + " |")
    return lines + _notes(rows)


def failure_table(rows: List[Row], extra_key: str, extra_title: str) -> List[str]:
    head = ["server", "requests", "failed (c/r/w/t/non-2xx)", "failed total", "p99",
            extra_title, "what was done"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if not _ok(r):
            lines.append("| " + " | ".join([r.server, "not available"] + ["–"] * 5) + " |")
            continue
        lines.append("| " + " | ".join([
            r.server, f"{r.result.requests:,}", "/".join(_errs(r.result)),
            str(r.result.errors), fmt_us(r.result.p99_us), str(r.extra.get(extra_key, "–")),
            "; ".join(r.result.notes) or "–"]) + " |")
    return lines + _notes(rows)


def rss_table(rows: List[Row]) -> List[str]:
    sync = next((r for r in rows if r.server == "gunicorn-sync" and _ok(r)), None)
    head = ["server", "requests served", "RSS/worker", "largest worker", "× gunicorn-sync"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if not _ok(r):
            lines.append("| " + " | ".join([r.server, "not available"] + ["–"] * 3) + " |")
            continue
        ratio = r.rss_kib / sync.rss_kib if sync and sync.rss_kib and r.rss_kib else None
        lines.append("| " + " | ".join([
            r.server, f"{r.result.requests:,}", fmt_mib(r.rss_kib),
            fmt_mib(r.extra.get("rss_max_kib")), fmt_x(ratio)]) + " |")
    return lines + _notes(rows)


def startup_table(startups: Dict[str, List[float]]) -> List[str]:
    lines = ["| server | median | min | max | starts |", "|---|---|---|---|---|"]
    for name, times in startups.items():
        lines.append(f"| {name} | {statistics.median(times):.2f} s | {min(times):.2f} s | "
                     f"{max(times):.2f} s | {len(times)} |")
    return lines


def scenario_section(sc: Scenario, rows: List[Row], rss_requests: int) -> List[str]:
    lines = [f"## {sc.id}: {sc.title.format(rss_requests=rss_requests)}", ""]
    if sc.kind in ("throughput", "h2"):  # h2: h2load's numbers in the same table
        lines += throughput_table(rows)
    elif sc.kind == "slowloris":
        lines += slowloris_table(rows)
    elif sc.kind == "reload":
        lines += failure_table(rows, "workers_after", "workers after")
    elif sc.kind == "scale":
        lines += failure_table(rows, "workers_after", "workers after")
    elif sc.kind == "kill9":
        lines += failure_table(rows, "respawned", "replaced in")
    elif sc.kind == "rss":
        lines += rss_table(rows)
    elif sc.kind == "statsd":
        from . import statsd
        lines += statsd.table(rows)
    elif sc.kind == "autoscale":
        from . import autoscale
        lines += autoscale.table(rows)
    elif sc.kind == "ws-echo":
        from . import wsload
        lines += wsload.table(rows)
    return lines + [""]
