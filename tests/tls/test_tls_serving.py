"""TLS end to end (--certfile): a real arbiterd running gworker, clients from
curl, Python's ssl and `openssl s_client`: the scheme, keep-alive,
pipelining, chunked uploads, file responses, ALPN, the TLS 1.2 floor,
--ciphers, a stalled handshake closed at --header-timeout while others are
served, garbage instead of a ClientHello, PROXY v1 then TLS, native apps,
a graceful stop with a request in flight, and
WebSockets over TLS (wss://) with python3-websockets."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import ssl
import subprocess
import time

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from gftest import read_http_response, wait_until
from tls_support import (TlsArbiter, client_context, closed_within, https_get, native_app,
                         s_client, stalled_socket, tls_connect)


def test_curl_and_python_get_https_with_keep_alive(pki, tmp_path):
    with TlsArbiter(tmp_path, pki) as srv:
        url = f"https://localhost:{srv.port}"
        r = subprocess.run(["curl", "-sS", "--cacert", pki.path("ca.pem"), f"{url}/a", f"{url}/b",
                            "-w", " %{http_version} %{num_connects}\n"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
        first, second = r.stdout.strip().splitlines()
        # curl offers h2 by ALPN, which TLS listeners speak by default (--http-protocols).
        assert first == "https|-|-|127.0.0.1|/a 2 1"
        assert second == "https|-|-|127.0.0.1|/b 2 0"  # the same connection again
        # Plain HTTP to the TLS port is not served.
        plain = subprocess.run(["curl", "-sS", f"http://127.0.0.1:{srv.port}/"],
                               capture_output=True, text=True, timeout=30)
        assert plain.returncode != 0 and "https|" not in plain.stdout


def test_pipelined_requests_and_chunked_upload(pki, tmp_path):
    with TlsArbiter(tmp_path, pki) as srv, tls_connect(srv.port, client_context(pki)) as s:
        s.sendall(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /two HTTP/1.1\r\nHost: x\r\n\r\n")
        buf = bytearray()
        head, body = read_http_response(s, buf)
        assert head.startswith(b"HTTP/1.1 200") and body.endswith(b"/one")
        head, body = read_http_response(s, buf)
        assert body.endswith(b"/two") and not buf
        data = os.urandom(300_000)
        s.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        for i in range(0, len(data), 70_000):
            piece = data[i:i + 70_000]
            s.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
        s.sendall(b"0\r\n\r\n")
        head, body = read_http_response(s, buf)
        assert body == f"len={len(data)} sum={sum(data)}".encode()
        # The server's close: a close_notify before the FIN (no SSLEOFError).
        s.sendall(b"GET /bye HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head, body = read_http_response(s, buf)
        assert body.endswith(b"/bye") and not buf
        assert s.recv(100) == b""
    # The client's close_notify is answered with the server's.
    with TlsArbiter(tmp_path, pki) as srv, tls_connect(srv.port, client_context(pki)) as s:
        s.sendall(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
        read_http_response(s)
        s.unwrap().close()


def test_file_response_goes_through_tls(pki, tmp_path):
    blob = tmp_path / "blob.bin"
    data = os.urandom(3 * 1024 * 1024 + 17)
    blob.write_bytes(data)
    with TlsArbiter(tmp_path, pki, extra_env={"TLS_TEST_FILE": str(blob)}) as srv:
        status, body, _ = https_get(srv.port, "/file", client_context(pki), timeout=30)
        assert status == 200 and body == data


def test_alpn_floor_and_ciphers(pki, tmp_path):
    # HTTP/1.1 only (over TLS the default is h1,h2: tests/http2 checks h2 by ALPN).
    with TlsArbiter(tmp_path, pki, "--ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256",
                    "--http-protocols", "h1") as srv:
        ca = ["-CAfile", pki.path("ca.pem"), "-verify_return_error"]
        r = s_client(srv.port, *ca, "-alpn", "h2,http/1.1")
        assert r.returncode == 0 and "ALPN protocol: http/1.1" in r.stdout, r.stdout + r.stderr
        assert "Verify return code: 0 (ok)" in r.stdout
        # h2 alone: not spoken here, refused (RFC 7301 no_application_protocol).
        r = s_client(srv.port, *ca, "-alpn", "h2")
        assert r.returncode != 0 and "no application protocol" in r.stderr, r.stderr
        # The floor: TLS 1.1 is refused, 1.2 and 1.3 are served.
        r = s_client(srv.port, *ca, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0")
        assert r.returncode != 0 and "alert protocol version" in r.stderr, r.stderr
        r = s_client(srv.port, *ca, "-tls1_3")
        assert r.returncode == 0 and "TLSv1.3" in r.stdout
        # --ciphers bounds TLS 1.2's suites.
        r = s_client(srv.port, *ca, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256")
        assert r.returncode == 0 and "ECDHE-ECDSA-AES128-GCM-SHA256" in r.stdout
        r = s_client(srv.port, *ca, "-tls1_2", "-cipher", "ECDHE-ECDSA-AES256-GCM-SHA384")
        assert r.returncode != 0 and "handshake failure" in r.stderr, r.stderr
        # Sessions resume (tickets).
        sess = tmp_path / "sess.pem"
        r = s_client(srv.port, *ca, "-tls1_2", "-sess_out", str(sess))
        assert r.returncode == 0
        r = s_client(srv.port, *ca, "-tls1_2", "-sess_in", str(sess))
        assert r.returncode == 0 and "Reused, TLSv1.2" in r.stdout, r.stdout


def test_ssl_version_pins_one_version(pki, tmp_path):
    with TlsArbiter(tmp_path, pki, "--ssl-version", "TLSv1_2") as srv:
        ca = ["-CAfile", pki.path("ca.pem")]
        assert s_client(srv.port, *ca, "-tls1_3").returncode != 0
        r = s_client(srv.port, *ca, "-tls1_2")
        assert r.returncode == 0 and "Protocol  : TLSv1.2" in r.stdout


def test_stalled_handshake_is_closed_at_header_timeout_while_others_are_served(pki, tmp_path):
    with TlsArbiter(tmp_path, pki, "--header-timeout", "2") as srv:
        ctx = client_context(pki)
        # A ClientHello cut short, and a connection that sends nothing.
        with stalled_socket(srv.port, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03") as half, \
                stalled_socket(srv.port) as silent:
            start = time.monotonic()
            for i in range(5):  # the sync worker's one app thread is free
                assert https_get(srv.port, f"/other{i}", ctx)[0] == 200
            assert closed_within(half, 15) and closed_within(silent, 15)
            took = time.monotonic() - start
            assert 1.5 < took < 15, took


def test_garbage_instead_of_client_hello_closes_only_that_connection(pki, tmp_path):
    with TlsArbiter(tmp_path, pki, "--log-level", "debug") as srv:
        for junk in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", os.urandom(600),
                     b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00"):
            with stalled_socket(srv.port, junk) as s:
                assert closed_within(s, 10)
        assert https_get(srv.port, "/after", client_context(pki))[0] == 200
        wait_until(lambda: "TLS handshake with 127.0.0.1 failed" in srv.proc.stderr_text(),
                   timeout=10)


def test_proxy_v1_header_then_tls(pki, tmp_path):
    def curl(port: int) -> subprocess.CompletedProcess:
        return subprocess.run(["curl", "-sS", "--haproxy-protocol", "--cacert", pki.path("ca.pem"),
                               f"https://localhost:{port}/p"],
                              capture_output=True, text=True, timeout=30)

    with TlsArbiter(tmp_path, pki, "--proxy-protocol", "v1",
                    probe=lambda port: curl(port).returncode == 0) as srv:
        r = curl(srv.port)
        assert r.returncode == 0 and r.stdout == "https|-|-|127.0.0.1|/p", r.stdout + r.stderr
        # No PROXY header: closed before TLS.
        with pytest.raises((ssl.SSLError, ConnectionError, OSError)):
            https_get(srv.port, "/", client_context(pki))
        # The header and the ClientHello in one segment: the bytes after the
        # header start the TLS stream.
        ctx = client_context(pki)
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = ctx.wrap_bio(inc, out, server_hostname="localhost")
        with pytest.raises(ssl.SSLWantReadError):
            tls.do_handshake()
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        try:
            s.sendall(b"PROXY TCP4 203.0.113.7 127.0.0.1 5555 443\r\n" + out.read())
            while True:
                try:
                    tls.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    s.sendall(out.read())
                    data = s.recv(65536)
                    assert data, "closed during the handshake"
                    inc.write(data)
            tls.write(b"GET /mem HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            s.sendall(out.read())
            got = b""
            while b"/mem" not in got:
                data = s.recv(65536)
                assert data, got
                inc.write(data)
                try:
                    got += tls.read(65536)
                except ssl.SSLWantReadError:
                    pass
            assert got.split(b"\r\n\r\n", 1)[1] == b"https|-|-|203.0.113.7|/mem"
        finally:
            s.close()


def test_native_app_over_tls(pki, tmp_path):
    with TlsArbiter(tmp_path, pki, app=native_app()) as srv:
        ctx = client_context(pki)
        status, body, _ = https_get(srv.port, "/x?y=1", ctx)
        assert status == 200 and json.loads(body)["scheme"] == "https"
        status, body, _ = https_get(srv.port, "/large?bytes=2000000", ctx, timeout=30)
        assert status == 200 and len(body) == 2_000_000 and body[:16] == b"0123456789abcdef"
        status, body, _ = https_get(srv.port, "/stream?chunks=50&size=1000", ctx)
        assert status == 200 and len(body) == 50_000


def test_graceful_stop_finishes_a_request_in_flight(pki, tmp_path):
    mark = tmp_path / "started"
    with TlsArbiter(tmp_path, pki, extra_env={"TLS_TEST_MARK": str(mark)}) as srv, \
            tls_connect(srv.port, client_context(pki)) as s:
        s.sendall(b"GET /slow?1.5 HTTP/1.1\r\nHost: x\r\n\r\n")
        wait_until(mark.exists, timeout=20, message="the request reached the app")
        srv.proc.signal(signal.SIGTERM)
        head, body = read_http_response(s)
        assert head.startswith(b"HTTP/1.1 200") and body.endswith(b"/slow")
        assert b"connection: close" in head.lower()
        assert srv.proc.wait(timeout=30) == 0


def test_many_connections_each_handshake(pki, tmp_path):
    with TlsArbiter(tmp_path, pki, "-k", "gthread", "--threads", "4") as srv:
        ctx = client_context(pki)
        socks = [tls_connect(srv.port, ctx) for _ in range(40)]
        try:
            for i, s in enumerate(socks):
                s.sendall(f"GET /c{i} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            for i, s in enumerate(socks):
                assert read_http_response(s)[1].endswith(f"/c{i}".encode())
        finally:
            for s in socks:
                s.close()


def test_idle_keep_alive_connection_is_closed_with_close_notify(pki, tmp_path):
    with TlsArbiter(tmp_path, pki, "--keep-alive", "1") as srv, \
            tls_connect(srv.port, client_context(pki), timeout=15) as s:
        s.sendall(b"GET /one HTTP/1.1\r\nHost: x\r\n\r\n")
        read_http_response(s)
        start = time.monotonic()
        assert s.recv(100) == b""  # close_notify, not a bare FIN (SSLEOFError)
        assert 0.5 < time.monotonic() - start < 10


def test_sessions_resume_on_every_worker(pki, tmp_path):
    """arbiterd hands its workers one set of ticket keys: a session from
    one worker resumes on the other (each full handshake is spared)."""
    with TlsArbiter(tmp_path, pki, workers=2) as srv:
        ctx = client_context(pki)
        with tls_connect(srv.port, ctx) as s:
            s.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\n\r\n")
            read_http_response(s)  # TLS 1.3 tickets come after the handshake
            session = s.session
        assert session is not None and session.has_ticket
        pids = set()
        for _ in range(400):
            raw = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            with ctx.wrap_socket(raw, server_hostname="localhost", session=session) as s:
                s.sendall(b"GET /pid HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                pid, keys_seen = read_http_response(s)[1].split()
                assert s.session_reused, f"not resumed on worker {pid}"
                assert keys_seen == b"False"  # the app does not see the keys
                pids.add(pid)
            if len(pids) == 2:
                break
        assert len(pids) == 2, "one worker served every connection"


ASGI_APP = '''
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": scope["scheme"]})
        while True:
            m = await receive()
            if m["type"] == "websocket.disconnect":
                return
            if m.get("text") == "close":
                await send({"type": "websocket.close", "code": 4000, "reason": "as asked"})
                return
            await send({"type": "websocket.send", **{k: m[k] for k in ("text", "bytes") if m.get(k) is not None}})
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": scope["scheme"].encode()})
'''


def test_asgi_over_tls_serves_https_and_wss(pki, tmp_path):
    """-k asgi over TLS: the scheme is https, and WebSockets are served over
    the TLS stream (wss://): echo of small, large and fragmented messages
    (with and without permessage-deflate), many in a row, and the closing
    handshake both ways."""
    srv = TlsArbiter(tmp_path, pki, "-k", "asgi", "--ws-max-size", "20000000", app="asgiapp:app")
    (srv.appdir / "asgiapp.py").write_text(ASGI_APP)
    with srv, tls_connect(srv.port, client_context(pki)) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        head, body = read_http_response(s)
        assert head.startswith(b"HTTP/1.1 200") and body == b"https"
        url = f"wss://localhost:{srv.port}/ws"
        ctx = client_context(pki)

        async def session(compression):
            async with websockets.connect(url, ssl=ctx, max_size=None, compression=compression,
                                          open_timeout=30) as ws:
                assert await ws.recv() == "wss"  # the scope's scheme
                await ws.send("héllo")
                assert await ws.recv() == "héllo"
                big = os.urandom(5 << 20)  # 5 MiB in 40 frames of 128 KiB
                await ws.send(big[i:i + (128 << 10)] for i in range(0, len(big), 128 << 10))
                assert await ws.recv() == big
                for i in range(300):  # many small ones, in order
                    await ws.send(str(i))
                assert [await ws.recv() for _ in range(300)] == [str(i) for i in range(300)]
                pong = await ws.ping(b"x")
                await asyncio.wait_for(pong, 10)
                await ws.send("close")  # the app closes with 4000
                with pytest.raises(ConnectionClosed):
                    await ws.recv()
                assert (ws.close_code, ws.close_reason) == (4000, "as asked")
            # The client closes: a clean closing handshake (1000 both ways).
            ws = await websockets.connect(url, ssl=ctx, compression=compression, open_timeout=30)
            assert await ws.recv() == "wss"
            await ws.close(1000, "bye")
            assert ws.close_code == 1000

        async def body():
            await session("deflate")
            await session(None)
        asyncio.run(asyncio.wait_for(body(), 90))
        # HTTPS goes on beside them.
        assert https_get(srv.port, "/", ctx)[:2] == (200, b"https")
