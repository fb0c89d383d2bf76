"""TLS certificates end to end: client certificates (--ca-certs with
--cert-reqs required and optional; the verified subject reaches the app as
SSL_CLIENT_S_DN), bad certificate, key and CA files refused by arbiterd
before anything starts (exit 2, the path and OpenSSL's reason), and `gctl
reload` rolling workers onto new files with a client loop that sees no
failure (a bad file at reload is rolled back)."""

from __future__ import annotations

import http.client
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from pathlib import Path

import pytest

from gftest import binary, wait_until
from tls_support import TlsArbiter, client_context, https_get, native_app, pem_to_der

REFUSED = (ssl.SSLError, ConnectionError, http.client.RemoteDisconnected, socket.timeout, OSError)


def test_required_client_certificate(pki, tmp_path):
    with TlsArbiter(tmp_path, pki, "--ca-certs", pki.path("ca.pem"), "--cert-reqs", "required",
                    client_cert="alice") as srv:
        status, body, _ = https_get(srv.port, "/who", client_context(pki, "alice"))
        assert status == 200
        assert body == b"https|CN=alice,O=greenfork|SUCCESS|127.0.0.1|/who"
        # No certificate, or one from another CA: refused, nothing served.
        for ctx in (client_context(pki), client_context(pki, "mallory")):
            with pytest.raises(REFUSED):
                https_get(srv.port, "/who", ctx, timeout=10)
        r = subprocess.run(["curl", "-sS", "--cacert", pki.path("ca.pem"),
                            "--cert", pki.path("alice.pem"), "--key", pki.path("alice.key"),
                            f"https://localhost:{srv.port}/curl"],
                           capture_output=True, text=True, timeout=30)
        assert r.stdout == "https|CN=alice,O=greenfork|SUCCESS|127.0.0.1|/curl", r.stderr


def test_native_app_gets_the_client_certificate_subject(pki, tmp_path):
    with TlsArbiter(tmp_path, pki, "--ca-certs", pki.path("ca.pem"), "--cert-reqs", "optional",
                    app=native_app()) as srv:
        got = json.loads(https_get(srv.port, "/", client_context(pki, "alice"))[1])
        assert (got["scheme"], got["tls_client_subject"]) == ("https", "CN=alice,O=greenfork")
        got = json.loads(https_get(srv.port, "/", client_context(pki))[1])
        assert got["tls_client_subject"] == ""


def test_optional_client_certificate(pki, tmp_path):
    with TlsArbiter(tmp_path, pki, "--ca-certs", pki.path("ca.pem"), "--cert-reqs", "optional") as srv:
        assert https_get(srv.port, "/", client_context(pki))[1] == b"https|-|-|127.0.0.1|/"
        status, body, _ = https_get(srv.port, "/", client_context(pki, "alice"))
        assert body == b"https|CN=alice,O=greenfork|SUCCESS|127.0.0.1|/"
        with pytest.raises(REFUSED):
            https_get(srv.port, "/", client_context(pki, "mallory"), timeout=10)


def arbiterd_check(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([binary("arbiterd"), "-b", "127.0.0.1:1", *args, "app:app"], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_bad_files_are_refused_before_anything_starts(pki, tmp_path):
    (tmp_path / "notpem.pem").write_text("hello\n")
    (tmp_path / "app.py").write_text("def app(e, s): pass\n")
    cert, key, ca = pki.path("server.pem"), pki.path("server.key"), pki.path("ca.pem")
    cases = [
        (["--certfile", "missing.pem"], f"--certfile {tmp_path}/missing.pem: No such file or directory"),
        (["--certfile", "notpem.pem", "--keyfile", key], f"--certfile {tmp_path}/notpem.pem: "
         "PEM routines: no start line"),
        (["--certfile", cert, "--keyfile", "notpem.pem"], f"--keyfile {tmp_path}/notpem.pem: "),
        (["--certfile", cert, "--keyfile", pki.path("alice.key")],
         f"--keyfile {pki.path('alice.key')}: x509 certificate routines: key values mismatch"),
        (["--certfile", cert, "--keyfile", key, "--ca-certs", "notpem.pem", "--cert-reqs", "2"],
         f"--ca-certs {tmp_path}/notpem.pem: "),
        (["--certfile", cert, "--keyfile", key, "--cert-reqs", "2"], "--cert-reqs asks for client"),
        (["--certfile", cert, "--keyfile", key, "--cert-reqs", "maybe"], "--cert-reqs: 'maybe'"),
        (["--certfile", cert, "--keyfile", key, "--ssl-version", "TLSv1_1"], "--ssl-version TLSv1_1: TLS 1.0 and 1.1"),
        (["--certfile", cert, "--keyfile", key, "--ciphers", "NOPE"], "--ciphers 'NOPE': "),
        (["--keyfile", key], "--keyfile and --ca-certs need --certfile"),
    ]
    for args, message in cases:
        for check in (["--check-config"], []):  # refused as a check and as a start
            r = arbiterd_check(*check, *args, cwd=tmp_path)
            assert r.returncode == 2, (args, r.stderr)
            assert r.stderr.startswith(f"arbiterd: {message}"), (args, r.stderr)
            assert "Booting" not in r.stderr and "gworker" not in r.stderr, r.stderr
    # The same names in a gunicorn.conf.py.
    (tmp_path / "gunicorn.conf.py").write_text(f"certfile = {cert!r}\nkeyfile = 'missing.key'\n")
    r = arbiterd_check("--check-config", cwd=tmp_path)
    assert (r.returncode, r.stderr.strip()) == (2, f"arbiterd: --keyfile {tmp_path}/missing.key: "
                                                   "No such file or directory")
    (tmp_path / "gunicorn.conf.py").write_text(
        f"certfile = {cert!r}\nkeyfile = {key!r}\ncert_reqs = 2\nca_certs = {ca!r}\n"
        "ssl_version = 'TLS_SERVER'\nciphers = 'ECDHE+AESGCM'\ndo_handshake_on_connect = True\n")
    r = arbiterd_check("--check-config", cwd=tmp_path)
    assert (r.returncode, r.stdout.strip()) == (0, "config OK: 1 pool"), r.stderr
    # A TOML pool's worker_args: paths relative to the config file's directory.
    conf = tmp_path / "pools.toml"
    conf.write_text('[pools.web]\napp = "app:app"\nbind = ["127.0.0.1:1"]\n'
                    'worker_args = ["--certfile", "notpem.pem", "--keyfile", "%s"]\n' % key)
    r = subprocess.run([binary("arbiterd"), "-c", str(conf), "--check-config"], cwd="/",
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.startswith(
        f"arbiterd: {conf}:4: pools.web.worker_args: --certfile {tmp_path}/notpem.pem: PEM routines"), r.stderr
    conf.write_text(conf.read_text().replace("notpem.pem", cert))
    r = subprocess.run([binary("arbiterd"), "-c", str(conf), "--check-config"], cwd="/",
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


class TlsLoop:
    """New TLS connections in a loop (each a fresh handshake), bounded in
    count and time; records the certificates seen and every failure."""

    def __init__(self, port: int, ctx: ssl.SSLContext, max_seconds: float = 120):
        self.port, self.ctx, self.max_seconds = port, ctx, max_seconds
        self.ok = 0
        self.failures: list[str] = []
        self.certs: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline and self.ok < 50_000:
            try:
                status, _, der = https_get(self.port, "/loop", self.ctx)
                if status != 200:
                    self.failures.append(f"status {status}")
                else:
                    self.ok += 1
                    if not self.certs or self.certs[-1] != der:
                        self.certs.append(der)
            except Exception as exc:  # noqa: BLE001 - every failure counts
                self.failures.append(repr(exc))

    def __enter__(self) -> "TlsLoop":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def test_reload_rolls_workers_onto_new_certificate_without_failures(pki, tmp_path):
    live = tmp_path / "live"
    live.mkdir()
    for ext in ("pem", "key"):
        shutil.copy(pki.path(f"server.{ext}"), live / f"server.{ext}")
    with TlsArbiter(tmp_path, pki, workers=2, cert_dir=live) as srv:
        ctx = client_context(pki)
        old, new = pem_to_der(pki.path("server.pem")), pem_to_der(pki.path("server2.pem"))
        assert https_get(srv.port, "/", ctx)[2] == old
        with TlsLoop(srv.port, ctx) as loop:
            wait_until(lambda: loop.ok >= 20, timeout=30)
            # A bad certificate at reload: new workers fail to boot, the
            # reload is rolled back and the old workers keep serving.
            (live / "server.pem").write_text("not a certificate\n")
            r = srv.gctl("reload", "--wait")
            assert r.returncode != 0, r.stdout
            assert https_get(srv.port, "/", ctx)[2] == old
            # New files: every worker is replaced, the new certificate is served.
            for ext in ("pem", "key"):
                shutil.copy(pki.path(f"server2.{ext}"), live / f"server.{ext}")
            r = srv.gctl("reload", "--wait")
            assert r.returncode == 0, r.stdout + r.stderr
            seen = loop.ok
            wait_until(lambda: loop.ok >= seen + 20, timeout=30)
        assert loop.failures == [], loop.failures[:5]
        assert loop.certs[0] == old and loop.certs[-1] == new
        for _ in range(10):  # no worker left with the old certificate
            assert https_get(srv.port, "/", ctx)[2] == new
