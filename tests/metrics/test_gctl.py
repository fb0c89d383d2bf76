"""gctl for scripts and people watching: --json with 64-bit counters as
JSON numbers (jq adds them up), and `gctl top -n N`."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from gftest import binary, wait_until
from metrics_support import Arbiter, short_tmp, value  # noqa: F401


def gctl(arb: Arbiter, *args, timeout: float = 60) -> subprocess.CompletedProcess:
    argv = [binary("gctl"), "--socket", str(arb.tmp / "ctl.sock"), *[str(a) for a in args]]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def status_json(arb: Arbiter) -> dict:
    r = gctl(arb, "--json", "status")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_json_counters_are_numbers(short_tmp):
    with Arbiter(short_tmp, workers=2) as arb:
        wait_until(lambda: value(arb.samples(), "greenfork_workers", pool="main", state="ready") == 2,
                   timeout=30, message="2 READY workers")
        for _ in range(9):
            arb.serve("/")

        def served() -> int:
            return sum(w["requests_served"] for p in status_json(arb)["pools"] for w in p["workers"])
        wait_until(lambda: served() == 9, timeout=20, message="9 requests served in gctl --json status")
        s = status_json(arb)
        for p in s["pools"]:
            assert type(p["restarts"]) is int and type(p["reloads"]) is int
            for w in p["workers"]:
                for key in ("requests_served", "rss_bytes"):
                    assert type(w[key]) is int, (key, w[key])
                assert w["rss_bytes"] > 0
                assert type(w["cpu_seconds"]) is float and w["cpu_seconds"] >= 0
                assert w["state"] == "WORKER_STATE_READY"
        if shutil.which("jq"):
            r = gctl(arb, "--json", "status")
            total = subprocess.run(["jq", "[.pools[].workers[].requests_served] | add"], input=r.stdout,
                                   capture_output=True, text=True, timeout=30)
            assert total.returncode == 0, total.stderr
            assert total.stdout.strip() == "9"
