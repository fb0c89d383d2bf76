"""What the metrics end-to-end tests share: an arbiterd running gworker
with --metrics-bind, and /metrics parsed with prometheus_client."""

from __future__ import annotations

import http.client
import shutil
import tempfile
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gftest import Spawned, binary, free_port, http_get, wait_until

APP = """
def app(environ, start_response):
    path = environ['PATH_INFO']
    status = '404 Not Found' if path == '/missing' else '200 OK'
    start_response(status, [('Content-Type', 'text/plain')])
    return [b'hello\\n']
"""


@pytest.fixture
def short_tmp():
    path = Path(tempfile.mkdtemp(prefix="gfm-", dir="/tmp"))
    (path / "metricsapp.py").write_text(APP)
    yield path
    shutil.rmtree(path, ignore_errors=True)


class Arbiter:
    """arbiterd -w N gworker metricsapp:app with a metrics address; beats
    every second (--timeout 2) so counters arrive quickly."""

    def __init__(self, tmp: Path, workers: int = 2, extra=(), config: Path | None = None):
        self.port = free_port()
        self.metrics_port = free_port()
        self.tmp = tmp
        if config is not None:
            argv = [binary("arbiterd"), "-c", str(config), "--control-socket", str(tmp / "ctl.sock"),
                    "--metrics-bind", f"127.0.0.1:{self.metrics_port}"]
        else:
            argv = [binary("arbiterd"), "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
                    "--metrics-bind", f"127.0.0.1:{self.metrics_port}", "--timeout", "2",
                    "--control-socket", str(tmp / "ctl.sock"), "--chdir", str(tmp), *extra,
                    "metricsapp:app"]
        self.spawned = Spawned(argv, logdir=tmp / "logs")

    def __enter__(self) -> "Arbiter":
        self.spawned.start()
        try:
            wait_until(self._answers, timeout=30, message="the metrics address to answer")
        except BaseException as exc:
            # `with` does not call __exit__ when __enter__ fails: clean up here.
            self.spawned.__exit__(type(exc), exc, exc.__traceback__)
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.spawned.__exit__(*exc)

    def _answers(self):
        if self.spawned.poll() is not None:
            raise AssertionError(f"arbiterd exited\n{self.spawned.output()}")
        try:
            return self.get("/healthz")[0] == 200
        except OSError:
            return False

    def get(self, path: str, headers=None, method: str = "GET"):
        conn = http.client.HTTPConnection("127.0.0.1", self.metrics_port, timeout=10)
        try:
            conn.request(method, path, headers=headers or {})
            r = conn.getresponse()
            return r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read()
        finally:
            conn.close()

    def samples(self) -> dict:
        """{(name, frozenset(labels)): value} of one scrape, parsed by
        prometheus_client's text parser."""
        status, headers, body = self.get("/metrics")
        assert status == 200, body
        assert headers["content-type"].startswith("text/plain; version=0.0.4")
        out = {}
        for family in text_string_to_metric_families(body.decode()):
            for s in family.samples:
                out[(s.name, frozenset(s.labels.items()))] = s.value
        return out

    def serve(self, path: str = "/") -> None:
        r = http_get(self.port, path)
        assert r.status in (200, 404), r

    def worker_pids(self, samples: dict) -> list[int]:
        return sorted(int(dict(labels)["pid"]) for (name, labels) in samples
                      if name == "greenfork_worker_resident_memory_bytes")


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), -1.0)
