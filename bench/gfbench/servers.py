"""The servers under test and how each is started, reloaded and versioned.

Every server gets the same thing: 2 workers, a listen backlog of 2048,
a fresh loopback port, no access log, and the same app file
(bench/apps/app.py, or examples/flask_app/app.py for Flask).
"""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from .procs import Proc, cmdline

PYTHON = "/usr/bin/python3"
WORKERS = 2
BACKLOG = 2048
HELLO_BODY = b"Hello, World!\n"
BIG_SIZE = 64 * 1024
# TLS rows: the same certificate (EC P-256, made with the openssl CLI) and
# the same TLS 1.2 ciphers for every server; TLS 1.3 uses OpenSSL's suites.
TLS_CIPHERS = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305"
# greenfork-gthread's app threads per worker: one per connection of its share
# of the sleep scenario's 256, as gevent has a greenlet per connection
# (Gunicorn's gthread keeps the issue's 4).
GTHREADS = 128


class Context:
    """Where things are: the source tree, the build tree, a temp dir."""

    def __init__(self, root: Path, build: Path, tmpdir: Path, origin: Optional[Path] = None):
        """build: where the binaries run from (a snapshot of origin's, or origin)."""
        self.root, self.build, self.tmpdir = root, build, tmpdir
        self.origin = origin or build
        self._seq = 0

    def fresh_dir(self, name: str) -> Path:
        self._seq += 1
        path = self.tmpdir / f"{self._seq:03d}-{name}"
        path.mkdir(parents=True)
        return path

    def tls_files(self) -> Tuple[Path, Path]:
        """(cert.pem, key.pem) for the TLS rows, made once per run."""
        cert, key = self.tmpdir / "tls-cert.pem", self.tmpdir / "tls-key.pem"
        if not cert.exists():
            subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key),
                            "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
                            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                           check=True, capture_output=True, timeout=60)
        return cert, key

    def wsgi_app(self, app: str) -> Tuple[Path, str]:
        """(directory, module:variable) of a benchmark app (ASGI ones too)."""
        if app == "flask":
            return self.root / "examples" / "flask_app", "app:app"
        if app == "asgi-hello":
            return self.root / "bench" / "apps", "asgi_hello:hello"
        if app == "fastapi":
            return self.root / "bench" / "apps", "fastapi_hello:app"
        if app in ("asgi-download", "asgi-upload", "asgi-ws"):
            return self.root / "bench" / "apps", "asgi_stream:" + {
                "asgi-download": "download", "asgi-upload": "upload", "asgi-ws": "ws_echo"}[app]
        if app in GREEN_APPS:  # the sleep app, on one library's green threads
            return self.root / "bench" / "apps", "app:sleep"
        return self.root / "bench" / "apps", f"app:{app}"


def _out(argv: List[str]) -> str:
    try:
        res = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    return (res.stdout.strip() or res.stderr.strip()).splitlines()[0] if (
        res.stdout.strip() or res.stderr.strip()) else "unknown"


# The ASGI apps: only ASGI servers (uvicorn, greenfork -k asgi) serve them.
ASGI_APPS = ("asgi-hello", "fastapi", "asgi-download", "asgi-upload", "asgi-ws")
# The green-thread rows' apps and the worker class that serves each: only
# the servers of that class (gunicorn -k X, greenfork -k X) run them.
GREEN_APPS = {"gevent-sleep": "gevent", "eventlet-sleep": "eventlet"}


class Server:
    name = ""
    peer = True
    wsgi = True          # serves the Python apps; False: only hello (and maybe big)
    asgi = False         # serves the ASGI apps only
    stop_signal = signal.SIGINT
    can_scale = False
    tls = False          # can serve the TLS rows (start(..., tls=True))
    statsd = False       # has the statsd row: start(..., extra=["--statsd-host", H:P])
    can_autoscale = False  # has start_autoscaled(ctx, app, port, min, max)

    def unavailable(self, ctx: Context) -> Optional[str]:
        return None

    def app_missing(self, ctx: Context, app: str) -> Optional[str]:
        """Why this server cannot serve `app` in this checkout, or None."""
        if not self.wsgi:
            return None
        appdir, spec = ctx.wsgi_app(app)
        f = appdir / (spec.split(":")[0] + ".py")
        return None if f.is_file() else f"{f} does not exist"

    def supports(self, app: str) -> bool:
        return self.wsgi and app not in ASGI_APPS and app not in GREEN_APPS

    def path(self, app: str) -> str:
        return "/hello" if app == "flask" else "/"

    def start(self, ctx: Context, app: str, port: int) -> Proc:
        raise NotImplementedError

    def reload(self, ctx: Context, proc: Proc) -> str:
        os.kill(proc.pid, signal.SIGHUP)
        return "SIGHUP to the master"

    def scale(self, ctx: Context, proc: Proc, delta: int) -> str:
        raise NotImplementedError

    def version(self, ctx: Context) -> str:
        raise NotImplementedError

    def _spawn(self, ctx: Context, argv: List[str], cwd: Optional[str] = None,
               env: Optional[Dict[str, str]] = None) -> Proc:
        logdir = ctx.fresh_dir(self.name)
        return Proc(argv, logdir / "server.log", cwd=cwd, env=env, stop_signal=self.stop_signal,
                    is_worker=self.is_worker)

    def is_worker(self, pid: int) -> bool:
        """Whether a child of the master is a worker (not a helper process)."""
        return True


class Gunicorn(Server):
    can_scale = True

    def __init__(self, worker_class: str, threads: int = 0, green_only: bool = False):
        """green_only: only its class's green-thread row (gunicorn-eventlet)."""
        self.worker_class, self.threads, self.green_only = worker_class, threads, green_only
        self.name = f"gunicorn-{worker_class}"

    def supports(self, app: str) -> bool:
        if app in GREEN_APPS:
            return GREEN_APPS[app] == self.worker_class
        return not self.green_only and super().supports(app)

    def unavailable(self, ctx: Context) -> Optional[str]:
        mod = self.worker_class if self.worker_class in ("gevent", "eventlet") else "gunicorn"
        res = subprocess.run([PYTHON, "-c", f"import gunicorn, {mod}"], capture_output=True,
                             text=True, timeout=20)
        return None if res.returncode == 0 else res.stderr.strip().splitlines()[-1]

    def start(self, ctx: Context, app: str, port: int) -> Proc:
        appdir, spec = ctx.wsgi_app(app)
        argv = [PYTHON, "-m", "gunicorn", "-w", str(WORKERS), "-k", self.worker_class,
                "-b", f"127.0.0.1:{port}", "--backlog", str(BACKLOG), "--chdir", str(appdir)]
        if self.threads:
            argv += ["--threads", str(self.threads)]
        return self._spawn(ctx, argv + [spec])

    def scale(self, ctx: Context, proc: Proc, delta: int) -> str:
        sig = signal.SIGTTIN if delta > 0 else signal.SIGTTOU
        os.kill(proc.pid, sig)
        return signal.Signals(sig).name

    def version(self, ctx: Context) -> str:
        v = "gunicorn " + _out([PYTHON, "-c", "import gunicorn; print(gunicorn.__version__)"])
        if self.worker_class in ("gevent", "eventlet"):
            lib = self.worker_class
            v += f", {lib} " + _out([PYTHON, "-c", f"import {lib}; print({lib}.__version__)"])
        if self.threads:
            v += f" (--threads {self.threads})"
        return v


class UWSGI(Server):
    name = "uwsgi"

    def __init__(self, cheaper_algo: str = "spare"):
        """cheaper_algo: the autoscale row's algorithm; "busyness" (its own
        plugin) makes the uwsgi-busyness server, which has only that row."""
        self.cheaper_algo = cheaper_algo
        if cheaper_algo != "spare":
            self.name = f"uwsgi-{cheaper_algo}"

    def supports(self, app: str) -> bool:
        return super().supports(app) and (self.cheaper_algo == "spare" or app == "sleep50")

    def _plugins(self) -> str:
        return "python3" if self.cheaper_algo == "spare" else f"python3,cheaper_{self.cheaper_algo}"

    def unavailable(self, ctx: Context) -> Optional[str]:
        res = subprocess.run(["uwsgi", "--plugin", self._plugins(), "--version"],
                             capture_output=True, text=True, timeout=20)
        return None if res.returncode == 0 else (res.stdout + res.stderr).strip()[-200:]

    def start(self, ctx: Context, app: str, port: int) -> Proc:
        appdir, spec = ctx.wsgi_app(app)
        # --http11-socket is --http-socket with HTTP/1.1 keep-alive.
        argv = ["uwsgi", "--plugin", "python3", "--http11-socket", f"127.0.0.1:{port}",
                "--master", "--processes", str(WORKERS), "--listen", str(BACKLOG),
                "--chdir", str(appdir), "--module", spec, "--need-app",
                "--disable-logging", "--die-on-term"]
        return self._spawn(ctx, argv)

    can_autoscale = True

    def start_autoscaled(self, ctx: Context, app: str, port: int, lo: int, hi: int) -> Proc:
        """The cheaper subsystem (`spare`, uWSGI's default algorithm, or
        `busyness`), starting with lo workers, one more at a time, the
        algorithm's defaults otherwise (--cheaper-overload 3 s)."""
        appdir, spec = ctx.wsgi_app(app)
        # --http-socket (not http11): one request per connection, so every one
        # of the step's connections waits its turn in the listen queue.
        argv = ["uwsgi", "--plugin", self._plugins(), "--http-socket", f"127.0.0.1:{port}",
                "--master", "--processes", str(hi), "--cheaper", str(lo),
                "--cheaper-initial", str(lo), "--cheaper-algo", self.cheaper_algo,
                "--cheaper-step", "1",
                "--listen", str(BACKLOG), "--chdir", str(appdir), "--module", spec,
                "--need-app", "--disable-logging", "--die-on-term"]
        return self._spawn(ctx, argv)

    def version(self, ctx: Context) -> str:
        if self.cheaper_algo != "spare":
            return "uWSGI " + _out(["uwsgi", "--version"]) + \
                f" (http-socket, plugins {self._plugins()}, autoscale row only)"
        return "uWSGI " + _out(["uwsgi", "--version"]) + " (http11-socket, plugin python3)"


class Nginx(Server):
    name = "nginx"
    wsgi = False
    tls = True
    stop_signal = signal.SIGTERM

    def supports(self, app: str) -> bool:
        return app in ("hello", "big")

    def path(self, app: str) -> str:
        return "/big" if app == "big" else "/"

    def write_conf(self, d: Path, port: int, single: bool = False,
                   tls: Optional[Tuple[Path, Path]] = None, h2: bool = False) -> Path:
        """nginx.conf in d (and its www/). single: one process, no master
        (`master_process off`) and no keep-alive request limit, as the
        instruction and syscall counts run it. h2: HTTP/2 on the listener,
        with no limit on requests per connection (nginx's default of 1,000
        ends each h2load connection early)."""
        (d / "www").mkdir()
        (d / "www" / "big").write_bytes(b"x" * BIG_SIZE)
        user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
        hello = HELLO_BODY.decode().replace("\n", "\\n")
        temps = "".join(f"  {k}_temp_path {d}/{k};\n"
                        for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        modes = "master_process off;\nworker_processes 1;\n" if single else \
            f"master_process on;\nworker_processes {WORKERS};\n"
        limit = "  keepalive_requests 1000000;\n" if single or h2 else ""
        ssl = ""
        if tls:
            ssl = (f"    ssl_certificate {tls[0]};\n    ssl_certificate_key {tls[1]};\n"
                   f"    ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_ciphers {TLS_CIPHERS};\n"
                   "    ssl_session_tickets on;\n")
        conf = d / "nginx.conf"
        conf.write_text(
            f"{user}daemon off;\n{modes}"
            f"pid {d}/nginx.pid;\nerror_log {d}/error.log warn;\n"
            "events { worker_connections 4096; }\n"
            "http {\n  access_log off;\n" + temps + limit +
            f"  server {{\n    listen 127.0.0.1:{port} backlog={BACKLOG}{' ssl' if tls else ''}{' http2' if h2 else ''};\n"
            + ssl +
            f"    location = /big {{ root {d}/www; default_type application/octet-stream; }}\n"
            f"    location / {{ default_type text/plain; return 200 \"{hello}\"; }}\n"
            "  }\n}\n")
        return conf

    def start(self, ctx: Context, app: str, port: int, tls: bool = False,
              h2: bool = False) -> Proc:
        d = ctx.fresh_dir(self.name + "-conf")
        conf = self.write_conf(d, port, tls=ctx.tls_files() if tls else None, h2=h2)
        return self._spawn(ctx, ["nginx", "-p", str(d), "-e", str(d / "error.log"),
                                 "-c", str(conf)])

    def version(self, ctx: Context) -> str:
        return _out(["nginx", "-v"]).replace("nginx version: ", "")


def find_libhello(build: Path) -> Optional[Path]:
    """libhello.so wherever the examples' CMake put it in the build tree."""
    preferred = [build / "examples" / "native" / "libhello.so",
                 build / "examples" / "native" / "hello" / "libhello.so",
                 build / "lib" / "libhello.so", build / "bin" / "libhello.so"]
    for p in preferred:
        if p.is_file():
            return p
    found = sorted(build.rglob("libhello.so*"), key=lambda p: (len(p.parts), str(p)))
    return found[0] if found else None


class Greenfork(Server):
    peer = False
    can_scale = True
    tls = True

    def __init__(self, native: bool = False, threads: int = 0):
        """threads > 0: -k gthread --threads N instead of the sync worker."""
        self.native = native
        self.wsgi = not native
        self.threads = threads
        self.name = ("greenfork-native" if native else
                     "greenfork-gthread" if threads else "greenfork")
        self.statsd = self.can_autoscale = not native and not threads
        self._help: Optional[str] = None

    def supports(self, app: str) -> bool:
        return app == "hello" if self.native else app not in ASGI_APPS and app not in GREEN_APPS

    def _bin(self, ctx: Context, name: str) -> Path:
        return ctx.build / "bin" / name

    def unavailable(self, ctx: Context) -> Optional[str]:
        for name in ("arbiterd", "gworker"):
            if not self._bin(ctx, name).is_file():
                return f"{ctx.origin / 'bin' / name} is not built"
        if self.native and find_libhello(ctx.build) is None:
            return f"no libhello.so under {ctx.build}"
        return None

    def is_worker(self, pid: int) -> bool:
        # arbiterd also has a helper child ("arbiterd: guard"); workers run gworker.
        return "gworker" in cmdline(pid)

    def _arbiter_help(self, ctx: Context) -> str:
        if self._help is None:
            res = subprocess.run([str(self._bin(ctx, "arbiterd")), "--help"],
                                 capture_output=True, text=True, timeout=20)
            self._help = res.stdout + res.stderr
        return self._help

    def start(self, ctx: Context, app: str, port: int, tls: bool = False,
              extra: Sequence[str] = (), workers: int = WORKERS, h2: bool = False) -> Proc:
        """extra: arbiterd options added before the app (e.g. --statsd-host).
        h2: HTTP/2 as well (over TLS already gworker's default, said explicitly)."""
        d = ctx.fresh_dir(self.name + "-run")
        tls_args: List[str] = []
        if tls:
            cert, key = ctx.tls_files()
            tls_args = ["--certfile", str(cert), "--keyfile", str(key), "--ciphers", TLS_CIPHERS]
        if h2:
            tls_args += ["--http-protocols", "h1,h2"]
        argv = [str(self._bin(ctx, "arbiterd")), "-w", str(workers), "-b", f"127.0.0.1:{port}",
                *extra]
        if "--control-socket" in self._arbiter_help(ctx):
            argv += ["--control-socket", str(d / "control.sock")]
        if "--backlog" in self._arbiter_help(ctx):
            argv += ["--backlog", str(BACKLOG)]
        if self.native:
            argv += ["--", str(self._bin(ctx, "gworker")), *tls_args,
                     f"native:{find_libhello(ctx.build)}"]
        else:
            appdir, spec = ctx.wsgi_app(app)
            if self.threads:
                argv += ["-k", "gthread", "--threads", str(self.threads)]
            argv += ["--chdir", str(appdir), *tls_args, spec]
        proc = self._spawn(ctx, argv)
        proc.control_socket = d / "control.sock"  # type: ignore[attr-defined]
        return proc

    def start_autoscaled(self, ctx: Context, app: str, port: int, lo: int, hi: int) -> Proc:
        """--autoscale lo:hi --autoscale-cooldown 5, starting with lo workers."""
        return self.start(ctx, app, port, workers=lo,
                          extra=["--autoscale", f"{lo}:{hi}", "--autoscale-cooldown", "5"])

    def _gctl(self, ctx: Context, proc: Proc, args: List[str]) -> Optional[str]:
        """Runs gctl against this arbiterd; None on success, else why not."""
        gctl = self._bin(ctx, "gctl")
        sock = getattr(proc, "control_socket", None)
        if not gctl.is_file():
            return "gctl is not built"
        if sock is None or not Path(sock).exists():
            return "no control socket"
        res = subprocess.run([str(gctl), "--socket", f"unix:{sock}"] + args,
                             capture_output=True, text=True, timeout=120)
        if res.returncode != 0:
            return f"gctl {' '.join(args)} exited {res.returncode}: " + \
                (res.stdout + res.stderr).strip()[:120]
        return None

    def reload(self, ctx: Context, proc: Proc) -> str:
        t0 = time.monotonic()
        why = self._gctl(ctx, proc, ["reload", "--wait"])
        if why is None:
            return f"gctl reload --wait ({time.monotonic() - t0:.1f} s)"
        os.kill(proc.pid, signal.SIGHUP)  # fall back to the signal, and say so
        return f"{why}; SIGHUP to arbiterd instead"

    def scale(self, ctx: Context, proc: Proc, delta: int) -> str:
        arg = f"{delta:+d}"
        why = self._gctl(ctx, proc, ["scale", arg])
        if why is None:
            return f"gctl scale {arg}"
        sig = signal.SIGTTIN if delta > 0 else signal.SIGTTOU
        os.kill(proc.pid, sig)
        return f"{why}; {signal.Signals(sig).name} to arbiterd instead"

    def version(self, ctx: Context) -> str:
        rev = build_revision(ctx.origin, ctx.build)
        if self.native:
            lib = find_libhello(ctx.build)
            return f"greenfork {rev} (native app {lib.relative_to(ctx.build) if lib else 'missing'})"
        threads = f", -k gthread --threads {self.threads}" if self.threads else ""
        return f"greenfork {rev} (embedded {_out([PYTHON, '-V'])}{threads})"


class Uvicorn(Server):
    """uvicorn with httptools and uvloop (Debian's), the same worker count."""
    name = "uvicorn"
    asgi = True

    def supports(self, app: str) -> bool:
        return app in ASGI_APPS

    def unavailable(self, ctx: Context) -> Optional[str]:
        res = subprocess.run([PYTHON, "-c", "import uvicorn, httptools, uvloop"],
                             capture_output=True, text=True, timeout=20)
        return None if res.returncode == 0 else res.stderr.strip().splitlines()[-1]

    def start(self, ctx: Context, app: str, port: int) -> Proc:
        appdir, spec = ctx.wsgi_app(app)
        argv = [PYTHON, "-m", "uvicorn", "--workers", str(WORKERS), "--host", "127.0.0.1",
                "--port", str(port), "--backlog", str(BACKLOG), "--loop", "uvloop",
                "--http", "httptools", "--lifespan", "off", "--no-access-log",
                "--log-level", "warning", spec]
        return self._spawn(ctx, argv, cwd=str(appdir))

    def version(self, ctx: Context) -> str:
        return "uvicorn " + _out([PYTHON, "-c", "import uvicorn, uvloop, httptools; print("
                                  "uvicorn.__version__, 'uvloop', uvloop.__version__, "
                                  "'httptools', httptools.__version__)"])


class GreenforkAsgi(Greenfork):
    """greenfork -k asgi: the ASGI apps only."""
    asgi = True

    def __init__(self):
        super().__init__()
        self.name = "greenfork-asgi"

    def supports(self, app: str) -> bool:
        return app in ASGI_APPS

    def start(self, ctx: Context, app: str, port: int) -> Proc:
        appdir, spec = ctx.wsgi_app(app)
        d = ctx.fresh_dir(self.name + "-run")
        argv = [str(self._bin(ctx, "arbiterd")), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}",
                "--control-socket", str(d / "control.sock"), "--backlog", str(BACKLOG),
                "-k", "asgi", "--asgi-lifespan", "off", "--chdir", str(appdir), spec]
        proc = self._spawn(ctx, argv)
        proc.control_socket = d / "control.sock"  # type: ignore[attr-defined]
        return proc

    def version(self, ctx: Context) -> str:
        return super().version(ctx) + ", -k asgi"


class GreenforkGreen(Greenfork):
    """greenfork -k gevent / -k eventlet: its class's green-thread row only."""

    def __init__(self, worker_class: str):
        super().__init__()
        self.worker_class = worker_class
        self.name = f"greenfork-{worker_class}"
        self.statsd = self.can_autoscale = False

    def supports(self, app: str) -> bool:
        return GREEN_APPS.get(app) == self.worker_class

    def start(self, ctx: Context, app: str, port: int) -> Proc:
        appdir, spec = ctx.wsgi_app(app)
        d = ctx.fresh_dir(self.name + "-run")
        argv = [str(self._bin(ctx, "arbiterd")), "-w", str(WORKERS), "-b", f"127.0.0.1:{port}",
                "--control-socket", str(d / "control.sock"), "--backlog", str(BACKLOG),
                "-k", self.worker_class, "--chdir", str(appdir), spec]
        proc = self._spawn(ctx, argv)
        proc.control_socket = d / "control.sock"  # type: ignore[attr-defined]
        return proc

    def version(self, ctx: Context) -> str:
        lib = self.worker_class
        return super().version(ctx) + f", -k {lib} ({lib} " + \
            _out([PYTHON, "-c", f"import {lib}; print({lib}.__version__)"]) + ")"


def snapshot_build(build: Path, dest: Path, wait_s: float = 120.0) -> Path:
    """Copies the binaries the bench runs (arbiterd finds gworker next to
    itself) out of a build dir that others may rebuild during the run, once
    no file of them changed for 3 s; returns the copy's build dir."""
    names = [build / "bin" / n for n in ("arbiterd", "gworker", "gctl")]
    lib = find_libhello(build)
    files = [p for p in names + ([lib.resolve()] if lib else []) if p.is_file()]
    stamp = lambda: [(p.stat().st_mtime, p.stat().st_size) for p in files]  # noqa: E731
    out = dest / "build-snapshot"
    deadline = time.monotonic() + wait_s
    while True:
        before = stamp()
        if time.time() - max((m for m, _ in before), default=0) >= 3.0:
            shutil.rmtree(out, ignore_errors=True)
            (out / "bin").mkdir(parents=True)
            for p in files[:len(files) - (1 if lib else 0)]:
                shutil.copy2(p, out / "bin" / p.name)
            if lib:
                (out / "examples" / "native").mkdir(parents=True)
                shutil.copy2(lib.resolve(), out / "examples" / "native" / "libhello.so")
            if stamp() == before:
                return out
        if time.monotonic() > deadline:
            raise RuntimeError(f"{build} kept changing for {wait_s:.0f} s")
        time.sleep(1.0)


def build_revision(build: Path, binaries: Optional[Path] = None) -> str:
    """The source tree the build dir was configured from (its git revision
    now) and when gworker was built: the build may be older than the tree."""
    source = None
    binaries = binaries or build
    try:
        for line in (build / "CMakeCache.txt").read_text(errors="replace").splitlines():
            if line.startswith("CMAKE_HOME_DIRECTORY:"):
                source = line.split("=", 1)[1].strip()
    except OSError:
        pass
    rev = _out(["git", "-C", source, "describe", "--always", "--dirty"]) if source else "unknown"
    try:
        built = time.strftime("%Y-%m-%d %H:%M UTC",
                              time.gmtime((binaries / "bin" / "gworker").stat().st_mtime))
    except OSError:
        built = "not built"
    return f"{source or build} at {rev} now, gworker built {built}"


def all_servers() -> List[Server]:
    return [Gunicorn("sync"), Gunicorn("gthread", threads=4), Gunicorn("gevent"), UWSGI(),
            UWSGI(cheaper_algo="busyness"),
            Nginx(), Greenfork(), Greenfork(threads=GTHREADS), Greenfork(native=True),
            Uvicorn(), GreenforkAsgi(),
            Gunicorn("eventlet", green_only=True), GreenforkGreen("gevent"), GreenforkGreen("eventlet")]
