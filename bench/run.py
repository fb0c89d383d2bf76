#!/usr/bin/python3
"""greenfork's side-by-side benchmark: one command, every scenario, every server.

    /usr/bin/python3 bench/run.py                 # everything (13-20 min on 2 cores)
    /usr/bin/python3 bench/run.py --quick         # short runs, a subset (~5 min)
    /usr/bin/python3 bench/run.py --only hello-keepalive,flask --servers uwsgi,greenfork
    /usr/bin/python3 bench/run.py --only headline,instructions,syscalls --repeat 3

Writes bench/results/<UTC date>.md; a complete run also writes
bench/results/latest.md and the results section of bench/README.md. A run
with the headline, instructions or syscalls scenarios (without --servers
or --quick) also writes bench/results/headline-latest.md, the chart
bench/results/headline.svg/.png and the headline section of the README.
"""

from __future__ import annotations

import argparse
import datetime
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from gfbench import chart, counts, procs, repeat, report, targets, wrk  # noqa: E402
from gfbench.scenarios import SCENARIO_IDS, SCENARIOS, Row, Settings, applies, run_one  # noqa: E402
from gfbench.servers import Context, all_servers, snapshot_build  # noqa: E402

# Beyond the one-run scenarios: the repeated headline rows and the counts.
EXTRA_IDS = ["headline", "instructions", "syscalls"]
ALL_IDS = SCENARIO_IDS + EXTRA_IDS
QUICK_SCENARIOS = ["hello-keepalive", "post-1m", "flask", "slowloris", "reload", "kill9", "rss",
                   "headline", "instructions", "syscalls"]
README_START, README_END = "<!-- latest-results:start -->", "<!-- latest-results:end -->"
HEADLINE_START, HEADLINE_END = "<!-- headline-results:start -->", "<!-- headline-results:end -->"


def parse_args(argv: List[str]) -> argparse.Namespace:
    names = [s.name for s in all_servers()]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=f"scenarios: {', '.join(SCENARIO_IDS)}\n"
                                       f"servers: {', '.join(names)}\n"
                                       f"extra scenarios: {', '.join(EXTRA_IDS)}")
    p.add_argument("--build", default="build", help="greenfork's build dir (default: build)")
    p.add_argument("--duration", type=int, default=None,
                   help="seconds per measured wrk run (default 5, --quick 2)")
    p.add_argument("--warmup", type=int, default=None,
                   help="seconds of warm-up load before each measurement (default 1)")
    p.add_argument("--only", default="", help="comma-separated scenarios to run")
    p.add_argument("--servers", default="", help="comma-separated servers to run")
    p.add_argument("--quick", action="store_true",
                   help="2 s runs, scenarios " + ",".join(QUICK_SCENARIOS) +
                        ", RSS after 10,000 requests")
    p.add_argument("--repeat", type=int, default=None,
                   help="runs of each headline row, servers alternating (default 3, --quick 2)")
    p.add_argument("--requests", type=int, default=None,
                   help="keep-alive requests the instruction and syscall counts send "
                        "(default 20,000, --quick 2,000)")
    p.add_argument("--note", default="", help="a line to add to the results (e.g. the load)")
    p.add_argument("--no-save", action="store_true", help="print only; write no file")
    args = p.parse_args(argv)
    only = [x for x in args.only.split(",") if x]
    bad = [x for x in only if x not in ALL_IDS]
    if bad:
        p.error(f"unknown scenario {', '.join(bad)} (known: {', '.join(ALL_IDS)})")
    servers = [x for x in args.servers.split(",") if x]
    bad = [x for x in servers if x not in names]
    if bad:
        p.error(f"unknown server {', '.join(bad)} (known: {', '.join(names)})")
    for flag in ("duration", "warmup"):
        v = getattr(args, flag)
        if v is not None and (v < (1 if flag == "duration" else 0) or v > 600):
            p.error(f"--{flag} {v} is out of range")
    if args.repeat is not None and not 1 <= args.repeat <= 20:
        p.error(f"--repeat {args.repeat} is out of range (1-20)")
    if args.requests is not None and not 100 <= args.requests <= 1_000_000:
        p.error(f"--requests {args.requests} is out of range (100-1,000,000)")
    args.only_list, args.server_list = only, servers
    return args


def resolve_build(text: str) -> Path:
    path = Path(text)
    if not path.is_absolute() and not path.exists():
        path = ROOT / text
    return path.resolve()


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def startup_only(ctx: Context, servers, startups: Dict[str, List[float]]) -> None:
    for server in servers:
        if server.name == "uwsgi-busyness":  # uwsgi's start-up, with one more plugin
            continue
        why = server.unavailable(ctx)
        if why:
            print(f"  {server.name}: not available: {why}", file=sys.stderr)
            continue
        for _ in range(3):
            port = procs.free_port()
            proc = server.start(ctx, "hello", port)
            try:
                startups.setdefault(server.name, []).append(
                    procs.wait_first_200(proc, port, server.path("hello"), 60))
            except RuntimeError as exc:
                print(f"  {server.name}: {exc}", file=sys.stderr)
                break
            finally:
                proc.stop()


def progress(sc_id: str, row: Row) -> str:
    if row.result is None:
        return f"  {sc_id:16} {row.server:26} {row.note.strip('; ')[:110]}"
    r = row.result
    return (f"  {sc_id:16} {row.server:26} {r.rps:10,.0f} req/s  p99 {report.fmt_us(r.p99_us):>9}"
            f"  errors {r.errors}" + (f"  ({row.note.strip('; ')})" if row.note else ""))


def update_readme(body: str, start: str = README_START, end: str = README_END) -> None:
    readme = ROOT / "bench" / "README.md"
    if not readme.exists():
        return
    text = readme.read_text()
    if start not in text or end not in text:
        return
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    readme.write_text(f"{head}{start}\n{body}\n{end}{tail}")


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: List[str]) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed; run: bash scripts/install-deps.sh --bench",
              file=sys.stderr)
        return 2
    build = resolve_build(args.build)
    settings = Settings(duration=args.duration or (2 if args.quick else 5),
                        warmup=args.warmup if args.warmup is not None else 1)
    settings.repeat = args.repeat or (2 if args.quick else 3)
    if args.quick:
        settings.rss_requests, settings.rss_cap_seconds = 10_000, 20.0
        settings.step_seconds, settings.idle_after_seconds = 10.0, 15.0
    chosen = args.only_list or (QUICK_SCENARIOS if args.quick else ALL_IDS)
    servers = [s for s in all_servers() if not args.server_list or s.name in args.server_list]
    complete = not (args.only_list or args.server_list or args.quick)
    n_repeat = args.repeat or (2 if args.quick else 3)
    n_requests = args.requests or (2_000 if args.quick else 20_000)
    raise_fd_limit()
    procs.install_signal_handlers()

    stamp = datetime.datetime.now(datetime.timezone.utc)
    load_start = report.load_avg()
    tmpdir = Path(tempfile.mkdtemp(prefix="gfbench-"))
    try:
        ctx = Context(ROOT, snapshot_build(build, tmpdir), tmpdir, origin=build)
    except (OSError, RuntimeError) as exc:
        log(f"bench: cannot copy the binaries out of {build}: {exc}")
        shutil.rmtree(tmpdir, ignore_errors=True)
        return 2
    results: Dict[str, List[Row]] = {}
    startups: Dict[str, List[float]] = {}
    rep: repeat.Repeated = {}
    cnt: Dict[str, List[counts.Count]] = {}
    t0 = time.monotonic()
    try:
        print(f"bench: {len(chosen)} scenarios x {len(servers)} servers, "
              f"{settings.duration} s runs, build dir {build}", file=sys.stderr)
        for sc in SCENARIOS:
            if sc.id not in chosen:
                continue
            rows = results.setdefault(sc.id, [])
            for server in servers:
                if not applies(sc, server):
                    continue
                t_row = time.monotonic()
                row = run_one(ctx, sc, server, settings, startups)
                rows.append(row)
                print(progress(sc.id, row) + f"  [{time.monotonic() - t_row:.0f} s]",
                      file=sys.stderr)
        if "headline" in chosen:
            log(f"bench: headline rows, {n_repeat} alternating runs each")
            rep = repeat.run(ctx, servers, settings, n_repeat, startups, log)
        tools = [t for sc_id, t in (("instructions", "callgrind"), ("syscalls", "strace"))
                 if sc_id in chosen]
        if tools:
            log(f"bench: {' and '.join(tools)} counts, {n_requests:,} keep-alive requests")
            cnt = counts.run_all(ctx, tools, n_requests, log)
        if "startup" in chosen and not startups:
            startup_only(ctx, servers, startups)
    except KeyboardInterrupt:
        print("bench: interrupted; stopping what was started", file=sys.stderr)
        procs.cleanup_all()
        shutil.rmtree(tmpdir, ignore_errors=True)
        return 130
    finally:
        procs.cleanup_all()
    elapsed = time.monotonic() - t0

    versions = {s.name: s.version(ctx) for s in servers}
    shutil.rmtree(tmpdir, ignore_errors=True)  # the build snapshot's times are read: now go
    versions["wrk"] = wrk.version()
    if cnt:
        versions.update(counts.tool_versions())
    settings_line = (f"settings: 2 workers per server, `wrk -t1`, {settings.duration} s per "
                     f"measured run after {settings.warmup} s of warm-up, listen backlog 2048, "
                     f"loopback; whole run took {elapsed / 60:.1f} min")
    if args.note:
        settings_line += f"\n- note: {args.note}"
    lines = [f"# greenfork benchmark, {stamp:%Y-%m-%d %H:%M} UTC"
             + ("" if complete else " (partial run)"), ""]
    lines += report.system_lines(versions, load_start, settings_line) + [""]
    if results:
        lines += ["## Targets (issue 6)", ""] + targets.check(results) + [""]
    for sc in SCENARIOS:
        if sc.id in results:
            lines += report.scenario_section(sc, results[sc.id], settings.rss_requests)
    if startups:
        lines += ["## startup: time from start to the first 200 (every start in this run)", ""]
        lines += report.startup_table(startups) + [""]
    head_lines = headline_lines(rep, cnt, n_repeat, n_requests)
    text = "\n".join(lines + head_lines)
    print(text)
    out_dir = ROOT / "bench" / "results"
    if not args.no_save:
        out_dir.mkdir(parents=True, exist_ok=True)
        name = f"{stamp:%Y-%m-%d_%H%M}" + ("" if complete else "-partial") + ".md"
        (out_dir / name).write_text(text)
        if complete:
            (out_dir / "latest.md").write_text(text)
            update_readme(re.sub(r"^(#+) ", r"\1## ", "\n".join(lines), flags=re.M))
        if head_lines and not (args.server_list or args.quick):  # --quick only checks
            save_headline(out_dir, rep, lines[:lines.index("")] + [""] +
                          report.system_lines(versions, load_start, settings_line) +
                          [""] + head_lines, stamp)
        print(f"bench: wrote {out_dir / name}", file=sys.stderr)
    return 0


def headline_lines(rep, cnt, n_repeat: int, n_requests: int) -> List[str]:
    """Issue 18's part of the report: targets on medians, the repeated
    headline rows, the instruction and syscall counts."""
    if not rep and not cnt:
        return []
    titles = {sc.id: sc.title for sc in SCENARIOS}
    lines = ["## Targets (issue 18: medians of the repeated runs, instruction counts)", ""]
    lines += targets.check_repeated(rep, cnt) + [""]
    if rep:
        lines += repeat.section(rep, n_repeat, titles)
    if cnt:
        lines += counts.tables(cnt, n_requests)
    return lines


def save_headline(out_dir: Path, rep, lines: List[str], stamp) -> None:
    """headline-latest.md, the chart, and the README's headline section."""
    if rep:
        load = report.load_avg()
        try:
            load_high = float(load.split()[0]) > 2.0
        except ValueError:
            load_high = False
        why = chart.draw(rep, out_dir / "headline",
                         f"greenfork bench, {stamp:%Y-%m-%d %H:%M} UTC, {report.cpu_model()}, "
                         f"loopback, wrk -t1 -c64, 2 workers per server, load average at the end "
                         f"{load}" + (", machine shared with other work" if load_high else ""))
        if why:
            log(f"bench: no chart: {why}")
        else:
            lines = lines[:2] + ["![the headline rows](headline.png)", ""] + lines[2:]
    text = "\n".join(lines)
    (out_dir / "headline-latest.md").write_text(text)
    body = re.sub(r"^(#+) ", r"\1## ", text, flags=re.M).replace("](headline.png)",
                                                               "](results/headline.png)")
    update_readme(body, HEADLINE_START, HEADLINE_END)
    log(f"bench: wrote {out_dir / 'headline-latest.md'}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
