"""The body gate test's app: reads the whole request body, takes 50 ms
(a sync worker's app thread busy while other bodies arrive), and answers
the body's length and SHA-256."""
import hashlib
import time


def app(environ, start_response):
    body = environ["wsgi.input"].read()
    time.sleep(0.05)
    out = f"{len(body)} {hashlib.sha256(body).hexdigest()}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(out)))])
    return [out]
