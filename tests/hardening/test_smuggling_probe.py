"""Issue 14, fault 3: request smuggling through bare LF at the end of a
chunked body.

A chunked body ended by "0\\r\\n\\n" (or a trailer line followed by a bare
LF) was accepted, and the bytes after it were served as a second request: a
front proxy that reads the body differently forwards those bytes as part of
this request, and gworker served them as another one. Each payload here goes
to a real gworker over a raw socket; the answer must be exactly one 400, then
the close, and the app must never see the smuggled request.
"""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest

from gftest import SOURCE_DIR, Spawned, binary, free_port, http_request, wait_until

sys.path.insert(0, str(SOURCE_DIR / "tests/http"))
from httpwire import Wire, parse_responses  # noqa: E402

# The app records every PATH_INFO it is called with, and reads the whole body
# (so that a body error is the server's to answer, not hidden by an app that
# answers before reading).
APP = textwrap.dedent("""\
    import os

    LOG = os.environ["SMUGGLE_LOG"]

    def app(environ, start_response):
        with open(LOG, "a") as f:
            f.write(environ["PATH_INFO"] + "\\n")
        environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"served " + environ["PATH_INFO"].encode() + b"\\n"]
    """)

HEAD = b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
SMUGGLED = b"GET /smuggled-{name} HTTP/1.1\r\nHost: x\r\n\r\n"  # each payload its own

PAYLOADS = {
    "last_chunk_then_bare_lf": HEAD + b"0\r\n\n" + SMUGGLED,
    "trailer_then_bare_lf": HEAD + b"0\r\nX-T: a\r\n\n" + SMUGGLED,
    "data_last_chunk_then_bare_lf": HEAD + b"5\r\nhello\r\n0\r\n\n" + SMUGGLED,
    "two_trailers_then_bare_lf": HEAD + b"3\r\nabc\r\n0\r\nX-A: 1\r\nX-B: 2\r\n\n" + SMUGGLED,
    "trailer_then_bare_cr": HEAD + b"0\r\nX-T: a\r\n\r" + SMUGGLED,
    "last_chunk_bare_lf": HEAD + b"0\n\r\n" + SMUGGLED,
    "trailer_line_bare_lf": HEAD + b"0\r\nX-T: a\n\r\n" + SMUGGLED,
    "chunk_data_bare_lf": HEAD + b"5\r\nhello\n0\r\n\r\n" + SMUGGLED,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """One sync gworker serving the recording app; yields (port, log path)."""
    root = tmp_path_factory.mktemp("smuggle")
    (root / "smuggle_app.py").write_text(APP)
    log = root / "requests.log"
    log.write_text("")
    port = free_port()
    proc = Spawned([binary("gworker"), "-b", f"127.0.0.1:{port}", "--chdir", str(root),
                    "smuggle_app:app"], extra_env={"SMUGGLE_LOG": str(log)}, logdir=root)
    with proc:
        wait_until(lambda: http_request(port, "/ready", timeout=2).status == 200,
                   timeout=30, message="gworker serving the recording app")
        yield port, log


def seen_paths(log: Path) -> list[str]:
    return log.read_text().split()


def settle(port: int, log: Path, tag: str) -> list[str]:
    """Sends a sentinel on a fresh connection and waits until the app logged
    it: the sync worker serves in order, so everything before is logged."""
    sentinel = f"/sentinel-{tag}-{time.monotonic_ns()}"
    assert http_request(port, sentinel, timeout=10).status == 200
    wait_until(lambda: sentinel in seen_paths(log), timeout=10,
               message=f"{sentinel} in the app's log")
    return seen_paths(log)


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_smuggled_request_is_refused_and_never_served(server, name):
    port, log = server
    payload = PAYLOADS[name].replace(b"{name}", name.encode())
    with Wire(port) as w:
        try:
            w.send(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close before reading all of it
        got = w.read_until_close(15.0)  # raises socket.timeout if it stays open
    responses = parse_responses(got)
    assert [r.status for r in responses] == [400], f"{name}: got {got[:800]!r}"
    assert (responses[0].header("Connection") or "").lower() == "close"
    assert b"smuggled" not in got
    paths = settle(port, log, name)
    assert f"/smuggled-{name}" not in paths, f"{name}: the app served the smuggled request"


def test_the_same_request_with_crlf_is_served_then_the_next_one(server):
    """The control: with CRLF everywhere both requests are served in order,
    so the refusals above are about the bare LF/CR and nothing else."""
    port, log = server
    good = HEAD + b"5\r\nhello\r\n0\r\nX-T: a\r\n\r\n" + b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"
    with Wire(port) as w:
        w.send(good)
        first, second = w.response(), w.response()
    assert (first.status, first.body) == (200, b"served /upload\n")
    assert (second.status, second.body) == (200, b"served /next\n")
    assert "/next" in settle(port, log, "control")
