"""An app for the gthread hand-off tests: requests that block in Python
until the test lets them go, next to quick ones.

    /hello            -> 200 "hello\\n"
    /block?id=K       -> waits (threading.Event.wait, GIL released) until
                         /release?id=K, at most 60 s; 200 "released K"
    /sleep?ms=N[&mark=F] -> creates file F (when given), then
                         time.sleep(N / 1000); 200 "slept"
    /spin?ms=N        -> busy Python loop for N ms (holds the GIL, which
                         CPython hands to other threads every 5 ms)
    /release?id=K     -> lets /block?id=K go; 200
    /waiting          -> 200 with the ids blocked now, comma-separated
"""

import threading
import time
from urllib.parse import parse_qs

_lock = threading.Lock()
_events = {}    # id -> Event
_waiting = set()


def _event(key):
    with _lock:
        return _events.setdefault(key, threading.Event())


def _reply(start_response, body, status="200 OK"):
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def app(environ, start_response):
    path = environ["PATH_INFO"]
    q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if path == "/hello":
        return _reply(start_response, b"hello\n")
    if path == "/block":
        key = q["id"]
        ev = _event(key)
        with _lock:
            _waiting.add(key)
        try:
            ok = ev.wait(60)
        finally:
            with _lock:
                _waiting.discard(key)
        return _reply(start_response, (f"released {key}" if ok else "timed out").encode())
    if path == "/release":
        _event(q["id"]).set()
        return _reply(start_response, b"ok")
    if path == "/waiting":
        with _lock:
            ids = ",".join(sorted(_waiting))
        return _reply(start_response, ids.encode())
    if path == "/sleep":
        if "mark" in q:
            open(q["mark"], "w").close()
        time.sleep(int(q["ms"]) / 1000)
        return _reply(start_response, b"slept")
    if path == "/spin":
        end = time.monotonic() + int(q["ms"]) / 1000
        n = 0
        while time.monotonic() < end:
            n += 1
        return _reply(start_response, b"spun")
    return _reply(start_response, b"not found", "404 Not Found")
