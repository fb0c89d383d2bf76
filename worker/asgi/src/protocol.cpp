#include "protocol.hpp"

#include <string>

namespace greenfork::asgi {
namespace {

constexpr const char* kSource = R"PY(
import asyncio
import os
import traceback

import _greenfork_asgi_native as native

DEBUG, INFO, WARNING, ERROR = 0, 1, 2, 3
BODY_CHUNK = 1 << 20
SEND_AHEAD = 256 * 1024

_app = None
_loop = None
_state = {}
_tasks = set()


class ClientDisconnected(OSError):
    """send() after the client went away (ASGI spec_version 2.4)."""


def _format(exc):
    return "".join(traceback.format_exception(exc)).rstrip("\n")


class Cycle:
    """One HTTP request/response. At most one posted operation (a body read
    or a body write) is outstanding: `op` is its future."""

    __slots__ = ("h", "op", "waiter", "gone", "body_done", "started", "complete",
                 "streamed", "trailers", "body_sent", "trailer_fields", "ahead", "ahead_bytes")

    def __init__(self, h):
        self.h = h
        self.op = None
        self.waiter = None  # a receive() waiting for the client to go
        self.gone = False
        self.body_done = False
        self.started = False
        self.complete = False
        self.streamed = False  # body bytes were sent
        self.trailers = False  # http.response.start said trailers: True
        self.body_sent = False  # ... and the body is over: trailers come next
        self.trailer_fields = None
        # Body blocks the app sent while a write was outstanding: posted as
        # one write when it completes; the app waits only past SEND_AHEAD.
        self.ahead = []
        self.ahead_bytes = 0

    # ---- events from the I/O thread ----
    def io_done(self, ok):
        fut, self.op = self.op, None
        if not ok:
            self.gone = True
            self.ahead.clear()
            self._wake()
        if fut is not None and not fut.done():
            fut.set_result(ok)
        if self.ahead and self.op is None:
            self._send_ahead()

    def _send_ahead(self):
        data = self.ahead[0] if len(self.ahead) == 1 else b"".join(self.ahead)
        self.ahead.clear()
        self.ahead_bytes = 0
        self.op = _loop.create_future()
        self.h.send(data)

    def disconnected(self):
        self.gone = True
        self._wake()

    def _wake(self):
        w, self.waiter = self.waiter, None
        if w is not None and not w.done():
            w.set_result(None)

    # ---- posted operations ----
    async def _idle(self):
        """Until no write is outstanding or waiting (a completed write
        posts what waited behind it)."""
        while self.op is not None:
            await asyncio.shield(self.op)

    async def _post(self, fn, arg=None):
        if self.op is not None:
            await self._idle()
        if self.gone or self.complete:
            return False
        fut = self.op = _loop.create_future()
        if arg is None:
            fn()
        else:
            fn(arg)
        return await asyncio.shield(fut)

    # ---- the app's receive and send ----
    async def receive(self):
        while not (self.body_done or self.gone or self.complete):
            if self.op is not None:
                await self._idle()
                continue
            try:
                data, end = self.h.take_body(BODY_CHUNK)
            except ConnectionError:
                self.gone = True
                break
            if data or end:
                self.body_done = end
                return {"type": "http.request", "body": data, "more_body": not end}
            if not await self._post(self.h.want_body):
                break
        # The body is read: the next message is the client leaving (or the
        # response being complete, when nothing more can happen).
        while not (self.gone or self.complete):
            if self.waiter is None:
                self.waiter = _loop.create_future()
            await asyncio.shield(self.waiter)
        return {"type": "http.disconnect"}

    async def send(self, message):
        kind = message["type"]
        if kind == "http.response.start":
            if self.started:
                raise RuntimeError("Unexpected ASGI message 'http.response.start' sent, "
                                   "after response already started.")
            if self.gone:
                raise ClientDisconnected("the client went away")
            headers = message.get("headers") or ()
            status = message["status"]
            if isinstance(status, int) and 100 <= status < 200:
                raise ValueError("http.response.start: %d is not a final status" % status)
            self.h.start(status, headers)
            self.started = True
            self.trailers = bool(message.get("trailers", False))
            if self.trailers:
                for name, value in headers:
                    if name.lower() == b"trailer":
                        self.h.declare_trailers(value)
        elif kind == "http.response.body":
            if not self.started:
                raise RuntimeError("Unexpected ASGI message 'http.response.body' sent, "
                                   "before 'http.response.start'.")
            if self.complete or self.body_sent:
                raise RuntimeError("Unexpected ASGI message 'http.response.body' sent, "
                                   "after response already completed.")
            if self.gone:
                raise ClientDisconnected("the client went away")
            body = message.get("body", b"")
            if not isinstance(body, (bytes, bytearray, memoryview)):
                raise TypeError("http.response.body 'body' must be bytes, not %s"
                                % type(body).__name__)
            if message.get("more_body", False) or self.trailers:
                self.streamed = self.streamed or bool(body)
                if body:
                    # Handed over without waiting for the write (the app
                    # goes on, as with uvicorn's transport.write()), unless
                    # SEND_AHEAD bytes already wait behind it.
                    self.ahead.append(bytes(body))
                    self.ahead_bytes += len(body)
                    if self.op is None:
                        self._send_ahead()
                    while self.ahead_bytes > SEND_AHEAD and not self.gone:
                        await self._idle()
                    if self.gone:
                        raise ClientDisconnected("the client went away")
                if not message.get("more_body", False):
                    self.body_sent = True  # http.response.trailers completes it
            else:
                if self.op is not None:
                    await self._idle()
                if self.gone:
                    raise ClientDisconnected("the client went away")
                self.complete = True
                self.h.finish(body)
                self._wake()
        elif kind == "http.response.early_hint" or kind == "http.response.informational":
            await self._early_hint(message)
        elif kind == "http.response.pathsend":
            await self._pathsend(message)
        elif kind == "http.response.trailers":
            if not self.trailers or not self.body_sent or self.complete:
                raise RuntimeError("Unexpected ASGI message 'http.response.trailers' sent, %s." % (
                    "without 'trailers': True in 'http.response.start'" if not self.trailers
                    else "after response already completed" if self.complete
                    else "before the response body was complete"))
            if self.trailer_fields is None:
                self.trailer_fields = []
            self.trailer_fields.extend(message.get("headers") or ())
            if not message.get("more_trailers", False):
                await self._idle()
                if self.gone:
                    raise ClientDisconnected("the client went away")
                self.h.finish_trailers(self.trailer_fields)
                self.complete = True
                self._wake()
        else:
            raise RuntimeError("Unexpected ASGI message '%s' sent." % kind)

    async def _early_hint(self, message):
        """103 Early Hints: the ASGI extension's {"links": [bytes]} or
        Gunicorn's http.response.informational {"status": 103, "headers"}.
        Nothing is sent to HTTP/1.0 clients."""
        kind = message["type"]
        if kind == "http.response.informational":
            if message.get("status") != 103:
                raise RuntimeError("Unexpected ASGI message 'http.response.informational' sent: "
                                   "only status 103 is supported.")
            headers = message.get("headers") or ()
        else:
            links = message.get("links")
            if links is None or isinstance(links, (bytes, str)):
                raise RuntimeError("ASGI message 'http.response.early_hint' needs 'links', "
                                   "a list of bytes.")
            headers = [(b"link", link) for link in links]
        if self.started:
            raise RuntimeError("Unexpected ASGI message '%s' sent, after response already "
                               "started." % kind)
        if self.gone:
            raise ClientDisconnected("the client went away")
        if self.op is not None:
            await self._idle()
        if self.h.early_hints(headers):
            fut = self.op = _loop.create_future()
            if not await asyncio.shield(fut):
                raise ClientDisconnected("the client went away")

    async def _pathsend(self, message):
        """The body is a file, sent by sendfile on the I/O thread."""
        if not self.started or self.complete or self.body_sent or self.streamed:
            raise RuntimeError("Unexpected ASGI message 'http.response.pathsend' sent, %s." % (
                "before 'http.response.start'" if not self.started
                else "after body bytes or a completed response"))
        path = message["path"]
        if not isinstance(path, str) or not os.path.isabs(path):
            raise ValueError("http.response.pathsend: 'path' must be an absolute path, not %r"
                             % (path,))
        if self.gone:
            raise ClientDisconnected("the client went away")
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            size = os.fstat(fd).st_size
            ok = await self._post(lambda: self.h.pathsend(fd, size))
        except BaseException:
            if self.op is not None:  # cancelled: the I/O thread may still read fd
                self.op.add_done_callback(lambda _: os.close(fd))
                fd = -1
            raise
        finally:
            if fd >= 0:
                os.close(fd)  # the op completed: the I/O thread is done with it
        if not ok:
            raise ClientDisconnected("the client went away")
        if self.trailers:
            self.body_sent = True
            return
        self.complete = True
        self.h.finish(b"")
        self._wake()

    async def close_failed(self):
        """The app ended without a complete response: 500 before
        http.response.start, a closed connection after it."""
        if self.op is not None:
            await self._idle()
        if self.complete:
            return
        self.complete = True
        if self.started:
            self.h.abort()
        else:
            self.h.fail()
        self._wake()


async def _run(cycle, scope):
    try:
        await _app(scope, cycle.receive, cycle.send)
    except BaseException as exc:
        if not (cycle.gone and isinstance(exc, OSError)):
            native.log(ERROR, "Exception in ASGI application\n" + _format(exc))
        await cycle.close_failed()
        if not isinstance(exc, Exception):
            raise
        return
    if not cycle.complete:
        if not cycle.gone:
            native.log(ERROR, "ASGI callable returned without %s response." %
                       ("completing" if cycle.started else "starting"))
        await cycle.close_failed()


def _done(task):
    _tasks.discard(task)


def _submit(h):
    try:
        scope = h.scope(_state)
    except Exception as exc:
        native.log(ERROR, "Cannot build the ASGI scope\n" + _format(exc))
        h.fail()
        return
    cycle = h.owner = Cycle(h)
    task = _loop.create_task(_run(cycle, scope))
    _tasks.add(task)
    task.add_done_callback(_done)


def _drain():
    for kind, h, ok in native.take_events():
        if kind == 0:
            _submit(h)
        elif kind == 1:
            h.owner.io_done(ok)
        elif kind == 2:
            h.owner.disconnected()
        elif kind == 4:
            _ws_connect(h)
        elif kind == 5:
            if h.owner is not None:
                h.owner.wake()
        else:
            task = _loop.create_task(_stop())
            _tasks.add(task)


_lifespan = None


async def _stop():
    try:
        if _lifespan is not None:
            await _lifespan.shutdown()
            await _lifespan.cancel()
    finally:
        _loop.stop()


def _make_loop(kind):
    if kind in ("auto", "uvloop"):
        try:
            import uvloop
        except ImportError:
            if kind == "uvloop":
                raise RuntimeError("--asgi-loop uvloop: uvloop is not installed") from None
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


def serve(app, efd, loop_kind, lifespan_mode):
    global _app, _loop, _lifespan
    _app = _single_callable(app)
    try:
        _loop = _make_loop(loop_kind)
    except Exception as exc:
        native.started(False, str(exc))
        return
    asyncio.set_event_loop(_loop)
    try:
        if lifespan_mode != "off":
            _lifespan = Lifespan(lifespan_mode)
            ok, message = _loop.run_until_complete(_lifespan.startup())
            if not ok:
                _loop.run_until_complete(_lifespan.cancel())
                native.started(False, message)
                return
        _loop.add_reader(efd, _drain)
        native.log(DEBUG, "ASGI loop: %s.%s" % (type(_loop).__module__, type(_loop).__name__))
        native.started(True, "")
        _loop.run_forever()
        for task in list(_tasks):
            task.cancel()
        if _tasks:
            _loop.run_until_complete(asyncio.gather(*_tasks, return_exceptions=True))
    finally:
        _loop.close()
)PY";

PyObject* g_module = nullptr;
// The source of the module: the HTTP part, then the lifespan, WebSocket
// and ASGI 2 parts.
std::string module_source() {
  return std::string(kSource) + kLifespanSource + kWebSocketSource + kAsgi2Source;
}

}  // namespace

PyObject* protocol_module() {
  if (g_module) return g_module;
  wsgi::PyRef code(Py_CompileString(module_source().c_str(), "<greenfork/asgi/protocol>", Py_file_input));
  if (!code) return nullptr;
  g_module = PyImport_ExecCodeModule("_greenfork_asgi", code.get());
  return g_module;
}

}  // namespace greenfork::asgi
