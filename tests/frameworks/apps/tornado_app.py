"""A tornado.web.Application and a WSGI app (served through Tornado's
WSGIContainer) for -k tornado, with the routes aio_app.py has."""
import asyncio
import hashlib
import json
import os
import time

import tornado.web


def mark(arguments):
    d = os.environ.get("FW_MARK_DIR")
    if d and arguments.get("id"):
        with open(os.path.join(d, arguments["id"]), "w"):
            pass


class Hello(tornado.web.RequestHandler):
    def get(self):
        self.write("hello from tornado")


class EchoJson(tornado.web.RequestHandler):
    def post(self):
        self.write({"got": json.loads(self.request.body), "framework": "tornado"})


class Upload(tornado.web.RequestHandler):
    def post(self):
        body = self.request.body
        self.write({"size": len(body), "sha256": hashlib.sha256(body).hexdigest()})


class Stream(tornado.web.RequestHandler):
    async def get(self):
        self.set_header("Content-Type", "text/plain")
        for i in range(5):
            self.write(f"chunk {i}\n")
            await self.flush()
            await asyncio.sleep(0.01)


class Slow(tornado.web.RequestHandler):
    async def get(self):
        mark({"id": self.get_argument("id", "")})
        await asyncio.sleep(float(self.get_argument("s", "2")))
        self.write("slow done")


class Block(tornado.web.RequestHandler):
    def get(self):
        time.sleep(float(self.get_argument("s", "2")))  # blocks the event loop on purpose
        self.write("unblocked")


class Boom(tornado.web.RequestHandler):
    def get(self):
        self.write(str(1 / 0))


class Pid(tornado.web.RequestHandler):
    def get(self):
        self.write(str(os.getpid()))


def make_app():
    return tornado.web.Application([
        (r"/", Hello), (r"/json", EchoJson), (r"/upload", Upload), (r"/stream", Stream),
        (r"/slow", Slow), (r"/block", Block), (r"/pid", Pid), (r"/boom", Boom),
    ])


application = make_app()


def wsgi_app(environ, start_response):
    """A plain WSGI app: -k tornado runs it through WSGIContainer (on the
    loop, one request at a time, as Tornado 6.2 does)."""
    from urllib.parse import parse_qs
    path = environ["PATH_INFO"]
    query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    status, ctype, out = "200 OK", "text/plain", b""
    if path == "/":
        out = b"hello from wsgi"
    elif path == "/json":
        ctype = "application/json"
        out = json.dumps({"got": json.loads(body), "framework": "wsgi"}).encode()
    elif path == "/upload":
        ctype = "application/json"
        out = json.dumps({"size": len(body), "sha256": hashlib.sha256(body).hexdigest()}).encode()
    elif path == "/stream":
        start_response(status, [("Content-Type", ctype)])
        return [f"chunk {i}\n".encode() for i in range(5)]
    elif path == "/slow":
        mark(query)
        time.sleep(float(query.get("s", "2")))
        out = b"slow done"
    elif path == "/block":
        time.sleep(float(query.get("s", "2")))
        out = b"unblocked"
    elif path == "/boom":
        out = str(1 / 0).encode()
    elif path == "/pid":
        out = str(os.getpid()).encode()
    else:
        status, out = "404 Not Found", b"not found"
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(out)))])
    return [out]


not_an_app = 42
