"""The smallest WSGI app: what `make run` serves.

    arbiterd -w 2 -b 127.0.0.1:8000 --chdir examples/hello app:app
    curl http://127.0.0.1:8000/
"""

BODY = b"Hello, World!\n"
HEADERS = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(BODY)))]


def app(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]


application = app
