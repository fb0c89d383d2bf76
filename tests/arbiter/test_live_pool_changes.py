"""HUP / gctl reload of a TOML file applies its pool changes live: a new
pool starts, a removed pool drains and stops (its port then refuses), a
changed bind serves on the new address before the old one closes, and a bad
file changes nothing and says why. arbiterd itself never restarts."""

from __future__ import annotations

import signal
import socket
import subprocess

from arbiter_e2e_support import TESTWORKER, env_without_systemd, short_tmp, wait_workers, workers_of  # noqa: F401
from gftest import PYTHON, RequestLoop, Spawned, binary, free_port, http_get, wait_until


def pool_toml(name, port, workers=1):
    return (f'[pools.{name}]\ncommand = ["{PYTHON}", "{TESTWORKER}", "--watchdog", "0.5"]\n'
            f'workers = {workers}\nbind = ["127.0.0.1:{port}"]\nheartbeat = "notify"\n'
            # A removed pool's worker can hold TERM until graceful_timeout
            # (the test worker waits for its open connections): bound it well
            # inside the test's 30 s waits.
            'graceful_timeout = 5\n')


def gctl(tmp, *args):
    return subprocess.run([binary("gctl"), "--socket", str(tmp / "ctl.sock"), *args],
                          capture_output=True, text=True, timeout=60)


def refused(port) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def start(tmp, text):
    conf = tmp / "pools.toml"
    conf.write_text(text)
    arb = Spawned([binary("arbiterd"), "-c", conf, "--control-socket", tmp / "ctl.sock"],
                  env=env_without_systemd(), logdir=tmp / "logs")
    return conf, arb


def pool_names(tmp):
    import json
    r = gctl(tmp, "--json", "status")
    assert r.returncode == 0, r.stderr
    return sorted(p["name"] for p in json.loads(r.stdout)["pools"])


def test_a_new_pool_starts_and_a_removed_pool_drains_and_stops(short_tmp):
    web, api = free_port(), free_port()
    conf, arb = start(short_tmp, pool_toml("web", web))
    with arb:
        wait_workers(arb, 1, timeout=20)
        wait_until(lambda: http_get(web).status == 200, timeout=15)
        master = arb.pid
        conf.write_text(pool_toml("web", web) + pool_toml("api", api, workers=2))
        with RequestLoop(web, max_seconds=60) as loop:
            r = gctl(short_tmp, "reload", "--wait")
            assert r.returncode == 0, r.stdout + r.stderr
            wait_until(lambda: http_get(api).status == 200, timeout=20)
            before = loop.ok
            wait_until(lambda: loop.ok > before + 10, timeout=10)
        assert loop.failures == [], loop.failures[:5]
        assert pool_names(short_tmp) == ["api", "web"]
        wait_workers(arb, 3, timeout=20)

        # api leaves the file (HUP this time): its workers drain, its port closes.
        conf.write_text(pool_toml("web", web))
        arb.signal(signal.SIGHUP)
        wait_until(lambda: pool_names(short_tmp) == ["web"], timeout=30)
        wait_until(lambda: refused(api), timeout=15)
        wait_workers(arb, 1, timeout=20)
        assert http_get(web).status == 200
        assert arb.pid == master and arb.poll() is None
        log = arb.stderr_text()
        assert "pool [api]: added by reload" in log
        assert "pool [api]: removed from the configuration" in log
        assert "pool [api]: drained and removed" in log


def test_a_changed_bind_serves_on_the_new_address_before_the_old_one_closes(short_tmp):
    old_port, new_port = free_port(), free_port()
    conf, arb = start(short_tmp, pool_toml("web", old_port, workers=2))
    with arb:
        old = wait_workers(arb, 2, timeout=20)
        wait_until(lambda: http_get(old_port).status == 200, timeout=15)
        conf.write_text(pool_toml("web", new_port, workers=2))
        with RequestLoop(old_port, max_seconds=60) as loop:
            wait_until(lambda: loop.ok > 5, timeout=10)
            arb.signal(signal.SIGHUP)
            wait_until(lambda: http_get(new_port).status == 200, timeout=20)
            wait_workers(arb, 2, exclude=old, timeout=30)
        # Requests on the old address were served until it closed, then refused.
        wait_until(lambda: refused(old_port), timeout=15)
        assert loop.ok > 5
        assert http_get(new_port).status == 200
        assert "Closing listener 127.0.0.1:%d" % old_port in arb.stderr_text()


def test_a_bad_file_changes_nothing_and_says_why(short_tmp):
    web, api = free_port(), free_port()
    conf, arb = start(short_tmp, pool_toml("web", web))
    with arb:
        pids = wait_workers(arb, 1, timeout=20)
        wait_until(lambda: http_get(web).status == 200, timeout=15)
        # A port another process holds: the new pool cannot listen.
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            busy = taken.getsockname()[1]
            conf.write_text(pool_toml("web", web, workers=3) + pool_toml("api", busy))
            r = gctl(short_tmp, "reload", "--wait")
            assert r.returncode != 0
            assert "keeping the running configuration" in r.stderr, r.stderr
            assert f"127.0.0.1:{busy}" in r.stderr, r.stderr
        # A file that does not parse: the same.
        conf.write_text(pool_toml("web", web) + "[pools.api\n")
        r = gctl(short_tmp, "reload")
        assert r.returncode != 0 and "keeping the running configuration" in r.stderr, r.stderr
        arb.signal(signal.SIGHUP)
        wait_until(lambda: "expected ']'" in arb.stderr_text(), timeout=10)
        assert "keeping the running configuration" in arb.stderr_text()
        assert pool_names(short_tmp) == ["web"]
        assert workers_of(arb) == pids  # nothing restarted
        assert http_get(web).status == 200
        assert refused(api)
