"""One WSGI app with a route per gateway behaviour the tests check.

`app` is the plain app; `validated` is the same app wrapped in
wsgiref.validate.validator, which raises on any PEP 3333 violation by the
server (its warnings are errors here too). `create_app(...)` is a factory
for the spec tests.
"""
import hashlib
import json
import os
import sys
import threading
import time
import warnings
import wsgiref.validate

warnings.simplefilter("error", wsgiref.validate.WSGIWarning)

STATS = {"closed": 0, "started": 0, "active": 0, "peak": 0}
_lock = threading.Lock()


class Closing:
    """An iterable whose close() is counted (PEP 3333: always called)."""

    def __init__(self, chunks, fail_after=None, delay=0.0):
        self.chunks = chunks
        self.fail_after = fail_after
        self.delay = delay
        with _lock:
            STATS["started"] += 1

    def __iter__(self):
        for i, chunk in enumerate(self.chunks):
            if self.fail_after is not None and i == self.fail_after:
                raise RuntimeError("boom after the response started")
            if i and self.delay:
                time.sleep(self.delay)
            yield chunk

    def close(self):
        with _lock:
            STATS["closed"] += 1


def _query(environ):
    out = {}
    for part in environ.get("QUERY_STRING", "").split("&"):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k] = v
    return out


def _json(start_response, obj, status="200 OK"):
    body = json.dumps(obj, sort_keys=True).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


def app(environ, start_response):
    """Counts the requests inside the app at once (STATS["peak"])."""
    with _lock:
        STATS["active"] += 1
        STATS["peak"] = max(STATS["peak"], STATS["active"])
    try:
        return _route(environ, start_response)
    finally:
        with _lock:
            STATS["active"] -= 1


def _route(environ, start_response):
    path = environ["PATH_INFO"]
    q = _query(environ)
    if path in ("/", "/hello"):
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "6")])
        return [b"hello\n"]
    if path.startswith("/environ"):
        return _json(start_response, {k: v for k, v in environ.items() if isinstance(v, str)}
                     | {"wsgi.version": list(environ["wsgi.version"]),
                        "wsgi.multithread": environ["wsgi.multithread"],
                        "wsgi.multiprocess": environ["wsgi.multiprocess"],
                        "wsgi.run_once": environ["wsgi.run_once"],
                        "wsgi.input_terminated": environ.get("wsgi.input_terminated"),
                        "keys": sorted(environ),
                        "none_values": sorted(k for k, v in environ.items() if v is None),
                        "path_info_latin1": list(environ["PATH_INFO"].encode("latin-1"))})
    if path == "/echo":
        size = int(environ.get("CONTENT_LENGTH") or 0)
        stream = environ["wsgi.input"]
        if size:
            data = stream.read(size)
        elif "noarg" in q:
            data = stream.read()
        else:
            data = stream.read(-1)
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("X-Sha256", hashlib.sha256(data).hexdigest())])
        return [data]
    if path == "/digest":
        # Streams the body in pieces: never holds it whole.
        h, total, chunk = hashlib.sha256(), 0, int(q.get("chunk", "65536"))
        stream = environ["wsgi.input"]
        while True:
            piece = stream.read(chunk)
            if not piece:
                break
            h.update(piece)
            total += len(piece)
        return _json(start_response, {"length": total, "sha256": h.hexdigest()})
    if path == "/lines":
        stream = environ["wsgi.input"]
        mode = q.get("mode", "iter")
        if mode == "iter":
            lines = [l.decode("latin-1") for l in stream]
        elif mode == "readlines":
            lines = [l.decode("latin-1") for l in stream.readlines()]
        else:  # readline(n)
            n = int(q.get("n", "4"))
            lines = []
            while True:
                line = stream.readline(n)
                if not line:
                    break
                lines.append(line.decode("latin-1"))
        return _json(start_response, {"lines": lines})
    if path == "/stream":
        n = int(q.get("n", "5"))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Closing([b"chunk %d\n" % i for i in range(n)],
                       delay=int(q.get("delay_ms", "0")) / 1000)
    if path == "/write":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written ")
        write(bytearray(b"by write() ") if "bytearray" in q else b"by write() ")
        return [b"and returned\n"]
    if path == "/file":
        f = open(os.path.join(os.path.dirname(__file__), q.get("name", "gateway_app.py")), "rb")
        if "skip" in q:
            f.seek(int(q["skip"]))
        size = os.fstat(f.fileno()).st_size - f.tell()
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(size))])
        return environ["wsgi.file_wrapper"](f, 8192)
    if path == "/error_before":
        raise RuntimeError("boom before start_response")
    if path == "/error_after":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return Closing([b"first\n", b"second\n"], fail_after=1)
    if path == "/bad_header":
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("X-Injected", "a\r\nSet-Cookie: evil=1")])
        return [b"never sent\n"]
    if path == "/bad_header_name":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Bad Name", "x")])
        return [b"never sent\n"]
    if path == "/bad_status":
        start_response("2000 OK\r\nX: y", [("Content-Type", "text/plain")])
        return [b"never sent\n"]
    if path == "/head":  # constants unless the query gives a status, name or value
        from urllib.parse import unquote
        status = unquote(q["s"]) if "s" in q else "200 OK"
        name = unquote(q["n"]) if "n" in q else "X-Value"
        value = unquote(q["v"]) if "v" in q else "constant"
        start_response(status, [("Content-Type", "text/plain"), (name, value),
                                ("Content-Length", "5")])
        return [b"head\n"]
    if path == "/kwargs":  # start_response called with keywords, then wrongly
        errors = [_call_error(start_response, "200 OK", [], bogus=1),
                  _call_error(start_response, "200 OK"),
                  _call_error(start_response, "200 OK", [], None, 4),
                  _call_error(start_response, "200 OK", [], status="201 Created")]
        start_response(status="200 OK", exc_info=None,
                       response_headers=[("Content-Type", "text/plain")])
        return ["\n".join(map(str, errors)).encode()]
    if path == "/exc_info":
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("changed my mind")
        except ValueError:
            start_response("503 Service Unavailable", [("Content-Type", "text/plain"),
                                                       ("Content-Length", "9")],
                           sys.exc_info())
        return [b"recovered"]
    if path == "/exc_info_late":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"partial\n")
        try:
            raise ValueError("too late")
        except ValueError:
            start_response("500 Oops", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"unreachable"]
    if path == "/errors":
        environ["wsgi.errors"].write("line one from the app\nline two ")
        environ["wsgi.errors"].writelines(["continued\n"])
        environ["wsgi.errors"].flush()
        start_response("204 No Content", [])
        return []
    if path == "/slow":
        if "mark" in q:  # tells the test the request is in the app
            open(q["mark"], "w").close()
        time.sleep(int(q.get("ms", "200")) / 1000)
        return _json(start_response, {"thread": threading.get_ident()})
    if path == "/keep":  # keeps this request's objects for /kept to look at
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        KEPT.clear()
        KEPT.update(environ=environ, snapshot=dict(environ), input=environ["wsgi.input"],
                    start_response=start_response, write=write)
        return [b"kept\n"]
    if path == "/kept":
        return _json(start_response, _kept_report(environ))
    if path == "/stats":
        with _lock:
            return _json(start_response, dict(STATS))
    if path == "/headers":
        return _json(start_response, {k: v for k, v in environ.items() if k.startswith("HTTP_")})
    if path == "/set_cookies":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Set-Cookie", "a=1"),
                                  ("Set-Cookie", "b=2"), ("Content-Length", "2")])
        return [b"ok"]
    if path == "/big":
        size = int(q.get("size", "65536"))
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(size))])
        return [b"x" * size]
    if path == "/sys":
        import multiprocessing
        import subprocess
        out = subprocess.run([sys.executable, "-c", "import sys; print(sys.prefix)"],
                             capture_output=True, text=True, timeout=30).stdout.strip()
        import importlib.util
        return _json(start_response, {"executable": sys.executable, "prefix": sys.prefix,
                                       "venv_marker": importlib.util.find_spec("venvmarker")
                                       is not None,
                                       "child_prefix": out, "path0": sys.path[0],
                                       "cpus": multiprocessing.cpu_count()})
    if path == "/mp":
        import multiprocessing
        ctx = multiprocessing.get_context(q.get("method", "spawn"))
        with ctx.Pool(2) as pool:
            squares = pool.map(abs, [-1, -2, -3])
        return _json(start_response, {"result": squares})
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "10")])
    return [b"not found\n"]


KEPT = {}


def _call_error(f, *args, **kwargs):
    """The exception f(...) raised, as "Type: message"; None if it returned."""
    try:
        f(*args, **kwargs)
    except Exception as exc:  # noqa: BLE001 - reported to the test
        return "%s: %s" % (type(exc).__name__, exc)
    return None


def _kept_report(environ):
    """What the objects /keep kept look like now, from a later request."""
    old = KEPT["environ"]
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    report = {
        "unchanged": old == KEPT["snapshot"],
        "same_dict": old is environ,
        "same_input": environ["wsgi.input"] is KEPT["input"],
        "old_input": _call_error(KEPT["input"].read, 1),
        "body": body.decode("latin-1"),
        "old_start_response": _call_error(KEPT["start_response"], "500 Oops",
                                          [("Content-Type", "text/plain")]),
        "old_write": _call_error(KEPT["write"], b"stale"),
    }
    report.update(("old " + k, v) for k, v in old.items() if isinstance(v, str))
    report.update(("new " + k, v) for k, v in environ.items() if isinstance(v, str))
    return report


validated = wsgiref.validate.validator(app)


class Holder:
    inner = app


def create_app(kind="plain", validate=False):
    if kind != "plain":
        raise ValueError("unknown kind %r" % kind)
    return validated if validate else app


not_callable = 42
