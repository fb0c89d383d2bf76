# _greenfork_green: WSGI (PEP 3333) on gevent or eventlet green threads.
#
# gworker's I/O thread owns the sockets; it hands each request to this
# module's dispatcher through gf_asgi's EventQueue (an eventfd the hub
# watches: one wake-up per batch). The dispatcher, on the hub, hands each
# request to a green thread (up to --worker-connections of them, each
# serving one request after another); the app's blocking calls
# (wsgi.input reads, response writes) post one operation to the I/O thread
# and wait on a library Event that the operation's acknowledgement sets, so
# only that green thread waits, never the hub.
#
#   patch("gevent")                       main thread, before the app import
#   configure("gevent", 1000)             pool size
#   serve(app, efd, "", "")               the loop thread's whole life
#
# The hub side (the library adapters, the dispatcher, serve) is in
# green_hub.py, appended to this file into one module at build time.
import collections
import traceback

DEBUG, INFO, WARNING, ERROR = 0, 1, 2, 3
# WSGI has no WebSocket scope: the engine hands an upgrade request to the
# app as a plain request (Gunicorn's gevent worker does the same).
WEBSOCKETS = False
# Nor a way to tell the app the client left (Cycle.disconnected): the
# engine need not watch the client while the app runs.
DISCONNECT = False
BODY_CHUNK = 1 << 20
JOIN_LIMIT = 1 << 20  # a list/tuple response up to this size goes in one write

_lib = None
_kind = "gevent"
_hooks = (False, False)  # the --config file's pre_request, post_request
_connections = 1000
native = None
gnative = None
_getcurrent = _GreenletExit = _Context = None


def patch(kind):
    """The library's monkey patching, as Gunicorn's GeventWorker and
    EventletWorker do it, before the app is imported."""
    if kind == "gevent":
        from gevent import monkey
        monkey.patch_all()
    elif kind == "eventlet":
        import eventlet
        eventlet.monkey_patch()
    else:
        raise ValueError("unknown green worker class %r" % kind)


def configure(kind, connections):
    global _kind, _connections
    _kind, _connections = kind, connections


def _format(exc):
    return "".join(traceback.format_exception(exc)).rstrip("\n")


class ClientGone(OSError):
    """The client went away: the response cannot be completed."""


class Cycle:
    """One request: its wsgi.input, start_response and the response. One
    posted operation at a time (`event` is its acknowledgement)."""

    __slots__ = ("h", "event", "ok", "gone", "status", "headers", "started", "complete",
                 "buf", "eof", "sent")

    def __init__(self, h):
        self.h = h
        self.event = None
        self.ok = True
        self.gone = False
        self.status = None
        self.headers = None
        self.started = False
        self.complete = False
        self.buf = b""
        self.eof = False
        self.sent = 0  # body bytes handed to the engine (post_request's resp.sent)

    # ---- events from the I/O thread (the dispatcher green thread) ----
    def io_done(self, ok):
        self.ok = ok
        if not ok:
            self.gone = True
        event, self.event = self.event, None
        if event is not None:
            _lib.set(event)

    def disconnected(self):
        # WSGI has no way to tell the app. The response is still written:
        # a client that only half-closed gets it (as under -k sync), and
        # one that is gone fails the next write (io_done not ok).
        pass

    # ---- posted operations ----
    def _post(self, fn, arg=None):
        while self.event is not None:  # another green thread's operation
            self.event.wait()
        if self.gone:
            return False
        event = self.event = _lib.new_event()
        if arg is None:
            fn()
        else:
            fn(arg)
        event.wait()
        return self.ok

    # ---- the response ----
    def start_response(self, status, headers, exc_info=None):
        if exc_info is not None:
            try:
                if self.started:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("start_response() called twice without exc_info")
        if type(status) is not str:
            raise TypeError("status must be a str, not %s" % type(status).__name__)
        if type(headers) is not list:
            raise TypeError("headers must be a list, not %s" % type(headers).__name__)
        self.status = status
        self.headers = headers
        return self.write

    def _start(self):
        if self.status is None:
            raise AssertionError("the WSGI app returned a body before calling start_response()")
        gnative.start(self.h, self.status, self.headers)
        self.started = True

    def write(self, data):
        """start_response()'s write(), and each block of a streamed body."""
        if type(data) is not bytes:
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError("WSGI body blocks must be bytes, not %s" % type(data).__name__)
            data = bytes(data)
        if self.complete:
            raise RuntimeError("the response is already complete")
        if self.gone:
            raise ClientGone("the client went away")
        if not self.started:
            self._start()
        if data and not self._post(self.h.send, data):
            raise ClientGone("the client went away")
        self.sent += len(data)

    def finish(self, data=b""):
        while self.event is not None:
            self.event.wait()
        if self.gone:
            raise ClientGone("the client went away")
        if not self.started:
            self._start()
        self.complete = True
        self.sent += len(data)
        self.h.finish(data)

    def send_result(self, result):
        if type(result) in (list, tuple):
            size = 0
            for block in result:
                if type(block) is not bytes:
                    break
                size += len(block)
            else:
                if size <= JOIN_LIMIT:
                    self.finish(result[0] if len(result) == 1 else b"".join(result))
                    return
        for block in result:
            if block:
                self.write(block)
            elif type(block) is not bytes and not isinstance(block, (bytearray, memoryview)):
                raise TypeError("WSGI body blocks must be bytes, not %s" % type(block).__name__)
        self.finish()

    def close_failed(self):
        """500 when nothing was sent yet, else the connection is closed."""
        while self.event is not None:
            self.event.wait()
        if self.complete:
            return
        self.complete = True
        if self.started:
            self.h.abort()
        else:
            self.h.fail()

    # ---- wsgi.input ----
    def fill(self):
        """More body bytes into buf; False at the end of the body."""
        while not self.eof:
            try:
                data, end = self.h.take_body(BODY_CHUNK)
            except ConnectionError as exc:
                self.gone = True
                raise ClientGone(str(exc)) from None
            self.eof = end
            if data:
                self.buf = self.buf + data if self.buf else data
                return True
            if end:
                break
            if self.complete or not self._post(self.h.want_body):
                raise ClientGone("the client went away")
        return False


class Input:
    """wsgi.input: read(), readline(), readlines(), iteration (PEP 3333)."""

    __slots__ = ("c",)

    def __init__(self, cycle):
        self.c = cycle

    def read(self, size=-1):
        c = self.c
        if size is None or size < 0:
            while c.fill():
                pass
            data, c.buf = c.buf, b""
            return data
        while len(c.buf) < size and c.fill():
            pass
        data, c.buf = c.buf[:size], c.buf[size:]
        return data

    def readline(self, size=-1):
        c = self.c
        start = 0
        while True:
            at = c.buf.find(b"\n", start)
            if at >= 0:
                end = at + 1
                break
            if size is not None and 0 <= size <= len(c.buf):
                end = size
                break
            start = len(c.buf)
            if not c.fill():
                end = len(c.buf)
                break
        if size is not None and 0 <= size < end:
            end = size
        data, c.buf = c.buf[:end], c.buf[end:]
        return data

    def readlines(self, hint=-1):
        lines, total = [], 0
        while True:
            line = self.readline()
            if not line:
                return lines
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line


def _declared_length(headers):
    for name, value in headers or ():
        if name.lower() == "content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _handle(app, cycle):
    try:
        environ = gnative.environ(cycle.h, Input(cycle))
    except Exception as exc:
        native.log(ERROR, "Cannot build the WSGI environ\n" + _format(exc))
        cycle.close_failed()
        return
    # Gunicorn's order: pre_request, the app, post_request (also after a
    # failure); a raising pre_request fails the request like the app.
    req = gnative.make_request(cycle.h) if _hooks[0] or _hooks[1] else None
    result = None
    try:
        if req is not None and _hooks[0]:
            gnative.pre_request(req)
        result = app(environ, cycle.start_response)
        cycle.send_result(result)
    except BaseException as exc:
        if not (cycle.gone and isinstance(exc, OSError)):
            native.log(ERROR, "Error handling request %s\n%s" % (
                environ.get("RAW_URI", ""), _format(exc)))
        cycle.close_failed()
        if not isinstance(exc, Exception):
            raise
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            try:
                close()
            except Exception as exc:
                native.log(ERROR, "Error closing the WSGI response\n" + _format(exc))
        if req is not None and _hooks[1]:
            started = cycle.started
            gnative.post_request(req, environ, cycle.status if started else None,
                                 cycle.headers if started else None, cycle.sent,
                                 _declared_length(cycle.headers) if started else None)
