"""gworker's framework-native workers: -k aiohttp and -k tornado.

The app is served by the framework's own HTTP server on the listening
sockets gworker inherited, on one asyncio loop. gworker (C++) keeps the
worker contract around it through _gworker_fw (framework_state.hpp): this
module ticks the loop's liveness, reports requests in flight and served
(the access log is written by gworker's formatter), says ready once the
server is accepting, and stops on b"T" from the signal pipe (TERM; b"R":
--reload saw a change): stop accepting, let in-flight requests finish
within graceful_timeout, exit 0.
"""

import asyncio
import importlib
import logging
import os
import socket
import sys

import _greenfork_log
import _greenfork_wsgi as _wsgi_helper
import _gworker_fw as _fw

TICK_SECONDS = 0.2


class AppLoadError(Exception):
    """The app could not be loaded or started: gworker exits 4."""


class BootError(Exception):
    """The worker itself cannot run (framework missing): gworker exits 3."""


class ErrorLogHandler(logging.Handler):
    """Python's log records to gworker's error log, in its format."""

    def __init__(self):
        super().__init__()
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record):
        try:
            exc = bool(record.exc_info and record.exc_info[0] is not None)
            _greenfork_log.error(record.levelno, self.format(record), exc)
        except Exception:
            self.handleError(record)


def setup_logging(level):
    root = logging.getLogger()
    root.handlers = [ErrorLogHandler()]
    root.setLevel(level)
    # The access log is gworker's (served() below); the frameworks' own
    # access loggers would say it twice.
    for name in ("tornado.access", "aiohttp.access"):
        logging.getLogger(name).disabled = True


log = logging.getLogger("gunicorn.error")


def load_object(spec):
    """Gunicorn's module:expression (parsed as the WSGI loader does): the
    expression is a name, an attribute chain, or a call of one with
    literal arguments."""
    module_name, _, expr = spec.partition(":")
    expr = expr or "application"
    if not module_name:
        raise AppLoadError(f"bad app spec {spec!r}: expected module:variable")
    try:
        names, args, kwargs = _wsgi_helper.parse_expression(expr)
    except _wsgi_helper.AppLoadError as e:
        raise AppLoadError(f"bad app spec {spec!r}: {e}") from None
    call = (args, kwargs) if args is not None else None
    try:
        obj = importlib.import_module(module_name)
    except Exception as e:
        log.exception("Failed to import %s", module_name)
        raise AppLoadError(f"Failed to import {module_name!r}: "
                           f"{type(e).__name__}: {e}") from None
    for name in names:
        try:
            obj = getattr(obj, name)
        except AttributeError:
            raise AppLoadError(f"Failed to find attribute {name!r} in "
                               f"{module_name!r}") from None
    if call is not None:
        try:
            obj = obj(*call[0], **call[1])
        except Exception as e:
            log.exception("Failed to call %s", spec)
            raise AppLoadError(f"{spec} raised {type(e).__name__}: {e}") from None
    return obj


class ListeningSocket(socket.socket):
    """A socket that already listens, with the backlog of whoever bound it
    (arbiterd's --backlog, or gworker's for -b). asyncio's create_server
    calls listen() again with its own backlog (aiohttp's is 128): on a
    socket shared with arbiterd and the other workers that would shrink
    the accept queue for all of them, so listen() here keeps what is set."""

    def listen(self, backlog=None):
        pass


def listening_sockets(fds):
    """The worker's listening sockets, owned by the framework from here: it
    closes them when it stops accepting (arbiterd keeps its own copies, so
    no connection is refused under it; a gworker that bound -b itself then
    refuses new connections while it drains)."""
    socks = []
    for fd in fds:
        s = ListeningSocket(fileno=fd)
        s.setblocking(False)
        socks.append(s)
    return socks


class Worker:
    """What both frameworks share: the stop request, the tick, the
    --max-requests count, the access log record."""

    def __init__(self, loop, opts):
        self.loop = loop
        self.opts = opts
        self.stop_requested = asyncio.Event()
        # Once stopping: every response says Connection: close. Idle
        # keep-alive connections are not closed at once (their client may
        # have a request on the wire, which a close would reset): it is
        # served with Connection: close, or the keep-alive timeout ends them.
        self.draining = False
        self.stop_reason = ""
        self.max_requests = opts["max_requests"]
        self.access_log = opts["access_log"]  # else served() feeds the counters only
        loop.add_reader(_fw.signal_fd(), self._on_signal)
        self._tick()

    def _tick(self):
        _fw.tick()
        self.loop.call_later(TICK_SECONDS, self._tick)

    def _on_signal(self):
        try:
            data = os.read(_fw.signal_fd(), 64)
        except BlockingIOError:
            return
        if b"T" in data:
            self.stop("TERM")
        elif b"R" in data:  # --reload: a watched file changed
            _fw.stopping()
            self.stop("reload")

    def stop(self, reason):
        if not self.stop_requested.is_set():
            self.stop_reason = reason
            self.stop_requested.set()

    def served(self, remote, method, target, minor, status, nbytes,
               req_headers, resp_headers, seconds):
        try:
            n = _fw.served(remote or "", method, target, minor, status, nbytes,
                           req_headers, resp_headers, seconds)
        except Exception:
            log.exception("access log record failed")
            return
        if self.max_requests and n >= self.max_requests and not self.stop_requested.is_set():
            log.info("Autorestarting worker after current request (max requests %d)",
                     self.max_requests)
            _fw.stopping()
            self.stop("max requests")

    def deadline(self):
        return self.loop.time() + self.opts["graceful_timeout"]


def run(kind, spec, fds, opts):
    """Serves until stopped; returns the exit code. Raises AppLoadError
    (exit 4) or BootError (exit 3) before the worker is ready."""
    setup_logging(opts["log_level"])
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        worker = Worker(loop, opts)
        serve = importlib.import_module(f"_greenfork_fw_{kind}").serve
        return loop.run_until_complete(serve(worker, spec, fds))
    finally:
        try:
            loop.remove_reader(_fw.signal_fd())
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
            sys.stdout.flush()
