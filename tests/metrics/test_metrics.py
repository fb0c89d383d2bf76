"""/metrics, /healthz and /readyz end to end: real arbiterd and gworker,
real traffic, the output parsed with prometheus_client; restarts counted by
reason; the endpoint's refusals."""

from __future__ import annotations

import os
import signal
import socket

from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families

from gftest import pid_alive, wait_until
from metrics_support import Arbiter, short_tmp, value  # noqa: F401


def requests_of(samples: dict, cls: str) -> float:
    return value(samples, "greenfork_requests_total", pool="main", status_class=cls)


def test_counts_match_traffic_and_survive_kill_9(short_tmp):
    with Arbiter(short_tmp, workers=2) as arb:
        wait_until(lambda: value(arb.samples(), "greenfork_workers", pool="main", state="ready") == 2,
                   timeout=30, message="2 READY workers")
        for _ in range(30):
            arb.serve("/")
        for _ in range(7):
            arb.serve("/missing")
        wait_until(lambda: requests_of(arb.samples(), "2xx") == 30 and requests_of(arb.samples(), "4xx") == 7,
                   timeout=20, message="the beats to carry 30 2xx and 7 4xx")
        s = arb.samples()
        assert requests_of(s, "5xx") == 0 and requests_of(s, "unknown") == 0
        assert value(s, "greenfork_request_duration_seconds_count", pool="main") == 37
        assert value(s, "greenfork_request_duration_seconds_bucket", pool="main", le="+Inf") == 37
        assert value(s, "greenfork_request_duration_seconds_sum", pool="main") > 0
        assert value(s, "greenfork_workers_desired", pool="main") == 2
        assert value(s, "greenfork_pool_state", pool="main", state="running") == 1
        assert value(s, "greenfork_listen_queue", pool="main", listener=f"127.0.0.1:{arb.port}") == 0
        assert ("greenfork_build_info", frozenset({("version", value_label(s))})) in s
        pids = arb.worker_pids(s)
        assert len(pids) == 2
        for (name, labels), v in s.items():
            if name == "greenfork_worker_resident_memory_bytes":
                assert v > 1024 * 1024
        served = sum(v for (name, _), v in s.items() if name == "greenfork_worker_requests_served_total")
        assert served == 37

        # kill -9: a restart for reason "signal", and the pool's counters
        # keep the dead worker's requests.
        os.kill(pids[0], signal.SIGKILL)
        wait_until(lambda: value(arb.samples(), "greenfork_worker_restarts_total", pool="main",
                                 reason="signal") == 1, timeout=20, message="a signal restart")
        wait_until(lambda: value(arb.samples(), "greenfork_workers", pool="main", state="ready") == 2
                   and pids[0] not in arb.worker_pids(arb.samples()), timeout=30, message="a replacement")
        s = arb.samples()
        assert requests_of(s, "2xx") == 30 and requests_of(s, "4xx") == 7
        for _ in range(5):
            arb.serve("/")
        wait_until(lambda: requests_of(arb.samples(), "2xx") == 35, timeout=20, message="35 2xx")

        # A hung worker (stopped): killed on heartbeat timeout, counted so.
        victim = arb.worker_pids(arb.samples())[0]
        os.kill(victim, signal.SIGSTOP)
        try:
            wait_until(lambda: value(arb.samples(), "greenfork_worker_restarts_total", pool="main",
                                     reason="heartbeat_timeout") == 1, timeout=30, message="a timeout restart")
        finally:
            if pid_alive(victim):
                os.kill(victim, signal.SIGCONT)
        s = arb.samples()
        assert value(s, "greenfork_worker_restarts_total", pool="main", reason="signal") == 1
        assert value(s, "greenfork_worker_restarts_total", pool="main", reason="exit") == 0
        assert requests_of(s, "2xx") == 35


def value_label(samples: dict) -> str:
    for name, labels in samples:
        if name == "greenfork_build_info":
            return dict(labels)["version"]
    return ""


def test_max_requests_restarts_keep_the_pool_counters_monotonic(short_tmp):
    with Arbiter(short_tmp, workers=1, extra=("--max-requests", "4")) as arb:
        wait_until(lambda: value(arb.samples(), "greenfork_workers", pool="main", state="ready") == 1,
                   timeout=30, message="a READY worker")
        sent = 0
        for _ in range(10):
            # Each worker serves 4 and stops on its own: wait for a READY one.
            wait_until(lambda: value(arb.samples(), "greenfork_workers", pool="main", state="ready") == 1,
                       timeout=30, message="a READY worker")
            arb.serve("/")
            sent += 1
        wait_until(lambda: requests_of(arb.samples(), "2xx") == sent, timeout=30,
                   message=f"{sent} requests counted across restarts")
        wait_until(lambda: value(arb.samples(), "greenfork_worker_restarts_total", pool="main",
                                 reason="max_requests") == 2, timeout=30, message="2 max_requests restarts")
        s = arb.samples()
        assert value(s, "greenfork_worker_restarts_total", pool="main", reason="signal") == 0
        assert value(s, "greenfork_request_duration_seconds_count", pool="main") == sent


def test_openmetrics_when_asked(short_tmp):
    with Arbiter(short_tmp, workers=1) as arb:
        status, headers, body = arb.get("/metrics", {"Accept": "application/openmetrics-text; version=1.0.0"})
        assert status == 200
        assert headers["content-type"].startswith("application/openmetrics-text; version=1.0.0")
        families = {f.name: f for f in openmetrics_families(body.decode())}
        assert families["greenfork_requests"].type == "counter"
        assert families["greenfork_build"].type == "info"
        assert families["greenfork_request_duration_seconds"].type == "histogram"
        # HEAD: the headers of a GET, no body.
        status, headers, body = arb.get("/metrics", method="HEAD")
        assert status == 200 and body == b"" and int(headers["content-length"]) > 100


def test_endpoint_refuses_what_it_does_not_serve(short_tmp):
    with Arbiter(short_tmp, workers=1) as arb:
        assert arb.get("/nope")[0] == 404
        status, headers, _ = arb.get("/metrics", method="POST")
        assert status == 405 and headers["allow"] == "GET, HEAD"
        assert arb.get("/healthz")[0:1] == (200,)
        # Too large a head: 431, and the connection is closed.
        with socket.create_connection(("127.0.0.1", arb.metrics_port), timeout=10) as s:
            s.sendall(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n")
            reply = recv_all(s)
        assert reply.startswith(b"HTTP/1.1 431 "), reply[:80]
        with socket.create_connection(("127.0.0.1", arb.metrics_port), timeout=10) as s:
            s.sendall(b"GARBAGE\r\n\r\n")
            assert recv_all(s).startswith(b"HTTP/1.1 400 ")
        # Connections that never send: others are still served.
        idle = [socket.create_connection(("127.0.0.1", arb.metrics_port), timeout=10) for _ in range(10)]
        try:
            assert arb.get("/healthz")[0] == 200
        finally:
            for s in idle:
                s.close()


def recv_all(s: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


def test_readyz_follows_a_failed_pool(short_tmp):
    broken = short_tmp / "broken.py"
    broken.write_text("raise RuntimeError('this app cannot load')\n")
    ok_port, bad_port = free_port_pair()
    config = short_tmp / "pools.toml"
    config.write_text(f"""
[pools.good]
app = "metricsapp:app"
workers = 1
bind = ["127.0.0.1:{ok_port}"]
cwd = "{short_tmp}"
timeout = 2

[pools.bad]
app = "broken:app"
workers = 1
bind = ["127.0.0.1:{bad_port}"]
cwd = "{short_tmp}"
""")
    with Arbiter(short_tmp, config=config) as arb:
        def failed():
            s = arb.samples()
            return value(s, "greenfork_pool_state", pool="bad", state="failed") == 1 and \
                value(s, "greenfork_workers", pool="good", state="ready") == 1
        wait_until(failed, timeout=30, message="pool bad failed, pool good ready")
        assert arb.get("/healthz")[0] == 200
        status, _, body = arb.get("/readyz")
        assert status == 503
        assert b"pool bad: failed" in body, body


def test_readyz_ready_only_with_ready_workers(short_tmp):
    with Arbiter(short_tmp, workers=1) as arb:
        wait_until(lambda: arb.get("/readyz")[0] == 200, timeout=30, message="/readyz 200")
        assert arb.get("/readyz")[2] == b"ready\n"


def free_port_pair() -> tuple[int, int]:
    from gftest import free_port
    a = free_port()
    b = free_port()
    while b == a:
        b = free_port()
    return a, b


def test_unix_metrics_socket(short_tmp):
    import stat

    from gftest import Spawned, binary, free_port, unix_http_get
    path = short_tmp / "metrics.sock"
    argv = [binary("arbiterd"), "-w", "1", "-b", f"127.0.0.1:{free_port()}", "--metrics-bind", f"unix:{path}",
            "--control-socket", str(short_tmp / "ctl.sock"), "--chdir", str(short_tmp), "metricsapp:app"]
    with Spawned(argv, logdir=short_tmp / "logs") as arb:
        wait_until(lambda: unix_http_get(str(path), "/readyz").status == 200, timeout=30, message="/readyz on unix")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
        r = unix_http_get(str(path), "/metrics")
        assert r.status == 200 and b'greenfork_workers{pool="main",state="ready"} 1' in r.body
        arb.signal(signal.SIGTERM)
        assert arb.wait(timeout=30) == 0
    assert not path.exists()
