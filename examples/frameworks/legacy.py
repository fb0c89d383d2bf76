"""A plain WSGI app, which `arbiterd -k tornado` serves through Tornado's
WSGIContainer (one request at a time, on the event loop)."""


def wsgi_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello from WSGI under tornado\n"]
