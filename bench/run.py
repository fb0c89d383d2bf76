#!/usr/bin/python3
"""greenfork's side-by-side benchmark: one command, every scenario, every server.

    /usr/bin/python3 bench/run.py                 # everything (8-13 min on 2 cores)
    /usr/bin/python3 bench/run.py --quick         # short runs, a subset (~3 min)
    /usr/bin/python3 bench/run.py --only hello-keepalive,flask --servers uwsgi,greenfork

Writes bench/results/<UTC date>.md; a complete run also writes
bench/results/latest.md and the results section of bench/README.md.
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

from gfbench import procs, report, targets, wrk  # noqa: E402
from gfbench.scenarios import SCENARIO_IDS, SCENARIOS, Row, Settings, applies, run_one  # noqa: E402
from gfbench.servers import Context, all_servers  # noqa: E402

QUICK_SCENARIOS = ["hello-keepalive", "post-1m", "flask", "slowloris", "reload", "kill9", "rss"]
README_START, README_END = "<!-- latest-results:start -->", "<!-- latest-results:end -->"


def parse_args(argv: List[str]) -> argparse.Namespace:
    names = [s.name for s in all_servers()]
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=f"scenarios: {', '.join(SCENARIO_IDS)}\n"
                                       f"servers: {', '.join(names)}")
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
    p.add_argument("--no-save", action="store_true", help="print only; write no file")
    args = p.parse_args(argv)
    only = [x for x in args.only.split(",") if x]
    bad = [x for x in only if x not in SCENARIO_IDS]
    if bad:
        p.error(f"unknown scenario {', '.join(bad)} (known: {', '.join(SCENARIO_IDS)})")
    servers = [x for x in args.servers.split(",") if x]
    bad = [x for x in servers if x not in names]
    if bad:
        p.error(f"unknown server {', '.join(bad)} (known: {', '.join(names)})")
    for flag in ("duration", "warmup"):
        v = getattr(args, flag)
        if v is not None and (v < (1 if flag == "duration" else 0) or v > 600):
            p.error(f"--{flag} {v} is out of range")
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


def update_readme(body: str) -> None:
    readme = ROOT / "bench" / "README.md"
    if not readme.exists():
        return
    text = readme.read_text()
    if README_START not in text or README_END not in text:
        return
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    readme.write_text(f"{head}{README_START}\n{body}\n{README_END}{tail}")


def main(argv: List[str]) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        print("bench: wrk is not installed; run: bash scripts/install-deps.sh --bench",
              file=sys.stderr)
        return 2
    build = resolve_build(args.build)
    settings = Settings(duration=args.duration or (2 if args.quick else 5),
                        warmup=args.warmup if args.warmup is not None else 1)
    if args.quick:
        settings.rss_requests, settings.rss_cap_seconds = 10_000, 20.0
    chosen = args.only_list or (QUICK_SCENARIOS if args.quick else SCENARIO_IDS)
    servers = [s for s in all_servers() if not args.server_list or s.name in args.server_list]
    complete = not (args.only_list or args.server_list or args.quick)
    raise_fd_limit()
    procs.install_signal_handlers()

    stamp = datetime.datetime.now(datetime.timezone.utc)
    load_start = report.load_avg()
    tmpdir = Path(tempfile.mkdtemp(prefix="gfbench-"))
    ctx = Context(ROOT, build, tmpdir)
    results: Dict[str, List[Row]] = {}
    startups: Dict[str, List[float]] = {}
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
        if "startup" in chosen and not startups:
            startup_only(ctx, servers, startups)
    except KeyboardInterrupt:
        print("bench: interrupted; stopping what was started", file=sys.stderr)
        procs.cleanup_all()
        shutil.rmtree(tmpdir, ignore_errors=True)
        return 130
    finally:
        procs.cleanup_all()
    shutil.rmtree(tmpdir, ignore_errors=True)
    elapsed = time.monotonic() - t0

    versions = {s.name: s.version(ctx) for s in servers}
    versions["wrk"] = wrk.version()
    settings_line = (f"settings: 2 workers per server, `wrk -t1`, {settings.duration} s per "
                     f"measured run after {settings.warmup} s of warm-up, listen backlog 2048, "
                     f"loopback; whole run took {elapsed / 60:.1f} min")
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
    text = "\n".join(lines)
    print(text)
    if not args.no_save:
        out_dir = ROOT / "bench" / "results"
        out_dir.mkdir(parents=True, exist_ok=True)
        name = f"{stamp:%Y-%m-%d_%H%M}" + ("" if complete else "-partial") + ".md"
        (out_dir / name).write_text(text)
        if complete:
            (out_dir / "latest.md").write_text(text)
            update_readme(re.sub(r"^(#+) ", r"\1## ", text, flags=re.M))
        print(f"bench: wrote {out_dir / name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
