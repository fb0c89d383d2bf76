"""The headline rows as a picture (SVG and PNG), with Debian's
python3-matplotlib: per scenario, req/s and p99 per server side by side,
bars at the median of the repeated runs, error bars from min to max."""

from __future__ import annotations

import statistics
import textwrap
from pathlib import Path
from typing import List, Optional

from .repeat import HEADLINE, Repeated

TITLES = {"hello-keepalive": "Hello world, keep-alive, 64 connections",
          "post-1m": "1 MiB POST echoed back, keep-alive, 64 connections"}
COLORS = {"greenfork": "#2e7d32", "greenfork-native": "#66bb6a", "nginx": "#1565c0",
          "uwsgi": "#8e6c8a", "gunicorn-sync": "#9e9e9e", "greenfork-gthread": "#a5d6a7"}
LABELS = {"greenfork": "greenfork (WSGI, sync)", "greenfork-native": "greenfork (native .so)",
          "greenfork-gthread": "greenfork (WSGI, gthread)",
          "nginx": "nginx (return 200)", "uwsgi": "uWSGI", "gunicorn-sync": "Gunicorn sync"}
# Display order, top to bottom: greenfork first, then the peers.
ORDER = ["greenfork", "greenfork-gthread", "greenfork-native", "nginx", "uwsgi", "gunicorn-sync"]


def _stats(values: List[float]):
    med = statistics.median(values)
    return med, med - min(values), max(values) - med


def _p99_label(us: float) -> str:
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.0f} µs"


def draw(rep: Repeated, out_base: Path, subtitle: str) -> Optional[str]:
    """Writes out_base.svg and out_base.png; returns why not, or None."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
    except ImportError:
        return "python3-matplotlib is not installed (bash scripts/install-deps.sh --bench)"
    scenarios = [sc for sc, _ in HEADLINE if rep.get(sc)]
    if not scenarios:
        return "no headline rows were measured"
    heights = [max(1, len(rep[sc])) for sc in scenarios]
    fig, axes = plt.subplots(len(scenarios), 2, squeeze=False,
                             figsize=(11, 1.1 + 0.62 * sum(heights) + 0.9 * len(scenarios)),
                             gridspec_kw={"height_ratios": heights})
    for i, sc in enumerate(scenarios):
        series = rep[sc]
        names = [n for n in ORDER if n in series and series[n].rps()]
        names += [n for n in series if n not in names and series[n].rps()]
        ys = list(range(len(names)))[::-1]
        for j, (metric, label) in enumerate((("rps", "requests per second (higher is better)"),
                                             ("p99", "p99 latency, ms (lower is better)"))):
            ax = axes[i][j]
            meds, lo, hi = [], [], []
            for n in names:
                vals = series[n].rps() if metric == "rps" else \
                    [v / 1000 for v in series[n].p99()] or [0.0]
                m, a, b = _stats(vals)
                meds.append(m)
                lo.append(a)
                hi.append(b)
            ax.barh(ys, meds, xerr=[lo, hi], capsize=4, height=0.62,
                    color=[COLORS.get(n, "#bdbdbd") for n in names],
                    error_kw={"elinewidth": 1.2, "ecolor": "#333333"})
            ax.set_yticks(ys)
            ax.set_yticklabels([LABELS.get(n, n) for n in names] if j == 0 else [""] * len(names))
            ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(nbins=5))
            if metric == "rps":
                ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
                    lambda v, _pos: f"{v / 1000:,.0f}k" if v >= 10_000 else f"{v:,.0f}"))
            ax.set_xlabel(label, fontsize=9)
            ax.grid(axis="x", alpha=0.3)
            ax.set_axisbelow(True)
            for side in ("top", "right"):
                ax.spines[side].set_visible(False)
            top = max(m + h for m, h in zip(meds, hi)) if meds else 1.0
            ax.set_xlim(0, top * 1.28 or 1.0)
            for y, m, h in zip(ys, meds, hi):
                text = f"{m:,.0f}" if metric == "rps" else _p99_label(m * 1000)
                ax.text(m + h + top * 0.015, y, text, va="center", fontsize=8)
            if j == 0:
                ax.set_title(f"{sc}: {TITLES.get(sc, sc)}", loc="left", fontsize=10,
                             fontweight="bold")
    fig.suptitle("greenfork vs nginx, uWSGI, Gunicorn — median of the repeated runs, "
                 "error bars min – max", fontsize=11, x=0.01, ha="left")
    note = textwrap.fill(subtitle + ". uWSGI (--http11-socket, 2 processes) serves one "
                         "connection per process at a time: its p99 is that of the "
                         "connections it serves.", 175)
    fig.text(0.01, 0.005, note, fontsize=7.5, color="#555555", ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    out_base.parent.mkdir(parents=True, exist_ok=True)
    for ext in ("svg", "png"):
        fig.savefig(out_base.with_suffix(f".{ext}"), dpi=110 if ext == "png" else None,
                    metadata={"Date": None} if ext == "svg" else None)
    plt.close(fig)
    return None

