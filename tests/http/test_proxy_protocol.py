"""--proxy-protocol end to end: a real arbiterd running gworker on a WSGI app
that answers with the REMOTE_ADDR and REMOTE_PORT it was given.

PROXY v1 and v2 headers over raw sockets, `curl --haproxy-protocol`, and a
real HAProxy with send-proxy-v2 set the client address; a peer not in
--proxy-allow-from, a malformed, truncated or missing header closes the
connection before anything reaches the app; a header trickled byte by byte
within --header-timeout is served.

Loopback only: a test that must be refused connects from 127.0.0.1 while the
allowed proxy is 127.0.0.2 (any 127/8 address is the machine's own).
"""

from __future__ import annotations

import contextlib
import ipaddress
import shutil
import socket
import struct
import subprocess
import textwrap
import time
from pathlib import Path

import pytest

from gftest import Spawned, binary, free_port, read_http_response, wait_until

APP = textwrap.dedent('''
    import os

    LOG = os.environ["PEER_LOG"]

    def app(environ, start_response):
        line = f"{environ['REMOTE_ADDR']} {environ.get('REMOTE_PORT', '')}"
        with open(LOG, "a") as f:
            f.write(f"{line} {environ['PATH_INFO']}\\n")
        body = line.encode()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
''')

SIG = b"\r\n\r\n\x00\r\nQUIT\n"
PROXY = "127.0.0.1"  # the proxy's source address (the default --proxy-allow-from)
OTHER_PROXY = "127.0.0.2"


def v1(src: str, sport: int, dport: int = 80) -> bytes:
    fam, dst = ("TCP6", "::1") if ":" in src else ("TCP4", "127.0.0.1")
    return f"PROXY {fam} {src} {dst} {sport} {dport}\r\n".encode()


def v2(src: str | None, sport: int = 0, dst: str | None = None, dport: int = 80,
       tlvs: bytes = b"") -> bytes:
    if src is None:  # LOCAL: the proxy's own health check
        return SIG + bytes([0x20, 0x00]) + struct.pack("!H", len(tlvs)) + tlvs
    s = ipaddress.ip_address(src)
    d = ipaddress.ip_address(dst or ("::1" if s.version == 6 else "127.0.0.1"))
    fam = 0x11 if s.version == 4 else 0x21
    body = s.packed + d.packed + struct.pack("!HH", sport, dport) + tlvs
    return SIG + bytes([0x21, fam]) + struct.pack("!H", len(body)) + body


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()


@contextlib.contextmanager
def connect(port: int, source: str = PROXY, timeout: float = 10.0):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout,
                                 source_address=(source, 0))
    try:
        yield s
    finally:
        s.close()


def body_of(response: tuple[bytes, bytes]) -> str:
    head, body = response
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    return body.decode()


def closed_without_answer(s: socket.socket, timeout: float = 10.0) -> bool:
    """True when the server closes (EOF or reset) having sent nothing."""
    s.settimeout(timeout)
    try:
        data = s.recv(65536)
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return data == b""


class Served:
    def __init__(self, port: int, log: Path, arb: Spawned):
        self.port, self.log, self.arb = port, log, arb

    def seen(self) -> str:
        return self.log.read_text() if self.log.exists() else ""


@pytest.fixture
def serve(tmp_path):
    """serve(*flags): arbiterd -w 1 with FLAGS on peer_app:app; waits until a
    request through a PROXY v1 header (plain: `probe`) from `probe_from` is
    answered."""
    (tmp_path / "peer_app.py").write_text(APP)
    log = tmp_path / "peers.log"
    with contextlib.ExitStack() as stack:
        def start(*flags: str, probe: bytes | None = None, probe_from: str = PROXY) -> Served:
            port = free_port()
            arb = stack.enter_context(Spawned(
                [binary("arbiterd"), "--control-socket", str(tmp_path / f"c{port}.sock"),
                 "-w", "1", "-b", f"127.0.0.1:{port}", "--chdir", str(tmp_path),
                 "--log-level", "debug", *flags, "peer_app:app"],
                extra_env={"PEER_LOG": str(log)}))

            def ready():
                if arb.poll() is not None:
                    raise AssertionError(f"arbiterd exited {arb.poll()}:\n{arb.output()}")
                try:
                    with connect(port, source=probe_from, timeout=3) as s:
                        s.sendall((probe if probe is not None else v1("203.0.113.1", 1))
                                  + get("/ready"))
                        return read_http_response(s)[0].startswith(b"HTTP/1.1 200")
                except OSError:
                    return False
            wait_until(ready, timeout=30, message=f"gworker behind arbiterd on {port}")
            return Served(port, log, arb)
        yield start


def test_v1_header_sets_remote_addr_and_port(serve):
    srv = serve("--proxy-protocol", "v1", "--proxy-allow-from", PROXY)
    with connect(srv.port) as s:
        s.sendall(v1("192.0.2.10", 56324) + get("/a"))
        assert body_of(read_http_response(s)) == "192.0.2.10 56324"
        # The header is the connection's: a keep-alive request keeps it.
        s.sendall(get("/b"))
        assert body_of(read_http_response(s)) == "192.0.2.10 56324"
    with connect(srv.port) as s:
        s.sendall(v1("2001:db8::7", 4000) + get("/c"))
        assert body_of(read_http_response(s)) == "2001:db8::7 4000"
    with connect(srv.port) as s:
        s.sendall(b"PROXY UNKNOWN\r\n" + get("/d"))
        assert body_of(read_http_response(s)).startswith(PROXY + " ")


def test_v2_header_sets_remote_addr_and_port(serve):
    # The flag alone is Gunicorn's "auto": v1 and v2 both accepted.
    srv = serve("--proxy-protocol", "--proxy-allow-from", "127.0.0.0/30", probe_from=OTHER_PROXY)
    with connect(srv.port) as s:
        s.sendall(v2("198.51.100.20", 61000) + get("/a"))
        assert body_of(read_http_response(s)) == "198.51.100.20 61000"
    with connect(srv.port) as s:
        tlvs = b"\x01\x00\x02h2" + b"\x04" + struct.pack("!H", 5) + b"\x00" * 5
        s.sendall(v2("2001:db8::1", 443, dst="2001:db8::2", tlvs=tlvs) + get("/b"))
        assert body_of(read_http_response(s)) == "2001:db8::1 443"
    with connect(srv.port, source=OTHER_PROXY) as s:
        s.sendall(v2(None) + get("/c"))  # LOCAL: the socket's own peer stands
        local_port = s.getsockname()[1]
        assert body_of(read_http_response(s)) == f"{OTHER_PROXY} {local_port}"
    with connect(srv.port) as s:  # and v1 in auto mode
        s.sendall(v1("192.0.2.99", 7) + get("/d"))
        assert body_of(read_http_response(s)) == "192.0.2.99 7"


def test_curl_haproxy_protocol(serve):
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    srv = serve("--proxy-protocol", "auto")
    url = f"http://127.0.0.1:{srv.port}/curl"
    out = subprocess.run([curl, "-sS", "--max-time", "20", "--haproxy-protocol",
                          "-w", " %{local_port}", url],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    answer, local_port = out.stdout.rsplit(" ", 1)
    # curl's header names its own end of the connection.
    assert answer == f"127.0.0.1 {local_port}"
    # Without the header the same request is closed unanswered.
    plain = subprocess.run([curl, "-sS", "--max-time", "20", url],
                           capture_output=True, text=True, timeout=30)
    assert plain.returncode != 0 and plain.stdout == ""


def test_peer_not_in_proxy_allow_from_is_closed(serve):
    srv = serve("--proxy-protocol", "v1", "--proxy-allow-from", "127.0.0.2/32, 10.0.0.0/8",
                probe_from=OTHER_PROXY)
    with connect(srv.port, source="127.0.0.1") as s:
        s.sendall(v1("192.0.2.66", 66) + get("/forbidden"))
        assert closed_without_answer(s)
    with connect(srv.port, source=OTHER_PROXY) as s:  # the allowed proxy still is served
        s.sendall(v1("192.0.2.67", 67) + get("/after"))
        assert body_of(read_http_response(s)) == "192.0.2.67 67"
    assert "/forbidden" not in srv.seen() and "/after" in srv.seen()
    wait_until(lambda: "not in --proxy-allow-from" in srv.arb.output(), timeout=10,
               message="the refusal logged")


@pytest.mark.parametrize("first", [
    pytest.param(get("/missing"), id="no-header"),
    pytest.param(b"PROXY TCP4 192.0.2.1 192.0.2.2 99999 80\r\n" + get("/bad-port"),
                 id="v1-bad-port"),
    pytest.param(b"PROXY TCP4 2001:db8::1 192.0.2.2 1 80\r\n" + get("/bad-family"),
                 id="v1-address-of-other-family"),
    pytest.param(b"PROXY TCP4 192.0.2.1 192.0.2.2 1 80\n" + get("/bare-lf"), id="v1-bare-lf"),
    pytest.param(b"PROXY UNKNOWN " + b"x" * 120 + b"\r\n" + get("/long"), id="v1-too-long"),
    pytest.param(SIG + b"\x31\x11\x00\x0c" + b"\x00" * 12 + get("/v3"), id="v2-version-3"),
    pytest.param(SIG + b"\x21\x11\x00\x08" + b"\x00" * 8 + get("/short"), id="v2-short-inet"),
])
def test_malformed_or_missing_header_is_closed(serve, first):
    srv = serve("--proxy-protocol", "auto")
    with connect(srv.port) as s:
        s.sendall(first)
        assert closed_without_answer(s)
    with connect(srv.port) as s:
        s.sendall(v1("192.0.2.5", 5) + get("/good"))
        assert body_of(read_http_response(s)) == "192.0.2.5 5"
    seen = srv.seen()
    assert "/good" in seen
    assert not any(p in seen for p in ("/missing", "/bad-", "/bare-lf", "/long", "/v3", "/short"))


def test_truncated_header_is_closed(serve):
    srv = serve("--proxy-protocol", "auto", "--header-timeout", "1")
    # Cut by the client's EOF.
    for cut in (v1("192.0.2.8", 8)[:20], v2("192.0.2.8", 8)[:20]):
        with connect(srv.port) as s:
            s.sendall(cut)
            s.shutdown(socket.SHUT_WR)
            assert closed_without_answer(s)
    # Cut and left hanging: closed at --header-timeout.
    with connect(srv.port) as s:
        s.sendall(v2("192.0.2.9", 9)[:18])
        start = time.monotonic()
        assert closed_without_answer(s, timeout=10)
        assert time.monotonic() - start < 5
    assert "192.0.2.8" not in srv.seen() and "192.0.2.9" not in srv.seen()


def test_header_trickled_byte_by_byte_within_timeout(serve):
    srv = serve("--proxy-protocol", "auto", "--header-timeout", "6")
    for header in (v1("192.0.2.44", 4444), v2("192.0.2.45", 4545)):
        with connect(srv.port) as s:
            for b in header:
                s.sendall(bytes([b]))
                time.sleep(0.02)  # pacing the client's bytes, not synchronisation
            s.sendall(get("/slow"))
            addr = "192.0.2.44 4444" if header.startswith(b"PROXY") else "192.0.2.45 4545"
            assert body_of(read_http_response(s)) == addr


def test_off_by_default_and_v1_mode_refuses_v2(serve):
    srv = serve("--proxy-protocol", "v1")
    with connect(srv.port) as s:
        s.sendall(v2("192.0.2.1", 1) + get("/v2-in-v1"))
        assert closed_without_answer(s)
    assert "/v2-in-v1" not in srv.seen()
    off = serve(probe=b"")
    with connect(off.port) as s:
        s.sendall(v1("192.0.2.1", 1) + get("/off"))
        # Off: the PROXY line is no HTTP request line; the app never sees it.
        assert read_http_response(s)[0].startswith(b"HTTP/1.1 400")


def test_behind_haproxy_send_proxy_v2(serve, tmp_path):
    haproxy = shutil.which("haproxy") or shutil.which("haproxy", path="/usr/sbin:/sbin")
    if haproxy is None:
        pytest.skip("haproxy is not installed (Debian package haproxy)")
    srv = serve("--proxy-protocol", "v2", probe=v2("203.0.113.1", 1))
    front = free_port()
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(textwrap.dedent(f"""
        defaults
            mode tcp
            timeout connect 5s
            timeout client 30s
            timeout server 30s
        frontend front
            bind 127.0.0.1:{front}
            default_backend gworker
        backend gworker
            server g1 127.0.0.1:{srv.port} send-proxy-v2
    """))
    with Spawned([haproxy, "-db", "-f", str(cfg)]) as hap:
        def through_haproxy():
            if hap.poll() is not None:
                raise AssertionError(f"haproxy exited {hap.poll()}:\n{hap.output()}")
            try:
                with socket.create_connection(("127.0.0.1", front), timeout=5) as s:
                    s.sendall(get("/haproxy"))
                    response = read_http_response(s)
                    return response, s.getsockname()[1]
            except OSError:
                return None
        result = wait_until(through_haproxy, timeout=30, message="haproxy forwarding")
        response, client_port = result
        # The client's own port, not HAProxy's connection to gworker.
        assert body_of(response) == f"127.0.0.1 {client_port}"


def test_forwarded_allow_ips_takes_cidr_ranges(serve):
    srv = serve("--forwarded-allow-ips", "127.0.0.0/8", probe=b"")
    with connect(srv.port) as s:
        s.sendall(b"GET /xff HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.5\r\n\r\n")
        assert body_of(read_http_response(s)).startswith("203.0.113.5 ")
    other = serve("--forwarded-allow-ips", "10.0.0.0/8", probe=b"")
    with connect(other.port) as s:
        s.sendall(b"GET /xff HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 203.0.113.5\r\n\r\n")
        assert body_of(read_http_response(s)).startswith(f"{PROXY} ")
