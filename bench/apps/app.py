"""The WSGI apps every server in the benchmark runs (one file for all).

    hello  -> 200 "Hello, World!\\n"            (hello world scenarios)
    big    -> 200 with a 64 KiB body            (64 KiB response)
    echo   -> 200 with the request body back    (1 MiB POST echo)
    sleep  -> sleeps 10 ms, then 200 "slept\\n"  (sleep 10 ms; under gevent
              time.sleep is monkey-patched by gunicorn, so it yields)
    sleep50 -> sleeps 50 ms, then 200 "slept\\n" (autoscale step)

Each server is pointed at `app:<name>` with this folder as its working
directory. The Flask hello is examples/flask_app/app.py, as greenfork ships it.
"""

import time

_HELLO = b"Hello, World!\n"
_BIG = b"x" * (64 * 1024)


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(_HELLO)))])
    return [_HELLO]


def big(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(len(_BIG)))])
    return [_BIG]


def echo(environ, start_response):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ["wsgi.input"]
    chunks = []
    remaining = length
    while remaining > 0:
        chunk = stream.read(min(remaining, 65536))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    body = b"".join(chunks)
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(len(body)))])
    return [body]


def sleep(environ, start_response):
    time.sleep(0.010)
    body = b"slept\n"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]


app = hello


def sleep50(environ, start_response):
    """The autoscale scenario's app: 50 ms of waiting per request."""
    time.sleep(0.050)
    body = b"slept\n"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
