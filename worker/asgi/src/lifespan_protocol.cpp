// The ASGI lifespan protocol, appended to protocol.cpp's module source (it
// uses that module's _app, _loop, native, _format and log levels; serve()
// and _stop() there drive it).
#include "protocol.hpp"

namespace greenfork::asgi {

const char* const kLifespanSource = R"PY(

class Lifespan:
    """The lifespan protocol with uvicorn's --lifespan meanings: auto runs
    it and goes on without it if the app raises before startup completes;
    on makes that fatal; a startup.failed message is fatal in both."""

    def __init__(self, mode):
        self.mode = mode
        self.queue = asyncio.Queue()
        self.startup_done = _loop.create_future()
        self.shutdown_done = _loop.create_future()
        self.failed_message = None
        self.error = None
        self.task = None

    async def receive(self):
        return await self.queue.get()

    async def send(self, message):
        kind = message["type"]
        if kind in ("lifespan.startup.complete", "lifespan.startup.failed"):
            if self.startup_done.done():
                raise RuntimeError("Unexpected ASGI message '%s' sent." % kind)
            if kind.endswith("failed"):
                self.failed_message = message.get("message", "") or "lifespan.startup.failed"
            self.startup_done.set_result(None)
        elif kind in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            if not self.startup_done.done() or self.shutdown_done.done():
                raise RuntimeError("Unexpected ASGI message '%s' sent." % kind)
            if kind.endswith("failed"):
                self.failed_message = message.get("message", "") or "lifespan.shutdown.failed"
            self.shutdown_done.set_result(None)
        else:
            raise RuntimeError("Unexpected ASGI message '%s' sent." % kind)

    async def main(self):
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"},
                 "state": _state}
        try:
            await _app(scope, self.receive, self.send)
        except BaseException as exc:
            self.error = exc
            if self.failed_message is None:
                if self.mode == "auto" and not self.startup_done.done():
                    native.log(INFO, "ASGI 'lifespan' protocol appears unsupported.")
                else:
                    native.log(ERROR, "Exception in 'lifespan' protocol\n" + _format(exc))
        finally:
            for fut in (self.startup_done, self.shutdown_done):
                if not fut.done():
                    fut.set_result(None)

    async def startup(self):
        """(ok, message)"""
        self.task = _loop.create_task(self.main())
        await self.queue.put({"type": "lifespan.startup"})
        await self.startup_done
        if self.failed_message is not None:
            return False, "Application startup failed: " + self.failed_message
        if self.error is not None and self.mode == "on":
            return False, "Application startup failed: %s: %s" % (
                type(self.error).__name__, self.error)
        if self.error is None:
            native.log(INFO, "Application startup complete.")
        return True, ""

    async def shutdown(self):
        if self.error is not None:
            return
        await self.queue.put({"type": "lifespan.shutdown"})
        await self.shutdown_done
        if self.failed_message is not None:
            native.log(ERROR, "Application shutdown failed: " + self.failed_message)
        elif self.error is not None:
            native.log(ERROR, "Application shutdown failed.")
        else:
            native.log(INFO, "Application shutdown complete.")

    async def cancel(self):
        if self.task is not None and not self.task.done():
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

)PY";

}  // namespace greenfork::asgi
