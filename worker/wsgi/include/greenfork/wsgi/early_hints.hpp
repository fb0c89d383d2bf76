// environ["wsgi.early_hints"](headers): Gunicorn 25's callable for 103
// Early Hints (RFC 8297). `headers` is a list of (name, value) str tuples,
// e.g. [("Link", "</style.css>; rel=preload; as=style")]; the 103 goes out
// at once over HTTP/1.1. A bad name or value (CR, LF, NUL, not a token)
// raises ValueError and sends nothing; for an HTTP/1.0 client, over uwsgi,
// or once the response has started, the call does nothing (Gunicorn's
// behaviour). One object per app thread, reused while nobody else holds it.
#pragma once

#include "greenfork/wsgi/py.hpp"

#include "greenfork/wsgi/app_call.hpp"

namespace greenfork::wsgi {

bool early_hints_init_type();
// New reference, detached.
PyObject* early_hints_new();
// exchange == nullptr: detached (a call raises RuntimeError).
void early_hints_attach(PyObject* early_hints, AppCall* exchange);

}  // namespace greenfork::wsgi
