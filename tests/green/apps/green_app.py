"""A plain WSGI app (no framework) for tests/green: served by gworker
-k gevent or -k eventlet, it blocks only through monkey-patched calls
(time.sleep, socket), so requests overlap on green threads."""
import hashlib
import json
import os
import socket
import threading
import time

_in_flight = 0
_max_in_flight = 0
_served = 0


def _patched():
    report = {"time_sleep": getattr(time.sleep, "__module__", "")}
    try:
        import gevent.monkey
        import gevent.socket
        report["gevent_socket"] = socket.socket is gevent.socket.socket
        report["gevent_patched"] = gevent.monkey.is_module_patched("socket")
    except ImportError:
        pass
    try:
        import eventlet.green.socket
        import eventlet.patcher
        report["eventlet_socket"] = socket.socket is eventlet.green.socket.socket
        report["eventlet_patched"] = eventlet.patcher.is_monkey_patched("socket")
    except ImportError:
        pass
    return report


def _json(start_response, data, status="200 OK"):
    body = json.dumps(data).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(body)))])
    return [body]


def app(environ, start_response):
    global _in_flight, _max_in_flight, _served
    _served += 1
    path = environ["PATH_INFO"]
    query = environ.get("QUERY_STRING", "")
    if path == "/sleep":
        _in_flight += 1
        _max_in_flight = max(_max_in_flight, _in_flight)
        try:
            time.sleep(float(query or "1"))
        finally:
            _in_flight -= 1
        return _json(start_response, {"slept": float(query or "1"), "pid": os.getpid()})
    if path == "/stats":
        return _json(start_response, {"in_flight": _in_flight, "max_in_flight": _max_in_flight,
                                      "pid": os.getpid(), "served": _served})
    if path == "/reset":
        _max_in_flight = 0
        return _json(start_response, {})
    if path == "/patched":
        return _json(start_response, _patched())
    if path.startswith("/environ"):
        keep = {k: v for k, v in environ.items() if isinstance(v, (str, bool, int, tuple))}
        keep["input_type"] = type(environ["wsgi.input"]).__name__
        return _json(start_response, keep)
    if path == "/echo":
        data = environ["wsgi.input"].read()
        return _json(start_response, {"length": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    if path == "/lines":
        stream = environ["wsgi.input"]
        first = stream.readline()
        rest = list(stream)
        return _json(start_response, {"first": first.decode(), "rest": [r.decode() for r in rest]})
    if path == "/chunks":
        stream = environ["wsgi.input"]
        sizes = []
        while True:
            block = stream.read(100000)
            if not block:
                break
            sizes.append(len(block))
        return _json(start_response, {"sizes": sizes})
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        pause = float(query or "0.05")

        def gen():
            for i in range(3):
                yield b"part%d\n" % i
                time.sleep(pause)
        return gen()
    if path == "/big":
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return [b"x" * (1 << 20) for _ in range(8)]
    if path == "/write":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written ")
        return [b"returned"]
    if path == "/subprocess":
        import subprocess
        out = subprocess.run(["echo", "from a child"], capture_output=True, timeout=20).stdout
        return _json(start_response, {"out": out.decode()})
    if path == "/reason":
        start_response("202 Accepted Later", [("Content-Type", "text/plain")])
        return [b"later"]
    if path == "/error":
        raise RuntimeError("boom before start_response")
    if path == "/error-late":
        start_response("200 OK", [("Content-Type", "text/plain")])

        def broken():
            yield b"first"
            raise RuntimeError("boom mid-stream")
        return broken()
    if path == "/bad-header":
        start_response("200 OK", [("X-Bad", "a\r\nInjected: yes")])
        return [b"never"]
    if path == "/exc-info":
        start_response("200 OK", [("Content-Type", "text/plain")])
        try:
            raise ValueError("replaced")
        except ValueError:
            import sys
            start_response("503 Service Unavailable", [("Content-Type", "text/plain")],
                           sys.exc_info())
        return [b"unavailable"]
    if path == "/leak-timeout":
        # A library Timeout started and never cancelled: it fires after the
        # response, into the green thread that served it.
        if query == "gevent":
            import gevent
            gevent.Timeout(0.2).start()
        else:
            import eventlet
            eventlet.Timeout(0.2)
        return _json(start_response, {"leaked": query})
    if path == "/threads":
        # threading is patched too: a "thread" is a green thread.
        out = []
        t = threading.Thread(target=lambda: out.append(time.sleep(0.01) or "ran"))
        t.start()
        t.join()
        return _json(start_response, {"out": out})
    return _json(start_response, {"hello": "world"})
