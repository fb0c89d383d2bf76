"""A WSGI app for the 103 Early Hints tests (tests/http/test_early_hints.py)."""

LINKS = [("Link", "</style.css>; rel=preload; as=style"),
         ("Link", "</app.js>; rel=preload; as=script")]


def app(environ, start_response):
    path = environ["PATH_INFO"]
    hints = environ.get("wsgi.early_hints")
    if hints is None:
        body = b"no wsgi.early_hints"
    elif path == "/bad":
        try:
            hints([("Link", "</a.css>\r\nSet-Cookie: stolen=1")])
            body = b"accepted"
        except ValueError as e:
            body = ("ValueError: %s" % e).encode()
    elif path == "/badname":
        try:
            hints([("Bad Name", "x")])
            body = b"accepted"
        except ValueError as e:
            body = ("ValueError: %s" % e).encode()
    elif path == "/late":
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"head out;")
        hints(LINKS)  # the response has started: nothing is sent
        return [b"late"]
    else:
        hints(LINKS)
        body = b"final"
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
