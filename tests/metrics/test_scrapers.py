"""Real consumers of the metrics address: a Prometheus server scraping
arbiterd and answering PromQL over its HTTP API, and headless Chromium
rendering the status page (a screenshot for the docs when
GF_WRITE_DOCS=1)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from gftest import Spawned, free_port, source, wait_until
from metrics_support import Arbiter, short_tmp, value  # noqa: F401


def run_group(argv: list, env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs chromium in its own process group and kills the whole group
    (renderers, GPU process) however it ends."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def promql(port: int, query: str) -> list:
    url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    with urllib.request.urlopen(url, timeout=10) as r:
        answer = json.load(r)
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="prometheus is not installed")
def test_prometheus_scrapes_arbiterd(short_tmp):
    with Arbiter(short_tmp, workers=2) as arb:
        wait_until(lambda: value(arb.samples(), "greenfork_workers", pool="main", state="ready") == 2,
                   timeout=30, message="2 READY workers")
        for _ in range(12):
            arb.serve("/")
        wait_until(lambda: value(arb.samples(), "greenfork_requests_total", pool="main", status_class="2xx") == 12,
                   timeout=20, message="12 requests in the beats")
        prom_port = free_port()
        config = short_tmp / "prometheus.yml"
        config.write_text(f"""
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: greenfork
    static_configs:
      - targets: ["127.0.0.1:{arb.metrics_port}"]
""")
        argv = ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={short_tmp / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{prom_port}", "--log.level=warn"]
        with Spawned(argv, logdir=short_tmp / "logs") as prom:
            def scraped():
                if prom.poll() is not None:
                    raise AssertionError(f"prometheus exited\n{prom.output()}")
                up = promql(prom_port, 'up{job="greenfork"}')
                return up and up[0]["value"][1] == "1"
            wait_until(scraped, timeout=60, message="Prometheus to scrape arbiterd")
            result = wait_until(lambda: promql(prom_port, 'sum(greenfork_requests_total{pool="main"})'),
                                timeout=30, message="the requests query")
            assert float(result[0]["value"][1]) == 12
            ready = promql(prom_port, 'greenfork_workers{pool="main",state="ready"}')
            assert float(ready[0]["value"][1]) == 2
            quantile = wait_until(lambda: promql(
                prom_port, 'histogram_quantile(0.5, sum by (le) (greenfork_request_duration_seconds_bucket))'),
                timeout=30, message="a latency quantile")
            assert 0 < float(quantile[0]["value"][1]) <= 10


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_status_page_in_headless_chromium(short_tmp):
    with Arbiter(short_tmp, workers=2) as arb:
        wait_until(lambda: value(arb.samples(), "greenfork_workers", pool="main", state="ready") == 2,
                   timeout=30, message="2 READY workers")
        for _ in range(5):
            arb.serve("/")
        pids = arb.worker_pids(arb.samples())
        url = f"http://127.0.0.1:{arb.metrics_port}/"
        profile = short_tmp / "chromium-profile"
        base = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                f"--user-data-dir={profile}"]
        env = dict(os.environ, HOME=str(short_tmp))
        dom = run_group([*base, "--dump-dom", url], env)
        text = dom.stdout.decode(errors="replace")
        assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
        # What a person sees: the pool, each worker's pid, the events.
        assert '<span class="pool-name">main</span>' in text, text[:2000]
        for pid in pids:
            assert f'<td class="pid">{pid}</td>' in text
        assert "worker ready" in text
        shot = short_tmp / "status-page.png"
        r = run_group([*base, "--window-size=1200,900", "--hide-scrollbars", f"--screenshot={shot}", url], env)
        assert r.returncode == 0 and shot.exists(), r.stderr.decode(errors="replace")[-2000:]
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("GF_WRITE_DOCS") == "1":
            shutil.copy(shot, Path(source("docs")) / "status-page.png")
