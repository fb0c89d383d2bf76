"""Noise-free figures: user-space instructions and syscalls per request.

Wall-clock numbers on a shared 2-core machine move by ±15%; instruction and
syscall counts do not. For nginx `return 200`, greenfork's native hello and
greenfork's WSGI hello, one server process (nginx with `daemon off;
master_process off;`, gworker standalone with `-b`) runs under
`valgrind --tool=callgrind` (user-space instructions, Ir) or `strace -c -f`
(syscalls), serves exactly N keep-alive requests from client.keepalive(),
and is stopped with SIGTERM, when the tool writes its totals. A second run
that serves no request (only the one GET that tells the server is up, as the
measured run does too) is subtracted, so start-up and shutdown are excluded:
per request = (run with N - run with 0) / N.
"""

from __future__ import annotations

import re
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from . import client, procs
from .servers import Context, Nginx, find_libhello

TARGETS = ("nginx", "greenfork-native", "greenfork", "greenfork-gthread")
TOP_FUNCTIONS = 12
START_TIMEOUT = 240.0   # Python start-up under callgrind is slow on a loaded machine
STOP_TIMEOUT = 120.0    # callgrind writes its profile at exit


@dataclass
class Count:
    target: str
    per_request: Optional[float] = None           # Ir or syscalls per request
    detail: List[Tuple[str, float]] = field(default_factory=list)  # top items per request
    total: int = 0
    baseline: int = 0
    requests: int = 0
    connections: int = 0
    seconds: float = 0.0
    note: str = ""


def _argv(ctx: Context, target: str, port: int, d: Path) -> Tuple[List[str], Optional[str]]:
    """(server argv, cwd) of one single-process server."""
    gworker = str(ctx.build / "bin" / "gworker")
    if target == "nginx":
        conf = Nginx().write_conf(d, port, single=True)
        return ["nginx", "-p", str(d), "-e", str(d / "error.log"), "-c", str(conf)], None
    if target == "greenfork-native":
        return [gworker, "-b", f"127.0.0.1:{port}", f"native:{find_libhello(ctx.build)}"], None
    appdir, spec = ctx.wsgi_app("hello")
    threads = ["-k", "gthread", "--threads", "4"] if target == "greenfork-gthread" else []
    return [gworker, "-b", f"127.0.0.1:{port}", *threads, "--chdir", str(appdir), spec], str(appdir)


def unavailable(ctx: Context, target: str, tool: str) -> Optional[str]:
    need = {"callgrind": ["valgrind", "callgrind_annotate"], "strace": ["strace"]}[tool]
    need += ["nginx"] if target == "nginx" else []
    missing = [n for n in need if shutil.which(n) is None]
    if missing:
        return f"{', '.join(missing)} not installed (bash scripts/install-deps.sh --bench)"
    if target != "nginx":
        if not (ctx.build / "bin" / "gworker").is_file():
            return f"{ctx.build / 'bin' / 'gworker'} is not built"
        if target == "greenfork-native" and find_libhello(ctx.build) is None:
            return f"no libhello.so under {ctx.build}"
    return None


def _one_run(ctx: Context, target: str, tool: str, requests: int
             ) -> Tuple[Path, client.ClientResult]:
    """Runs the server under the tool for `requests` requests; returns the
    tool's output (file or folder) once the server has exited."""
    d = ctx.fresh_dir(f"{tool}-{target}-{requests}")
    port = procs.free_port()
    argv, cwd = _argv(ctx, target, port, d)
    if tool == "callgrind":
        out: Path = d / "cg"
        out.mkdir()
        wrapped = ["valgrind", "--tool=callgrind", "--trace-children=yes",
                   f"--callgrind-out-file={out}/callgrind.out.%p"] + argv
    else:
        out = d / "strace.txt"
        wrapped = ["strace", "-f", "-c", "-o", str(out)] + argv
    proc = procs.Proc(wrapped, d / "server.log", cwd=cwd, stop_signal=signal.SIGTERM)
    try:
        procs.wait_first_200(proc, port, "/", START_TIMEOUT)
        res = client.keepalive(port, requests) if requests else client.ClientResult()
        # valgrind runs the server in its own pid; strace's tracee is its child.
        server_pid = proc.pid if tool == "callgrind" else (procs.children(proc.pid) or [0])[0]
        _stop(proc, server_pid, port, f"{target} under {tool}")
    finally:
        proc.stop()
    return out, res


def _stop(proc: procs.Proc, server_pid: int, port: int, what: str) -> None:
    """SIGTERM, and wait for the tool to write its totals. A single-process
    nginx that gets the signal between its flag check and epoll_wait() sleeps
    until the next event (valgrind widens that window): every few seconds
    the signal is sent again with a connection to wake the loop."""
    deadline = time.monotonic() + STOP_TIMEOUT
    while True:
        if server_pid:
            procs.signal_pid(server_pid, signal.SIGTERM)
        try:
            proc.popen.wait(timeout=3.0)
            return
        except subprocess.TimeoutExpired:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not exit within {STOP_TIMEOUT:.0f} s "
                                   "of SIGTERM") from None
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1.0).close()
        except OSError:
            pass


# -- callgrind ---------------------------------------------------------------

def _callgrind_total(out: Path) -> int:
    total = 0
    for f in out.glob("callgrind.out.*"):
        m = re.search(r"^(?:summary|totals):\s*(\d+)", f.read_text(errors="replace"), re.M)
        if m:
            total += int(m.group(1))
    if not total:
        raise RuntimeError(f"callgrind wrote no totals in {out}")
    return total


_ANNOTATE_LINE = re.compile(r"^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.*)$")


def _callgrind_functions(out: Path) -> Dict[str, int]:
    """Self cost (Ir) per function over every profile in out, inlined code
    counted with the function it was inlined into."""
    costs: Dict[str, int] = {}
    objects: Dict[str, str] = {}
    for f in sorted(out.glob("callgrind.out.*")):
        text = subprocess.run(["callgrind_annotate", "--auto=no", "--threshold=100",
                               "--inclusive=no", str(f)], capture_output=True, text=True,
                              timeout=120).stdout
        for line in text.splitlines():
            m = _ANNOTATE_LINE.match(line)
            if not m or "PROGRAM TOTALS" in line:
                continue
            where = m.group(2)
            func = where.split(":", 1)[1] if ":" in where.split(" [", 1)[0] else where
            obj = re.search(r"\[([^\]]+)\]\s*$", func)
            name = short_name(func[:obj.start()] if obj else func)
            if obj and name not in objects:
                objects[name] = Path(obj.group(1)).name
            costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
    return {(f"{k} ({objects[k]})" if k in objects else k): v for k, v in costs.items()}


def short_name(func: str) -> str:
    """A C++ name without its parameter list and with template arguments
    folded (`f<…>`), so overloads and inlined parts of one function add up."""
    func = func.strip().replace("(anonymous namespace)", "{anon}")
    if "operator" in func:
        return func
    out, depth = [], 0
    for ch in func:
        if ch in "<(":
            if depth == 0:
                out.append("<…>" if ch == "<" else "")
            depth += 1
        elif ch in ">)" and depth:
            depth -= 1
        elif depth == 0:
            out.append(ch)
    name = "".join(out).strip()
    return name or func


# -- strace ------------------------------------------------------------------

def _strace_counts(out: Path) -> Dict[str, int]:
    """Calls per syscall from `strace -c`, with "total"."""
    counts: Dict[str, int] = {}
    for line in out.read_text(errors="replace").splitlines():
        f = line.split()
        if len(f) in (5, 6) and f[3].isdigit() and re.fullmatch(r"[\d.]+", f[0]):
            counts[f[-1]] = counts.get(f[-1], 0) + int(f[3])
    if "total" not in counts:
        raise RuntimeError(f"strace wrote no summary in {out}")
    return counts


def _per_request(a: Dict[str, int], b: Dict[str, int], n: int, top: int
                 ) -> List[Tuple[str, float]]:
    diff = [(k, (v - b.get(k, 0)) / n) for k, v in a.items() if k != "total"]
    return sorted((x for x in diff if x[1] > 0), key=lambda x: -x[1])[:top]


def measure(ctx: Context, target: str, tool: str, requests: int,
            log: Callable[[str], None]) -> Count:
    """One target under one tool: a run with `requests` requests and one with 0."""
    c = Count(target=target)
    why = unavailable(ctx, target, tool)
    if why:
        c.note = f"not available: {why}"
        return c
    try:
        base_out, _ = _one_run(ctx, target, tool, 0)
        out, res = _one_run(ctx, target, tool, requests)
        c.requests, c.connections, c.seconds = res.requests, res.connections, res.seconds
        if tool == "callgrind":
            c.total, c.baseline = _callgrind_total(out), _callgrind_total(base_out)
            c.detail = _per_request(_callgrind_functions(out), _callgrind_functions(base_out),
                                    requests, TOP_FUNCTIONS)
        else:
            a, b = _strace_counts(out), _strace_counts(base_out)
            c.total, c.baseline = a["total"], b["total"]
            c.detail = _per_request(a, b, requests, 20)
        c.per_request = (c.total - c.baseline) / requests
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - one failure is one table row
        c.note = f"failed: {exc}"
    log(f"  {tool:16} {target:26} " + (f"{c.per_request:12,.1f} per request"
                                       if c.per_request is not None else c.note[:100]))
    return c


def run_all(ctx: Context, tools: List[str], requests: int,
            log: Callable[[str], None]) -> Dict[str, List[Count]]:
    return {tool: [measure(ctx, t, tool, requests, log) for t in TARGETS] for tool in tools}


def tool_versions() -> Dict[str, str]:
    out = {}
    for name, argv in (("valgrind", ["valgrind", "--version"]), ("strace", ["strace", "-V"])):
        try:
            res = subprocess.run(argv, capture_output=True, text=True, timeout=20)
            out[name] = (res.stdout or res.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            out[name] = "not installed"
    return out


# -- markdown ----------------------------------------------------------------

def _md(text: str) -> str:
    return text.replace("|", "\\|")


def tables(results: Dict[str, List[Count]], requests: int) -> List[str]:
    """The instructions and syscalls sections of the report."""
    lines: List[str] = []
    titles = {"callgrind": ("instructions", "user-space instructions (Ir) per request"),
              "strace": ("syscalls", "syscalls per request")}
    for tool, rows in results.items():
        sc_id, what = titles[tool]
        ngx = next((c for c in rows if c.target == "nginx" and c.per_request), None)
        lines += [f"## {sc_id}: {what}, {requests:,} keep-alive requests on one connection", "",
                  ("`valgrind --tool=callgrind`" if tool == "callgrind" else "`strace -c -f`") +
                  " around one server process (nginx `master_process off`, gworker standalone "
                  "`-b`); per request = (run with the requests − run with none) / requests, "
                  "so start-up and exit are not counted. These counts do not depend on the "
                  "machine's load: runs of one build agree within a few percent.", ""]
        head = ["server", f"{sc_id} per request", "× nginx", f"total, {requests:,} requests",
                "total, no request",
                "connections", "top " + ("functions" if tool == "callgrind" else "syscalls")
                + " per request"]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for c in rows:
            if c.per_request is None:
                lines.append("| " + " | ".join([c.target, c.note or "–"] + ["–"] * 5) + " |")
                continue
            top = ", ".join(f"{_md(k)} {v:,.2f}" for k, v in c.detail[:6] if v >= 0.005) \
                if tool == "strace" else f"see below ({len(c.detail)})"
            lines.append("| " + " | ".join([
                c.target, f"{c.per_request:,.1f}" if tool == "strace" else f"{c.per_request:,.0f}",
                f"{c.per_request / ngx.per_request:.2f}×" if ngx else "–",
                f"{c.total:,}", f"{c.baseline:,}", str(c.connections), top]) + " |")
        if tool == "callgrind":
            for c in rows:
                if not c.detail or not c.per_request:
                    continue
                lines += ["", f"### top functions, {c.target} (self cost, Ir per request)", "",
                          "| function | Ir per request | share |", "|---|---|---|"]
                lines += [f"| `{_md(k)}` | {v:,.0f} | {v / c.per_request * 100:.1f}% |"
                          for k, v in c.detail]
        lines.append("")
    return lines
