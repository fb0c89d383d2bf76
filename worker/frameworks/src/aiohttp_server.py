"""-k aiohttp: an aiohttp.web.Application (or a factory returning one) on
aiohttp's own server (AppRunner, a SockSite per inherited socket). Run by
driver.py (module _greenfork_frameworks)."""

import asyncio
import inspect
import logging

import _gworker_fw as _fw
from _greenfork_frameworks import AppLoadError, BootError, listening_sockets, load_object, log

# Loop turns from an accept to the connection's connection_made (the accept
# task's first step, then the callback it schedules), with one to spare.
ACCEPT_SETTLE_TURNS = 4


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


async def serve(worker, spec, fds):
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
        if not worker.access_log:
            return
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
            if not worker.access_log:  # the counters only
                worker.served("", "", "", 1, response.status, 0, (), (), time)
                return
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
    socks = listening_sockets(fds)
    sites = [web.SockSite(runner, s, shutdown_timeout=grace * 0.95) for s in socks]
    for site in sites:
        await site.start()
    _fw.ready()
    await worker.stop_requested.wait()
    log.info("Worker stopping (%s)", worker.stop_reason)
    # Stop accepting on every socket first (cleanup() goes site by site),
    # then let open requests finish: aiohttp closes idle keep-alive
    # connections and waits for busy ones up to the timeout.
    #
    # Not with Server.close() at once: a connection asyncio accepted in the
    # loop turn before gets its transport a turn later, which a closed
    # Server refuses (the error is swallowed) and the socket, never served,
    # is closed at exit: the client is reset. So the sockets leave the
    # selector first (no more accepts), and the servers are closed once
    # what was accepted has arrived in runner.server.connections.
    for s in socks:
        worker.loop.remove_reader(s.fileno())
    worker.draining = True
    deadline = worker.deadline()
    for _ in range(ACCEPT_SETTLE_TURNS):
        await asyncio.sleep(0)
    for site in sites:
        server = getattr(site, "_server", None)
        if server is not None:
            server.close()
    while runner.server.connections and worker.loop.time() < deadline:
        await asyncio.sleep(0.05)
    for site in sites:  # what is left of graceful_timeout, not all of it again
        site._shutdown_timeout = max(0.1, deadline - worker.loop.time())
    await runner.cleanup()
    return 0
