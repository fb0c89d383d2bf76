"""gworker's framework-native workers: -k aiohttp and -k tornado.

The app is served by the framework's own HTTP server on the listening
sockets gworker inherited, on one asyncio loop. gworker (C++) keeps the
worker contract around it through _gworker_fw (framework_state.hpp): this
module ticks the loop's liveness, reports requests in flight and served
(the access log is written by gworker's formatter), says ready once the
server is accepting, and stops on b"T" from the signal pipe (TERM): stop
accepting, let in-flight requests finish within graceful_timeout, exit 0.
"""

import ast
import asyncio
import importlib
import inspect
import logging
import os
import socket
import sys

import _greenfork_log
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
    """Gunicorn's module:expression; the expression is a name, an
    attribute chain, or a call of one with literal arguments."""
    module_name, _, expr = spec.partition(":")
    expr = expr or "application"
    if not module_name:
        raise AppLoadError(f"bad app spec {spec!r}: expected module:variable")
    try:
        node = ast.parse(expr.strip(), mode="eval").body
    except SyntaxError:
        raise AppLoadError(f"bad app spec {spec!r}: {expr!r} is not a name, "
                           "an attribute or a call") from None
    call = None
    if isinstance(node, ast.Call):
        try:
            call = ([ast.literal_eval(a) for a in node.args],
                    {k.arg: ast.literal_eval(k.value) for k in node.keywords})
        except ValueError:
            raise AppLoadError(f"bad app spec {spec!r}: the arguments of "
                               "the call must be literals") from None
        node = node.func
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise AppLoadError(f"bad app spec {spec!r}: {expr!r} is not a name, "
                           "an attribute or a call")
    names.append(node.id)
    try:
        obj = importlib.import_module(module_name)
    except Exception as e:
        log.exception("Failed to import %s", module_name)
        raise AppLoadError(f"Failed to import {module_name!r}: "
                           f"{type(e).__name__}: {e}") from None
    for name in reversed(names):
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


def listening_sockets(fds):
    """The inherited sockets, duplicated: the framework closes its copies
    when it stops accepting; gworker's (and arbiterd's) stay open."""
    socks = []
    for fd in fds:
        s = socket.socket(fileno=os.dup(fd))
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


# ---- aiohttp ---------------------------------------------------------------

async def aiohttp_app(obj, spec):
    """An Application, or a factory (plain or coroutine) returning one, as
    aiohttp's GunicornWebWorker takes it."""
    from aiohttp import web
    if inspect.isawaitable(obj):
        obj = await obj
    if isinstance(obj, web.Application):
        return obj
    if callable(obj) and not isinstance(obj, type):
        try:
            result = obj()
            if inspect.isawaitable(result):
                result = await result
        except Exception as e:
            log.exception("The app factory %s failed", spec)
            raise AppLoadError(f"{spec} raised {type(e).__name__}: {e}") from None
        if isinstance(result, web.Application):
            return result
        raise AppLoadError(f"{spec} returned {type(result).__name__}, "
                           "not an aiohttp.web.Application")
    raise AppLoadError(f"{spec} is {type(obj).__name__}, not an "
                       "aiohttp.web.Application or a factory returning one")


async def serve_aiohttp(worker, spec, fds):
    try:
        from aiohttp import web
        from aiohttp.abc import AbstractAccessLogger
    except ImportError as e:
        raise BootError(f"-k aiohttp needs aiohttp (Debian: python3-aiohttp): {e}") from None
    app = await aiohttp_app(load_object(spec), spec)

    @web.middleware
    async def in_flight(request, handler):
        token = _fw.begin()
        try:
            return await handler(request)
        finally:
            _fw.end(token)

    async def count_body(request, response):
        if worker.draining:
            # aiohttp has chosen the head's keep-alive before this hook
            # runs: say close here too, or the client would reuse a
            # connection the server closes after this response.
            response.force_close()
            response.headers["Connection"] = "close"
        # The body bytes the app hands over (Gunicorn's %(b)s): aiohttp's
        # own body_length also counts the head and chunk framing.
        writer = response._payload_writer
        counted = request["_greenfork_body_bytes"] = [0]
        write, write_eof = writer.write, writer.write_eof

        async def counting_write(chunk, *args, **kwargs):
            counted[0] += len(chunk)
            return await write(chunk, *args, **kwargs)

        async def counting_write_eof(chunk=b""):
            counted[0] += len(chunk)
            return await write_eof(chunk)
        writer.write, writer.write_eof = counting_write, counting_write_eof

    if app.frozen:
        raise AppLoadError(f"{spec}: the application is already frozen (started elsewhere)")
    app.middlewares.insert(0, in_flight)
    app.on_response_prepare.append(count_body)

    class AccessLogger(AbstractAccessLogger):
        def log(self, request, response, time):
            counted = request.get("_greenfork_body_bytes")
            worker.served(request.remote, request.method, request.raw_path,
                          request.version.minor, response.status,
                          counted[0] if counted else (response.content_length or 0),
                          list(request.raw_headers), list(response.headers.items()),
                          time)

    grace = worker.opts["graceful_timeout"]
    runner = web.AppRunner(app, handle_signals=False,
                           access_log=logging.getLogger("aiohttp.access"),
                           access_log_class=AccessLogger,
                           keepalive_timeout=worker.opts["keep_alive"])
    try:
        await runner.setup()  # on_startup
    except Exception as e:
        log.exception("The app's startup failed")
        raise AppLoadError(f"{spec}: startup failed: {type(e).__name__}: {e}") from None
    sites = [web.SockSite(runner, s, shutdown_timeout=grace * 0.95)
             for s in listening_sockets(fds)]
    for site in sites:
        await site.start()
    _fw.ready()
    await worker.stop_requested.wait()
    log.info("Worker stopping (%s)", worker.stop_reason)
    # Stop accepting on every socket first (cleanup() goes site by site),
    # then let open requests finish: aiohttp closes idle keep-alive
    # connections and waits for busy ones up to the timeout.
    for site in sites:
        server = getattr(site, "_server", None)
        if server is not None:
            server.close()
    worker.draining = True
    deadline = worker.deadline()
    # asyncio registers a just-accepted connection a few loop turns later;
    # let those arrive before counting.
    await asyncio.sleep(0.1)
    while runner.server.connections and worker.loop.time() < deadline:
        await asyncio.sleep(0.05)
    await runner.cleanup()
    return 0


# ---- tornado ---------------------------------------------------------------

def serve_tornado_classes():
    from tornado import httputil
    from tornado.httpserver import HTTPServer

    class RequestSpy(httputil.HTTPMessageDelegate):
        """Around the app's delegate for one request: sees its head and
        its end; ResponseSpy (the connection it writes to) its status and
        bytes."""

        def __init__(self, inner, conn, tracker):
            self.inner, self.conn, self.tracker = inner, conn, tracker
            self.token = None

        def headers_received(self, start_line, headers):
            self.token = _fw.begin()
            self.conn.request = (start_line, headers, self.tracker.worker.loop.time())
            self.conn.on_done = self.done
            return self.inner.headers_received(start_line, headers)

        def data_received(self, chunk):
            return self.inner.data_received(chunk)

        def finish(self):
            return self.inner.finish()

        def on_connection_close(self):
            self.done()
            return self.inner.on_connection_close()

        def done(self):
            if self.token is not None:
                _fw.end(self.token)
                self.token = None

    class ResponseSpy:
        """Tornado's HTTP1Connection for one request, passed through."""

        def __init__(self, inner, server_conn, tracker):
            self._inner, self.server_conn, self.tracker = inner, server_conn, tracker
            self.request = None
            self.on_done = None
            self.status, self.headers, self.nbytes = 0, [], 0

        def __getattr__(self, name):
            return getattr(self._inner, name)

        def write_headers(self, start_line, headers, chunk=None):
            if self.tracker.worker.draining:
                # Read before stopping, answered after: close once done
                # (HTTP1Connection then says Connection: close).
                self._inner._disconnect_on_finish = True
            self.status = start_line.code
            self.headers = list(headers.get_all())
            self.nbytes += len(chunk) if chunk else 0
            return self._inner.write_headers(start_line, headers, chunk)

        def write(self, chunk):
            self.nbytes += len(chunk)
            return self._inner.write(chunk)

        def finish(self):
            self._inner.finish()
            if self.request is not None:
                start_line, headers, started = self.request
                remote = getattr(getattr(self._inner, "context", None), "remote_ip", "")
                minor = 0 if start_line.version == "HTTP/1.0" else 1
                self.tracker.worker.served(
                    remote if isinstance(remote, str) else "", start_line.method,
                    start_line.path, minor, self.status, self.nbytes,
                    list(headers.get_all()), self.headers,
                    self.tracker.worker.loop.time() - started)
            if self.on_done is not None:
                self.on_done()

    class TrackedHTTPServer(HTTPServer):
        def start_request(self, server_conn, request_conn):
            spy = ResponseSpy(request_conn, server_conn, self)
            return RequestSpy(super().start_request(server_conn, spy), spy, self)

    return TrackedHTTPServer


def tornado_app(obj, spec):
    """Gunicorn's TornadoWorker: a tornado.web.Application (or any
    HTTPServerConnectionDelegate) as it is; a WSGI callable through
    tornado.wsgi.WSGIContainer."""
    import tornado.web
    import tornado.wsgi
    from tornado import httputil
    if isinstance(obj, (tornado.web.Application, httputil.HTTPServerConnectionDelegate)):
        return obj
    if callable(obj) and not isinstance(obj, type):
        if takes_no_arguments(obj):
            # app:make_app, a factory (a WSGI app takes two arguments).
            try:
                made = obj()
            except Exception as e:
                log.exception("The app factory %s failed", spec)
                raise AppLoadError(f"{spec} raised {type(e).__name__}: {e}") from None
            if isinstance(made, (tornado.web.Application, httputil.HTTPServerConnectionDelegate)):
                return made
            raise AppLoadError(f"{spec} returned {type(made).__name__}, not a "
                               "tornado.web.Application")
        return tornado.wsgi.WSGIContainer(obj)
    raise AppLoadError(f"{spec} is {type(obj).__name__}, not a tornado.web.Application "
                       "or a WSGI callable")


def takes_no_arguments(fn):
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    try:
        sig.bind({}, None)
        return False
    except TypeError:
        pass
    try:
        sig.bind()
        return True
    except TypeError:
        return False


async def serve_tornado(worker, spec, fds):
    try:
        server_class = serve_tornado_classes()
    except ImportError as e:
        raise BootError(f"-k tornado needs tornado (Debian: python3-tornado): {e}") from None
    app = tornado_app(load_object(spec), spec)
    keep_alive = worker.opts["keep_alive"]
    server = server_class(app, no_keep_alive=keep_alive <= 0,
                          idle_connection_timeout=keep_alive if keep_alive > 0 else None)
    server.worker = worker
    server.add_sockets(listening_sockets(fds))
    _fw.ready()
    await worker.stop_requested.wait()
    log.info("Worker stopping (%s)", worker.stop_reason)
    server.stop()  # no more accepting
    # Requests in flight finish and their connections close; the next
    # request on an idle keep-alive connection is answered with
    # Connection: close, or the idle timeout (--keep-alive) ends it.
    worker.draining = True
    server.conn_params.no_keep_alive = True
    deadline = worker.deadline()
    while server._connections and worker.loop.time() < deadline:
        await asyncio.sleep(0.05)
    if server._connections:
        log.warning("Graceful timeout: closing %d connection(s)", len(server._connections))
    try:
        await asyncio.wait_for(server.close_all_connections(), 1.0)
    except asyncio.TimeoutError:
        pass
    return 0


def run(kind, spec, fds, opts):
    """Serves until stopped; returns the exit code. Raises AppLoadError
    (exit 4) or BootError (exit 3) before the worker is ready."""
    setup_logging(opts["log_level"])
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        worker = Worker(loop, opts)
        serve = serve_aiohttp if kind == "aiohttp" else serve_tornado
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
