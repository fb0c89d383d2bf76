"""The ASGI lifespan protocol under arbiterd: startup before READY, state in
every request scope, shutdown on TERM after in-flight requests, failures
(exit 4: arbiterd stops with the app's message) and --asgi-lifespan's
auto/on/off as uvicorn means them."""
from __future__ import annotations

import signal
import threading

import httpx

from asgi_support import run_to_exit, serving
from gftest import wait_until


def test_startup_before_ready_and_state_in_scope(tmp_path):
    marks = tmp_path / "marks"
    with serving("lifespan_apps:slow_startup", extra_env={"GF_SHUTDOWN_FILE": marks}) as (base, arb):
        assert httpx.get(base + "/", timeout=10).text == "connected"
        out = arb.output()
        # The worker said READY only after its startup completed.
        assert out.index("Application startup complete.") < out.index("Worker ready"), out


def test_shutdown_after_in_flight_requests_on_term(tmp_path):
    marks = tmp_path / "marks"
    with serving("lifespan_apps:slow_startup", extra_env={"GF_SHUTDOWN_FILE": marks}) as (base, arb):
        result = {}

        def slow():
            result["r"] = httpx.get(base + "/sleep", timeout=30)
        t = threading.Thread(target=slow)
        t.start()
        wait_until(lambda: marks.exists() and "request started" in marks.read_text(),
                   timeout=15, message="the slow request to start")
        arb.signal(signal.SIGTERM)
        t.join(timeout=30)
        assert result["r"].status_code == 200 and result["r"].text == "connected"
        assert arb.wait(timeout=30) == 0, arb.output()
        assert "Application shutdown complete." in arb.output()
    assert marks.read_text().splitlines() == ["request started", "request done", "shutdown"]


def test_failed_startup_stops_arbiterd_with_the_message():
    code, output = run_to_exit("lifespan_apps:failing_startup")
    assert code != 0, output
    assert "Application startup failed: database unreachable" in output, output
    assert "exit 4 (application failed to load)" in output, output
    assert "pool [main] FAILED: Application startup failed: database unreachable" in output, output


def test_lifespan_on_makes_an_exception_fatal():
    code, output = run_to_exit("lifespan_apps:raising_startup", "--asgi-lifespan", "on")
    assert code != 0, output
    assert "Application startup failed: RuntimeError: config missing" in output, output


def test_lifespan_auto_goes_on_without_an_unsupported_lifespan():
    with serving("lifespan_apps:raising_startup") as (base, arb):
        assert httpx.get(base + "/", timeout=10).text == "served"
        assert "ASGI 'lifespan' protocol appears unsupported." in arb.output()
    with serving("lifespan_apps:no_lifespan") as (base, arb):
        assert httpx.get(base + "/", timeout=10).text == "plain"


def test_lifespan_off_never_calls_it(tmp_path):
    marks = tmp_path / "marks"
    with serving("lifespan_apps:slow_startup", "--asgi-lifespan", "off",
                 extra_env={"GF_SHUTDOWN_FILE": marks}) as (base, arb):
        assert httpx.get(base + "/", timeout=10).text == "none"
    assert not marks.exists()


def test_unknown_lifespan_and_loop_values_are_refused():
    code, output = run_to_exit("lifespan_apps:no_lifespan", "--asgi-lifespan", "sometimes")
    assert code != 0 and "--asgi-lifespan" in output, output
    code, output = run_to_exit("lifespan_apps:no_lifespan", "--asgi-loop", "tokio")
    assert code != 0 and "--asgi-loop" in output, output
