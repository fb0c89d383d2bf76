"""The `autoscale` scenario (issue 17): a step of load on a pool that scales
itself, greenfork's `--autoscale 1:4 --autoscale-cooldown 5` against
uWSGI's cheaper mode (`--cheaper-algo spare --cheaper 1 --cheaper-initial 1
--processes 4`, and the same with `--cheaper-algo busyness`).

The app sleeps 50 ms per request (bench/apps/app.py `sleep50`), so one
sync worker serves about 20 requests a second. Each server starts with one
worker and idles; then wrk opens 32 connections for `step_seconds`, each
request with `Connection: close` (uWSGI's sync workers keep a keep-alive
connection to themselves, which would leave most of the 32 unserved and
hide the step). The harness samples the worker processes every 150 ms
during the step and for `idle_after_seconds` after it.
"""

from __future__ import annotations

import time
from typing import List, Optional, Sequence, Tuple

from . import procs, wrk
from .fmt import fmt_us

STEP_CONNECTIONS = 32
SAMPLE_EVERY = 0.15
MIN_WORKERS, MAX_WORKERS = 1, 4

Samples = Sequence[Tuple[float, int]]  # (seconds since the step began, worker count)


def plateau(samples: Samples) -> Optional[Tuple[int, float]]:
    """(the count the step ended on, when it got there for good): the time of
    the first sample of the last unbroken run of that count. None: no samples."""
    if not samples:
        return None
    final = samples[-1][1]
    t = samples[-1][0]
    for when, count in reversed(samples):
        if count != final:
            break
        t = when
    return final, t


def first_change(samples: Samples) -> Optional[float]:
    """When the count first moved from where it started, or None."""
    if not samples:
        return None
    start = samples[0][1]
    return next((t for t, c in samples if c != start), None)


def changes(samples: Samples) -> int:
    return sum(1 for a, b in zip(samples, samples[1:]) if a[1] != b[1])


def sample(proc: procs.Proc, seconds: float, t0: float) -> List[Tuple[float, int]]:
    out: List[Tuple[float, int]] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        out.append((round(time.monotonic() - t0, 3), len(proc.workers())))
        time.sleep(SAMPLE_EVERY)
    return out


def run_row(ctx, sc, server, st, startups, row) -> None:
    from .scenarios import _check_answer
    port = procs.free_port()
    proc = server.start_autoscaled(ctx, sc.app, port, MIN_WORKERS, MAX_WORKERS)
    try:
        startups.setdefault(server.name, []).append(
            procs.wait_first_200(proc, port, "/", 60))
        bad = _check_answer(port, "/", sc.app)
        if bad:
            row.note += f"not available: {bad}"
            return
        deadline = time.monotonic() + 30   # down to the minimum before the step
        while len(proc.workers()) != MIN_WORKERS and time.monotonic() < deadline:
            time.sleep(0.1)
        row.extra["before"] = len(proc.workers())
        step: List[Tuple[float, int]] = []
        t0 = time.monotonic()

        def during() -> None:
            step.extend(sample(proc, st.step_seconds - 0.3, t0))
        row.result = wrk.run(f"http://127.0.0.1:{port}/", STEP_CONNECTIONS, st.step_seconds,
                             ("Connection: close",), during=during, during_at=0.0)
        after = sample(proc, st.idle_after_seconds, time.monotonic())
        row.extra.update(step=step, after=after, idle_s=st.idle_after_seconds,
                         plateau=plateau(step),
                         first_change=first_change(step), changes=changes(step),
                         peak=max((c for _, c in step), default=None),
                         after_end=after[-1][1] if after else None,
                         back_to_min=next((t for t, c in after if c == MIN_WORKERS), None))
    finally:
        proc.stop()


def table(rows) -> List[str]:
    head = ["server", "workers before", "first change", "plateau (reached at)", "peak",
            "count changes in the step", "req/s in the step", "p99 in the step",
            "errors (c/r/w/t/non-2xx)", "workers after the idle wait", "back to 1 after"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        if r.result is None or "plateau" not in r.extra:
            lines.append("| " + " | ".join([r.server, r.note.strip("; ")[:120] or "no run"] +
                                           ["–"] * (len(head) - 2)) + " |")
            continue
        x, res = r.extra, r.result
        pl = x["plateau"]
        secs = lambda v: "–" if v is None else f"{v:.1f} s"  # noqa: E731
        lines.append("| " + " | ".join([
            r.server, str(x["before"]), secs(x["first_change"]),
            f"{pl[0]} ({secs(pl[1])})" if pl else "–", str(x["peak"]), str(x["changes"]),
            f"{res.rps:,.0f}", fmt_us(res.p99_us),
            "/".join(str(v) for v in (res.connect, res.read, res.write, res.timeout,
                                      res.non2xx)),
            f"{x['after_end']} ({x['idle_s']:.0f} s idle)",
            secs(x["back_to_min"]) if x["back_to_min"] is not None else "not within the run"])
            + " |")
    notes = [f"- {r.server}: {r.note.strip('; ')}" for r in rows if r.note]
    notes += [f"- {r.server}: its {r.result.read:,} read errors are not failed requests: "
              "`--http-socket` answers HTTP/1.1 without `Connection: close` and then closes, "
              "which wrk counts as a read error after the complete answer"
              for r in rows if r.server.startswith("uwsgi") and r.result is not None and r.result.read]
    return lines + ([""] + notes if notes else [])
