// ASGI 2 ("double callable") apps, appended to protocol.cpp's module source:
// serve() wraps the app with _single_callable() before anything calls it.
#include "protocol.hpp"

namespace greenfork::asgi {

const char* const kAsgi2Source = R"PY(

import inspect as _inspect


def _single_callable(app):
    """The app as an ASGI 3 callable. An ASGI 2 app (a class without
    __await__, or a plain callable of the scope alone, which returns the
    instance to await with receive and send) is wrapped, as uvicorn's
    --interface auto does; anything that may be ASGI 3 is left alone (the
    spec's "Legacy Applications": the server knows which it calls)."""
    if _inspect.isclass(app):
        if hasattr(app, "__await__"):
            return app
    elif (_inspect.iscoroutinefunction(app)
          or _inspect.iscoroutinefunction(getattr(app, "__call__", None))):
        return app
    else:
        try:
            params = list(_inspect.signature(app).parameters.values())
        except (TypeError, ValueError):
            return app
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        if len(positional) != 1 or any(p.kind == p.VAR_POSITIONAL for p in params):
            return app

    async def asgi3(scope, receive, send):
        instance = app(scope)
        await instance(receive, send)

    native.log(DEBUG, "ASGI 2 application: called as app(scope)(receive, send)")
    return asgi3

)PY";

}  // namespace greenfork::asgi
