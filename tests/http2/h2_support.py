"""Shared support for the HTTP/2 end-to-end tests: a self-signed certificate
made with the openssl CLI, apps of every kind, a gworker (or arbiterd)
serving them with --http-protocols, and a raw HTTP/2 client built on
python3-h2 for the hostile sequences.

    with H2Server(tmp_path, "wsgi") as srv:
        out = curl("--http2-prior-knowledge", srv.url("/"))
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import contextlib

import hpack
from hyperframe.frame import (DataFrame, Frame, GoAwayFrame, HeadersFrame, PingFrame,
                              RstStreamFrame, SettingsFrame)

from gftest import BUILD_DIR, Spawned, binary, free_port, wait_until

ECHO_LIB = BUILD_DIR / "tests/support/native_echo/libnative_echo.so"

# WSGI: what the request looked like, big bodies, uploads, slow answers.
WSGI_APP = textwrap.dedent('''
    import time

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/upload":
            data = environ["wsgi.input"].read()
            body = f"len={len(data)} sum={sum(data) % 65536}".encode()
        elif path == "/big":
            n = int(environ.get("QUERY_STRING") or 1000000)
            start_response("200 OK", [("Content-Type", "application/octet-stream")])
            return [b"x" * 65536 for _ in range(n // 65536)] + [b"x" * (n % 65536)]
        elif path == "/slow":
            time.sleep(float(environ.get("QUERY_STRING") or 0.5))
            body = b"slow done"
        else:
            body = "|".join([environ["SERVER_PROTOCOL"], environ.get("HTTP_HOST", "-"),
                             environ["REQUEST_METHOD"], path, environ.get("HTTP_COOKIE", "-"),
                             environ["wsgi.url_scheme"]]).encode()
        start_response("200 OK", [("Content-Type", "text/plain"), ("Connection", "keep-alive"),
                                  ("Keep-Alive", "timeout=5"), ("Upgrade", "h2c"),
                                  ("Content-Length", str(len(body)))])
        return [body]
''')

ASGI_APP = textwrap.dedent('''
    import asyncio

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            m = await receive()
            body += m.get("body", b"")
            if not m.get("more_body"):
                break
        if scope["path"] == "/slow":
            await asyncio.sleep(0.5)
        if scope["path"] == "/big":
            n = int(scope["query_string"] or 1000000)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            while n > 0:
                k = min(n, 65536)
                n -= k
                await send({"type": "http.response.body", "body": b"x" * k, "more_body": n > 0})
            return
        out = "|".join(["HTTP/" + scope["http_version"], scope["path"], str(len(body)),
                        scope["scheme"]]).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain"), (b"transfer-encoding", b"chunked")]})
        await send({"type": "http.response.body", "body": out[:3], "more_body": True})
        await send({"type": "http.response.body", "body": out[3:]})
''')

KINDS = {
    "sync": ["-k", "sync"],
    "gthread": ["-k", "gthread", "--threads", "4"],
    "asgi": ["-k", "asgi"],
    "native": ["--threads", "4"],
}


def make_cert(base: Path) -> tuple[str, str]:
    cert, key = base / "cert.pem", base / "key.pem"
    if not cert.exists():
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                        "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


def app_spec(kind: str, appdir: Path) -> str:
    appdir.mkdir(parents=True, exist_ok=True)
    if kind == "native":
        if not ECHO_LIB.exists():
            raise RuntimeError(f"{ECHO_LIB} is not built (target native_echo)")
        return f"native:{ECHO_LIB}"
    if kind == "asgi":
        (appdir / "asgiapp.py").write_text(ASGI_APP)
        return "asgiapp:app"
    (appdir / "wsgiapp.py").write_text(WSGI_APP)
    return "wsgiapp:app"


class H2Server:
    """gworker (or, with arbiter=True, arbiterd running gworker) serving a
    `kind` app on 127.0.0.1 with HTTP/2 on: h2c, or h2 over TLS (tls=True)."""

    def __init__(self, tmp_path: Path, kind: str = "sync", *flags: str, tls: bool = False,
                 protocols: str | None = "h1,h2", arbiter: bool = False, workers: int = 1):
        self.port = free_port()
        self.tls = tls
        appdir = tmp_path / "app"
        spec = app_spec(kind, appdir)
        prog = binary("arbiterd") if arbiter else binary("gworker")
        argv = [prog]
        if arbiter:
            argv += ["-w", str(workers)]
        argv += ["-b", f"127.0.0.1:{self.port}", "--chdir", str(appdir),
                 "--access-logfile", "-", *KINDS[kind], *flags]
        if protocols is not None:
            argv += ["--http-protocols", protocols]
        if tls:
            self.cert, key = make_cert(tmp_path)
            argv += ["--certfile", self.cert, "--keyfile", key]
        argv.append(spec)
        self.proc = Spawned(argv, logdir=tmp_path)

    def url(self, path: str) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> "H2Server":
        self.proc.start()
        try:
            wait_until(self._up, timeout=60, message="gworker serving")
        except Exception:
            sys.stderr.write(self.proc.output())
            self.proc.stop()
            raise
        return self

    def _up(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"exited {self.proc.poll()}: {self.proc.output()}")
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            sys.stderr.write(self.proc.output())
        self.proc.stop(timeout=20)


def curl(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-sS", "--max-time", "30", *args], capture_output=True,
                          timeout=timeout)


def h2load(*args: str, timeout: float = 120) -> str:
    out = subprocess.run(["h2load", *args], capture_output=True, text=True, timeout=timeout)
    return out.stdout + out.stderr


def h2load_counts(output: str) -> dict[str, int]:
    """{"total", "started", "done", "succeeded", "failed", "errored", "timeout"} of its summary."""
    for line in output.splitlines():
        if line.startswith("requests:"):
            parts = line.split(":", 1)[1].split(",")
            return {p.split()[1]: int(p.split()[0]) for p in parts}
    raise AssertionError(f"no summary in h2load's output:\n{output}")


class RawH2:
    """A hand-driven h2c client (prior knowledge) for hostile sequences:
    frames built with hyperframe and HPACK-encoded with hpack (python3-h2's
    own parts), sent exactly as the test says; frames read back parsed."""

    PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

    def __init__(self, port: int, settings: dict | None = None, timeout: float = 10.0,
                 preface: bool = True):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.buf = b""
        self.frames: list = []
        self.eof = False
        self.ack_pings = True
        if preface:
            self.send(self.PREFACE + SettingsFrame(0, settings=settings or {}).serialize())

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def headers(self, stream_id: int, path: str, end_stream: bool = True, extra=(),
                method: str = "GET") -> None:
        block = self.encoder.encode(request_headers(path, method, extra))
        flags = ["END_HEADERS"] + (["END_STREAM"] if end_stream else [])
        self.send(HeadersFrame(stream_id, data=block, flags=flags).serialize())

    def read(self, until, timeout: float = 10.0) -> list:
        """Reads frames until until(frames so far) is true, EOF or the deadline;
        acks the server's SETTINGS. Returns every frame read so far."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not until(self.frames) and not self.eof:
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except (socket.timeout, TimeoutError):
                break
            except OSError:
                data = b""
            if not data:
                self.eof = True
                break
            self.buf += data
            while len(self.buf) >= 9:
                frame, length = Frame.parse_frame_header(memoryview(self.buf[:9]))
                if len(self.buf) < 9 + length:
                    break
                frame.parse_body(memoryview(self.buf[9:9 + length]))
                self.buf = self.buf[9 + length:]
                if isinstance(frame, SettingsFrame) and "ACK" not in frame.flags:
                    with contextlib.suppress(OSError):
                        self.send(SettingsFrame(0, flags=["ACK"]).serialize())
                if isinstance(frame, PingFrame) and "ACK" not in frame.flags and self.ack_pings:
                    with contextlib.suppress(OSError):
                        self.send(PingFrame(0, opaque_data=frame.opaque_data, flags=["ACK"]).serialize())
                if isinstance(frame, HeadersFrame):
                    frame.decoded = self.decoder.decode(frame.data)
                self.frames.append(frame)
        return self.frames

    def status(self, stream_id: int) -> str | None:
        for f in self.frames:
            if isinstance(f, HeadersFrame) and f.stream_id == stream_id:
                return dict(f.decoded).get(":status")
        return None

    def goaway(self):
        return next((f for f in self.frames if isinstance(f, GoAwayFrame)), None)

    def resets(self, stream_id: int | None = None) -> list:
        return [f for f in self.frames if isinstance(f, RstStreamFrame)
                and (stream_id is None or f.stream_id == stream_id)]

    def ended(self, stream_id: int) -> bool:
        return any(f.stream_id == stream_id and "END_STREAM" in f.flags for f in self.frames
                   if isinstance(f, (HeadersFrame, DataFrame))) or bool(self.resets(stream_id))

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "RawH2":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def request_headers(path: str, method: str = "GET", extra=()) -> list[tuple[str, str]]:
    return [(":method", method), (":path", path), (":scheme", "http"),
            (":authority", "localhost"), *extra]


def have(tool: str) -> bool:
    return shutil.which(tool) is not None
