"""Shared support for the TLS end-to-end tests: a test PKI made with the
`openssl` CLI at test time, TLS clients, and a real arbiterd running gworker
with --certfile on a free loopback port.

    def test_x(pki, tmp_path):
        with TlsArbiter(tmp_path, pki) as srv:
            status, body, _ = https_get(srv.port, "/", client_context(pki))
"""

from __future__ import annotations

import contextlib
import http.client
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

from gftest import BUILD_DIR, Spawned, binary, free_port, wait_until

OPENSSL = shutil.which("openssl")
ECHO_LIB = BUILD_DIR / "tests/support/native_echo/libnative_echo.so"

# A WSGI app that answers with what the TLS layer told it.
APP = textwrap.dedent('''
    import os, time

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/slow":
            open(os.environ["TLS_TEST_MARK"], "w").close()
            time.sleep(float(environ.get("QUERY_STRING") or 1))
        if path == "/file":
            f = open(os.environ["TLS_TEST_FILE"], "rb")
            start_response("200 OK", [("Content-Type", "application/octet-stream")])
            return environ["wsgi.file_wrapper"](f)
        if path == "/pid":
            body = f"{os.getpid()} {'ARBITER_TLS_TICKET_KEYS' in os.environ}".encode()
            start_response("200 OK", [("Content-Length", str(len(body)))])
            return [body]
        if path == "/upload":
            data = environ["wsgi.input"].read()
            body = f"len={len(data)} sum={sum(data)}".encode()
        else:
            body = "|".join([environ["wsgi.url_scheme"], environ.get("SSL_CLIENT_S_DN", "-"),
                             environ.get("SSL_CLIENT_VERIFY", "-"), environ["REMOTE_ADDR"],
                             path]).encode()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]
''')


def openssl(*args: str, cwd: Path) -> None:
    r = subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {r.stderr}")


@dataclass
class Pki:
    dir: Path

    def path(self, name: str) -> str:
        return str(self.dir / name)

    def issue(self, name: str, subject: str, ca: str = "ca", san: str = "") -> None:
        """name.pem/name.key: an EC certificate signed by ca.pem/ca.key."""
        key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        openssl("req", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject,
                cwd=self.dir)
        ext = self.dir / f"{name}.ext"
        ext.write_text(f"subjectAltName={san}\n" if san else "basicConstraints=CA:FALSE\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
                "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", ext.name,
                cwd=self.dir)

    def make_ca(self, name: str, subject: str) -> None:
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2",
                "-subj", subject, cwd=self.dir)


def make_pki(base: Path) -> Pki:
    """ca, server (localhost, 127.0.0.1), client alice (by ca), mallory (by rogue)."""
    if OPENSSL is None:
        raise RuntimeError("the openssl CLI is not installed (scripts/install-deps.sh --test)")
    base.mkdir(parents=True, exist_ok=True)
    pki = Pki(base)
    pki.make_ca("ca", "/CN=greenfork test CA")
    pki.make_ca("rogue", "/CN=rogue CA")
    pki.issue("server", "/CN=localhost", san="DNS:localhost,IP:127.0.0.1")
    pki.issue("server2", "/CN=localhost/O=second", san="DNS:localhost,IP:127.0.0.1")
    pki.issue("alice", "/O=greenfork/CN=alice")
    pki.issue("mallory", "/CN=mallory", ca="rogue")
    return pki


def client_context(pki: Pki, cert: str | None = None, cafile: str | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=cafile or pki.path("ca.pem"))
    if cert:
        ctx.load_cert_chain(pki.path(f"{cert}.pem"), pki.path(f"{cert}.key"))
    return ctx


def https_get(port: int, path: str, ctx: ssl.SSLContext, timeout: float = 10.0):
    """(status, body, the server certificate in DER) of one request."""
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=timeout)
    try:
        conn.request("GET", path)
        der = conn.sock.getpeercert(binary_form=True)  # before a Connection: close drops it
        r = conn.getresponse()
        return r.status, r.read(), der
    finally:
        conn.close()


def pem_to_der(path: str) -> bytes:
    return ssl.PEM_cert_to_DER_cert(Path(path).read_text())


def tls_connect(port: int, ctx: ssl.SSLContext, timeout: float = 10.0) -> ssl.SSLSocket:
    """A TLS connection on which an EOF without close_notify raises SSLEOFError."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return ctx.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False)


def s_client(port: int, *args: str, timeout: float = 20.0) -> subprocess.CompletedProcess:
    return subprocess.run([OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}",
                           "-servername", "localhost", *args],
                          input="", capture_output=True, text=True, timeout=timeout)


def closed_within(s: socket.socket, seconds: float) -> bool:
    """True when the server closes `s` (EOF or reset) within `seconds`."""
    s.settimeout(seconds)
    try:
        while True:
            if not s.recv(4096):
                return True
    except socket.timeout:
        return False
    except (ConnectionError, OSError):
        return True


class TlsArbiter:
    """arbiterd -w N -b 127.0.0.1:PORT --certfile ... running APP (or `app`)."""

    def __init__(self, tmp_path: Path, pki: Pki, *flags: str, app: str = "app:app",
                 workers: int = 1, cert: str = "server", extra_env: dict | None = None,
                 client_cert: str | None = None, cert_dir: Path | None = None,
                 probe=None):
        self.port = free_port()
        self.appdir = tmp_path / "app"
        self.appdir.mkdir(exist_ok=True)
        (self.appdir / "app.py").write_text(APP)
        self.short = Path(tempfile.mkdtemp(prefix="gftls"))  # unix socket paths are short
        self.sock = self.short / "ctl.sock"
        self.pki = pki
        self.client_cert = client_cert  # the readiness probe's, when one is required
        self.probe = probe  # probe(port) -> bool, instead of a plain HTTPS GET
        argv = [binary("arbiterd"), "-w", str(workers), "-b", f"127.0.0.1:{self.port}",
                "--control-socket", str(self.sock), "--chdir", str(self.appdir),
                "--certfile", str(Path(cert_dir or pki.dir) / f"{cert}.pem"),
                "--keyfile", str(Path(cert_dir or pki.dir) / f"{cert}.key"),
                *flags, app]
        self.proc = Spawned(argv, logdir=tmp_path, extra_env=extra_env)

    def __enter__(self) -> "TlsArbiter":
        self.proc.start()
        ctx = client_context(self.pki, self.client_cert)
        try:
            probe = self.probe or (lambda port: https_get(port, "/", ctx, timeout=3)[0] == 200)
            wait_until(lambda: probe(self.port), timeout=60, message="arbiterd serving over TLS")
        except Exception:
            sys.stderr.write(self.proc.output())
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            sys.stderr.write(self.proc.output())
        self.proc.stop(timeout=15)
        shutil.rmtree(self.short, ignore_errors=True)

    def run_to_exit(self, timeout: float = 60) -> tuple[int, str]:
        """Starts arbiterd expecting it to stop by itself: (exit code, output)."""
        try:
            with self.proc:
                return self.proc.wait(timeout=timeout), self.proc.output()
        finally:
            shutil.rmtree(self.short, ignore_errors=True)

    def gctl(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([binary("gctl"), "--socket", str(self.sock), *args],
                              capture_output=True, text=True, timeout=timeout)


def native_app() -> str:
    if not ECHO_LIB.exists():
        raise RuntimeError(f"{ECHO_LIB} is not built (target native_echo)")
    return f"native:{ECHO_LIB}"


@contextlib.contextmanager
def stalled_socket(port: int, first: bytes = b""):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        if first:
            s.sendall(first)
        yield s
    finally:
        s.close()


def elapsed(start: float) -> float:
    return time.monotonic() - start
