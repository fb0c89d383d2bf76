"""-k tornado: a tornado.web.Application, a factory of one, or a WSGI app
through tornado.wsgi.WSGIContainer, on Tornado's HTTPServer. Run by
driver.py (module _greenfork_frameworks)."""

import asyncio
import inspect

import _gworker_fw as _fw
from _greenfork_frameworks import AppLoadError, BootError, listening_sockets, load_object, log


def tracked_server_class():
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
            if self.tracker.worker.access_log:
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
                    list(headers.get_all()) if self.tracker.worker.access_log else (), self.headers,
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


async def serve(worker, spec, fds):
    try:
        server_class = tracked_server_class()
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
