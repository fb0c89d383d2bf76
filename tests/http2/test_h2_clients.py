"""HTTP/2 served to real clients, for every app kind: curl (h2c with prior
knowledge, h2 over TLS by ALPN), nghttp, h2load (64 streams on 4
connections) and httpx (http2=True)."""

from __future__ import annotations

import hashlib
import json
import re

import httpx
import pytest

from gftest import wait_until
from h2_support import H2Server, curl, h2load, h2load_counts

KINDS = ["sync", "gthread", "asgi", "native"]


def upload_path(kind: str) -> str:
    return "/bodylen" if kind == "native" else "/upload"


def big_path(kind: str, n: int) -> str:
    return f"/large?bytes={n}" if kind == "native" else f"/big?{n}"


@pytest.mark.parametrize("kind", KINDS)
def test_h2c_prior_knowledge_with_curl(tmp_path, kind):
    with H2Server(tmp_path, kind) as srv:
        out = curl("--http2-prior-knowledge", "-i", "-b", "a=1; b=2", srv.url("/hello?x=1"))
        assert out.returncode == 0, out.stderr
        head, _, body = out.stdout.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/2 200"), head
        names = [line.split(b":")[0].lower() for line in head.split(b"\r\n")[1:]]
        # Connection-specific fields never reach an HTTP/2 response.
        for banned in (b"connection", b"keep-alive", b"transfer-encoding", b"upgrade"):
            assert banned not in names, head
        if kind in ("sync", "gthread"):
            # :authority became Host; cookie crumbs are joined back.
            assert body == f"HTTP/2|127.0.0.1:{srv.port}|GET|/hello|a=1; b=2|http".encode()
        elif kind == "asgi":
            assert body == b"HTTP/2|/hello|0|http"
        else:
            req = json.loads(body)
            assert req["target"] == "/hello?x=1"
            assert ["host", f"127.0.0.1:{srv.port}"] in req["headers"]

        # A request body in DATA frames, larger than every window (the app pulls).
        blob = bytes(range(256)) * 12000  # 3 MB
        (tmp_path / "blob").write_bytes(blob)
        out = curl("--http2-prior-knowledge", "--data-binary", f"@{tmp_path / 'blob'}",
                   srv.url(upload_path(kind)))
        assert out.returncode == 0, out.stderr
        if kind == "native":
            assert out.stdout.startswith(f"len={len(blob)} ".encode()), out.stdout
        elif kind == "asgi":
            assert out.stdout == f"HTTP/2|{upload_path(kind)}|{len(blob)}|http".encode()
        else:
            assert out.stdout == f"len={len(blob)} sum={sum(blob) % 65536}".encode()

        # A body of unknown length (curl -T -: no Content-Length over HTTP/2).
        small = bytes(range(256)) * 300
        run = __import__("subprocess").run(
            ["curl", "-sS", "--max-time", "30", "--http2-prior-knowledge", "-X", "POST", "-T", "-",
             srv.url(upload_path(kind))], input=small, capture_output=True, timeout=60)
        assert run.returncode == 0, run.stderr
        assert f"{len(small)}".encode() in run.stdout, run.stdout

        # A response larger than every window: back-pressure through DATA.
        out = curl("--http2-prior-knowledge", srv.url(big_path(kind, 5_000_000)))
        assert out.returncode == 0, out.stderr
        assert len(out.stdout) == 5_000_000

        # HTTP/1.1 on the same listener still works.
        out = curl("--http1.1", srv.url("/h1"))
        assert out.returncode == 0 and out.stdout, out.stderr


@pytest.mark.parametrize("kind", ["sync", "asgi"])
def test_access_log_says_http2(tmp_path, kind):
    with H2Server(tmp_path, kind) as srv:
        assert curl("--http2-prior-knowledge", srv.url("/logged")).returncode == 0
        wait_until(lambda: '"GET /logged HTTP/2.0" 200' in srv.proc.stdout_text(), timeout=20,
                   message="an access log line for the HTTP/2 request")


@pytest.mark.parametrize("kind", KINDS)
def test_h2_over_tls_by_alpn(tmp_path, kind):
    # No --http-protocols: over TLS the default is h1,h2.
    with H2Server(tmp_path, kind, tls=True, protocols=None) as srv:
        out = curl("--http2", "--cacert", srv.cert, "-w", "%{http_version}", "-o", "/dev/null",
                   srv.url("/tls"))
        assert out.returncode == 0, out.stderr
        assert out.stdout == b"2"
        out = curl("--http1.1", "--cacert", srv.cert, "-w", "%{http_version}", "-o", "/dev/null",
                   srv.url("/tls"))
        assert out.stdout == b"1.1"
        out = curl("--http2", "--cacert", srv.cert, srv.url(big_path(kind, 3_000_000)))
        assert hashlib.sha1(out.stdout).hexdigest() == hashlib.sha1(b"x" * 3_000_000).hexdigest() \
            if kind != "native" else len(out.stdout) == 3_000_000
        with httpx.Client(http2=True, verify=srv.cert, timeout=30) as client:
            for i in range(5):
                r = client.get(srv.url(f"/httpx{i}"))
                assert r.status_code == 200 and r.http_version == "HTTP/2"
            r = client.post(srv.url(upload_path(kind)), content=b"z" * 500_000)
            assert r.status_code == 200 and r.http_version == "HTTP/2"
            assert "500000" in r.text


def test_plain_default_is_h1_only(tmp_path):
    # Without --http-protocols a plain listener speaks HTTP/1.x: a preface
    # is a bad HTTP/1.1 request, answered and closed.
    with H2Server(tmp_path, "sync", protocols=None) as srv:
        out = curl("--http2-prior-knowledge", srv.url("/"))
        assert out.returncode != 0
        assert curl("--http1.1", srv.url("/")).returncode == 0


@pytest.mark.parametrize("kind", KINDS)
def test_nghttp_and_h2load(tmp_path, kind):
    with H2Server(tmp_path, kind) as srv:
        out = h2load("-n", "1280", "-c", "4", "-m", "16", srv.url("/load"))
        counts = h2load_counts(out)
        assert counts["succeeded"] == 1280 and counts["failed"] == 0 and counts["errored"] == 0, out
        assert re.search(r"status codes: 1280 2xx", out), out
        # Concurrent slow streams on one connection.
        run = __import__("subprocess").run(
            ["nghttp", "-n", "-s", "-m", "8", srv.url("/slow")], capture_output=True, text=True,
            timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr


def test_alpn_choices(tmp_path):
    """ALPN: h2 first when on; http/1.1 for a client without h2; h2-only
    servers refuse a client without h2 (RFC 7301 no_application_protocol)."""
    import subprocess

    def alpn(port: int, offer: str) -> subprocess.CompletedProcess:
        return subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                               "-alpn", offer], input="", capture_output=True, text=True,
                              errors="replace",
                              timeout=30)
    with H2Server(tmp_path, "native", tls=True, protocols=None) as srv:
        assert "ALPN protocol: h2" in alpn(srv.port, "http/1.1,h2").stdout
        assert "ALPN protocol: http/1.1" in alpn(srv.port, "http/1.1").stdout
    with H2Server(tmp_path, "native", tls=True, protocols="h2") as srv:
        r = alpn(srv.port, "http/1.1")
        assert r.returncode != 0 and "no application protocol" in r.stderr, r.stderr
