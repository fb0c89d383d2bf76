"""Gunicorn's ssl_context server hook (a config file's
`def ssl_context(config, default_ssl_context_factory)`): the ssl.SSLContext
it returns is what gworker serves TLS with — its versions, ciphers and
verify mode, seen by Python ssl clients — with gworker's own settings on
top (ALPN http/1.1). A raising hook, or one returning something else, fails
the worker's boot: exit 3 with a clear STATUS=, and arbiterd stops."""

from __future__ import annotations

import socket
import ssl
import subprocess
import textwrap
from pathlib import Path

import pytest

from gftest import binary, free_port, sanitizer_env
from tls_support import TlsArbiter, client_context, https_get, native_app, tls_connect


def conf(tmp_path: Path, body: str) -> str:
    path = tmp_path / "gunicorn_conf.py"
    path.write_text("import ssl\n\n" + textwrap.dedent(body))
    return str(path)


PIN_TLS13 = """
def ssl_context(config, default_ssl_context_factory):
    context = default_ssl_context_factory()
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    return context
"""

TLS12_CHACHA = """
def ssl_context(config, default_ssl_context_factory):
    context = default_ssl_context_factory()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE-ECDSA-CHACHA20-POLY1305")
    return context
"""

CLIENT_CERTS = """
def ssl_context(config, default_ssl_context_factory):
    context = default_ssl_context_factory()
    context.verify_mode = ssl.CERT_REQUIRED
    context.load_verify_locations(cafile=config.certfile.replace("server.pem", "ca.pem"))
    return context
"""


def negotiated(port: int, ctx: ssl.SSLContext):
    with tls_connect(port, ctx) as s:
        return s.version(), s.cipher()[0], s.selected_alpn_protocol()


def test_hook_pins_tls13(pki, tmp_path):
    with TlsArbiter(tmp_path, pki, "-c", conf(tmp_path, PIN_TLS13)) as srv:
        ctx = client_context(pki)
        ctx.set_alpn_protocols(["http/1.1"])
        version, _, alpn = negotiated(srv.port, ctx)
        assert version == "TLSv1.3"
        assert alpn == "http/1.1"  # gworker's ALPN on top of the hook's context
        old = client_context(pki)
        old.maximum_version = ssl.TLSVersion.TLSv1_2
        with pytest.raises((ssl.SSLError, ConnectionError)):
            negotiated(srv.port, old)
        assert https_get(srv.port, "/x", client_context(pki))[0] == 200


def test_hook_ciphers_and_maximum_version(pki, tmp_path):
    with TlsArbiter(tmp_path, pki, "-c", conf(tmp_path, TLS12_CHACHA)) as srv:
        version, cipher, _ = negotiated(srv.port, client_context(pki))
        assert (version, cipher) == ("TLSv1.2", "ECDHE-ECDSA-CHACHA20-POLY1305")
    # Without the hook the same client gets TLS 1.3: the hook made the difference.
    with TlsArbiter(tmp_path, pki) as srv:
        assert negotiated(srv.port, client_context(pki))[0] == "TLSv1.3"


def test_hook_asks_for_client_certificates(pki, tmp_path):
    with TlsArbiter(tmp_path, pki, "-c", conf(tmp_path, CLIENT_CERTS), client_cert="alice") as srv:
        status, body, _ = https_get(srv.port, "/who", client_context(pki, "alice"))
        assert status == 200 and b"CN=alice" in body and b"SUCCESS" in body
        with pytest.raises((ssl.SSLError, ConnectionError)):
            https_get(srv.port, "/who", client_context(pki))


def test_native_app_gets_the_hook_too(pki, tmp_path):
    with TlsArbiter(tmp_path, pki, "-c", conf(tmp_path, PIN_TLS13), app=native_app(),
                    probe=lambda port: https_get(port, "/status?code=204", client_context(pki),
                                                 timeout=3)[0] == 204) as srv:
        assert negotiated(srv.port, client_context(pki))[0] == "TLSv1.3"


def run_gworker(pki, tmp_path, body: str):
    """gworker with a failing hook: (exit code, stderr, the STATUS= it sent)."""
    notify = tmp_path / "notify.sock"
    rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    rx.bind(str(notify))
    rx.settimeout(0.5)
    appdir = tmp_path / "app"
    appdir.mkdir(exist_ok=True)
    (appdir / "app.py").write_text("def app(e, s):\n    s('200 OK', [])\n    return [b'x']\n")
    try:
        out = subprocess.run([binary("gworker"), "-b", f"127.0.0.1:{free_port()}",
                              "--certfile", pki.path("server.pem"), "--keyfile", pki.path("server.key"),
                              "--config", conf(tmp_path, body), "--chdir", str(appdir), "app:app"],
                             capture_output=True, text=True, timeout=60,
                             env={**sanitizer_env(), "NOTIFY_SOCKET": str(notify), "PATH": "/usr/bin:/bin"})
        statuses = []
        try:
            while True:
                statuses.append(rx.recv(65536).decode(errors="replace"))
        except (socket.timeout, BlockingIOError):
            pass
        return out.returncode, out.stderr, "\n".join(statuses)
    finally:
        rx.close()


def test_raising_hook_exits_3_with_status(pki, tmp_path):
    code, err, status = run_gworker(pki, tmp_path, """
        def ssl_context(config, default_ssl_context_factory):
            raise RuntimeError("no certificate for you")
        """)
    assert code == 3, err
    assert "STATUS=the ssl_context hook raised RuntimeError: no certificate for you" in status
    assert "Exception in ssl_context hook" in err  # with its traceback
    assert "READY=1" not in status


def test_hook_returning_something_else_exits_3(pki, tmp_path):
    code, err, status = run_gworker(pki, tmp_path, """
        def ssl_context(config, default_ssl_context_factory):
            return "TLSv1.3 please"
        """)
    assert code == 3, err
    assert "must return an ssl.SSLContext, not str" in status


def test_hook_context_without_certificate_exits_3(pki, tmp_path):
    code, err, status = run_gworker(pki, tmp_path, """
        def ssl_context(config, default_ssl_context_factory):
            return ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        """)
    assert code == 3, err
    assert "has no certificate and matching key" in status


def test_raising_hook_stops_arbiterd(pki, tmp_path):
    body = """
        def ssl_context(config, default_ssl_context_factory):
            raise ValueError("bad hook")
        """
    srv = TlsArbiter(tmp_path, pki, "-c", conf(tmp_path, body))
    code, output = srv.run_to_exit()
    assert code != 0
    assert "the ssl_context hook raised ValueError: bad hook" in output
