"""Operating in production, end to end: a reload keeps a scaled pool's count,
a worker past --max-worker-memory is replaced (its successor READY first),
and --autoscale grows a busy pool and shrinks it after the load."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import http.client

from arbiter_e2e_support import env_without_systemd, short_tmp, wait_workers  # noqa: F401
from gftest import PYTHON, RequestLoop, Spawned, binary, free_port, http_get, wait_until
from arbiter_e2e_support import TESTWORKER

LEAK_APP = '''
import os
hoard = []

def app(environ, start_response):
    if environ["PATH_INFO"] == "/grow":
        hoard.append(bytearray(48 * 1024 * 1024))  # touched: it counts in RSS
        for block in hoard[-1:]:
            for i in range(0, len(block), 4096):
                block[i] = 1
    body = f"pid {os.getpid()} hoard {len(hoard)}\\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
'''

SLOW_APP = '''
import os, time

def app(environ, start_response):
    time.sleep(0.05)
    body = f"pid {os.getpid()}\\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
'''


def gctl(tmp, *args, timeout=60):
    return subprocess.run([binary("gctl"), "--socket", str(tmp / "ctl.sock"), *args],
                          capture_output=True, text=True, timeout=timeout)


def pool_status(tmp, name=None):
    r = gctl(tmp, "--json", "status")
    assert r.returncode == 0, r.stderr
    pools = json.loads(r.stdout)["pools"]
    return pools[0] if name is None else next(p for p in pools if p["name"] == name)


def gworkers(arb):
    from arbiter_e2e_support import workers_of
    return workers_of(arb, marker="gworker")


def test_reload_keeps_the_scaled_count_until_the_files_workers_change(short_tmp):
    port = free_port()
    conf = short_tmp / "pools.toml"
    text = (f'[pools.web]\ncommand = ["{PYTHON}", "{TESTWORKER}"]\nworkers = 1\n'
            f'bind = ["127.0.0.1:{port}"]\nheartbeat = "notify"\ngraceful_timeout = 5\n')
    conf.write_text(text)
    with Spawned([binary("arbiterd"), "-c", conf, "--control-socket", short_tmp / "ctl.sock"],
                 env=env_without_systemd(), logdir=short_tmp / "logs") as arb:
        wait_workers(arb, 1, timeout=20)
        wait_until(lambda: http_get(port).status == 200, timeout=15)
        r = gctl(short_tmp, "scale", "=4", "--wait")
        assert r.returncode == 0, r.stderr
        scaled = wait_workers(arb, 4, timeout=20)
        with RequestLoop(port, max_seconds=90) as loop:
            wait_until(lambda: loop.ok > 10, timeout=10)
            r = gctl(short_tmp, "reload", "--wait")
            assert r.returncode == 0, r.stdout + r.stderr
            rolled = wait_workers(arb, 4, exclude=scaled, timeout=30)
            before = loop.ok
            wait_until(lambda: loop.ok > before + 10, timeout=10)
        assert loop.failures == [], loop.failures[:5]
        assert pool_status(short_tmp)["desired"] == 4
        wait_until(lambda: "keeping the current 4 worker(s)" in arb.stderr_text(), timeout=5)

        # The file's own workers changes: that count applies, and says so.
        conf.write_text(text.replace("workers = 1", "workers = 2"))
        r = gctl(short_tmp, "reload", "--wait")
        assert r.returncode == 0, r.stdout + r.stderr
        wait_workers(arb, 2, exclude=rolled, timeout=30)
        assert pool_status(short_tmp)["desired"] == 2
        assert "workers changed in the file (1 -> 2)" in arb.stderr_text()


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


def test_a_worker_past_max_worker_memory_is_replaced_successor_first(short_tmp):
    (short_tmp / "leak.py").write_text(LEAK_APP)
    port = free_port()
    argv = [binary("arbiterd"), "--control-socket", short_tmp / "ctl.sock", "-w", "2",
            "-b", f"127.0.0.1:{port}", "--pythonpath", short_tmp, "leak:app"]
    # The limit sits 72 MiB above an idle worker's RSS (larger in sanitizer
    # builds): one 48 MiB request stays under it, a second one passes it.
    with Spawned(argv, env=env_without_systemd(), logdir=short_tmp / "probe-logs") as probe:
        pids = wait_workers(probe, 2, marker="gworker", timeout=30)
        # Measured once both have loaded the app (a worker just forked is
        # a few MiB, before its interpreter starts).
        wait_until(lambda: pool_status(short_tmp)["ready"] == 2, timeout=30)
        wait_until(lambda: http_get(port).status == 200, timeout=20)
        idle = max(rss_mib(pid) for pid in pids)
    limit = f"{int(idle) + 72}M"
    argv[-1:-1] = ["--max-worker-memory", limit]
    with Spawned(argv, env=env_without_systemd(), logdir=short_tmp / "logs") as arb:
        old = wait_workers(arb, 2, marker="gworker", timeout=30)
        wait_until(lambda: http_get(port).status == 200, timeout=20)
        wait_until(lambda: pool_status(short_tmp)["ready"] == 2, timeout=20)
        watch = Spawned([binary("gctl"), "--socket", short_tmp / "ctl.sock", "watch"],
                        logdir=short_tmp / "logs").start()
        # The watch is subscribed once it shows an event (a scale to the same count).
        wait_until(lambda: gctl(short_tmp, "scale", "=2").returncode == 0 and "2 -> 2" in watch.stdout_text(),
                   timeout=15, interval=0.5)
        # Grow one worker past 100 MiB: 48 MiB a request, the second one a
        # worker answers takes it over; the other worker holds one at most.
        grown = None
        for _ in range(20):
            body = http_get(port, "/grow").body.decode()
            pid, hoard = int(body.split()[1]), int(body.split()[3])
            if hoard >= 2:
                grown = pid
                break
        assert grown in old, f"no worker grew past the limit: {body}"
        wait_until(lambda: "reason memory" in arb.stderr_text(), timeout=10)
        # Its successor is READY before it gets TERM: never fewer than 2 READY.
        with RequestLoop(port, max_seconds=60) as loop:
            now = wait_workers(arb, 2, marker="gworker", exclude=[grown], timeout=30)
            before = loop.ok
            wait_until(lambda: loop.ok > before + 10, timeout=10)
        assert loop.failures == [], loop.failures[:5]
        assert set(old) - {grown} <= set(now)  # the other worker was left alone
        log = arb.stderr_text()
        assert log.index(f"restarting worker (pid: {grown})") < log.index(f"Stopping worker (pid: {grown})")
        status = pool_status(short_tmp)
        assert status["restarts"] == "1" or status["restarts"] == 1
        try:
            wait_until(lambda: "reason=memory" in watch.stdout_text(), timeout=10)
            line = next(l for l in watch.stdout_text().splitlines() if "reason=memory" in l)
            assert f"pid={grown}" in line and "above max_worker_memory" in line, line
        finally:
            watch.stop()


def test_max_worker_memory_refuses_a_malformed_size(short_tmp):
    r = subprocess.run([binary("arbiterd"), "--max-worker-memory", "lots", "--", "true"],
                       capture_output=True, text=True, timeout=30, env=env_without_systemd())
    assert r.returncode == 2
    assert "--max-worker-memory: 'lots' is not a size" in r.stderr


class Load:
    """`connections` threads, each a loop of requests on its own keep-alive
    connection, until stop() or max_seconds."""

    def __init__(self, port, connections=32, max_seconds=60.0):
        self.port, self.max_seconds = port, max_seconds
        self.ok = 0
        self.errors = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(connections)]

    def _run(self):
        deadline = time.monotonic() + self.max_seconds
        conn = None
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
                conn.request("GET", "/")
                r = conn.getresponse()
                r.read()
                with self._lock:
                    self.ok += r.status == 200
            except Exception:  # noqa: BLE001 - counted
                with self._lock:
                    self.errors += 1
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(timeout=30)


def test_autoscale_grows_a_busy_pool_and_shrinks_it_after_the_cooldown(short_tmp):
    (short_tmp / "slow.py").write_text(SLOW_APP)
    port = free_port()
    argv = [binary("arbiterd"), "--control-socket", short_tmp / "ctl.sock", "-b", f"127.0.0.1:{port}",
            "--pythonpath", short_tmp, "--autoscale", "1:4", "--autoscale-cooldown", "2", "slow:app"]
    with Spawned(argv, env=env_without_systemd(), logdir=short_tmp / "logs") as arb:
        wait_workers(arb, 1, marker="gworker", timeout=30)
        wait_until(lambda: http_get(port).status == 200, timeout=20)
        started = time.monotonic()
        with Load(port, connections=32, max_seconds=90) as load:
            wait_until(lambda: pool_status(short_tmp)["ready"] >= 3, timeout=60,
                       message="the pool to grow to 3 READY workers")
            grew_in = time.monotonic() - started
            served_before = load.ok
            wait_until(lambda: load.ok > served_before + 50, timeout=20)
        assert load.ok > 0
        log = arb.stderr_text()
        assert "autoscale 1 -> 2: busy" in log, log
        assert "autoscale 2 -> 3: busy" in log, log
        # After the load: one worker a cooldown, back to MIN.
        wait_until(lambda: pool_status(short_tmp)["desired"] == 1, timeout=60,
                   message="the pool to shrink back to 1")
        wait_workers(arb, 1, marker="gworker", timeout=30)
        assert "low use" in arb.stderr_text()
        print(f"grew from 1 to 3 READY workers in {grew_in:.1f}s under 32 connections")
