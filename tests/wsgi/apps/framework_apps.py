"""The Flask and Django examples, each wrapped in wsgiref.validate.validator
(PEP 3333 checks on every request). Needs --pythonpath to
examples/flask_app and examples/django_project."""
import os
import warnings
import wsgiref.validate

warnings.simplefilter("error", wsgiref.validate.WSGIWarning)


class _SizedReads:
    """Werkzeug reads a wsgi.input_terminated stream with read() and no size,
    which the validator forbids (PEP 3333 wants read(size)). This adapter
    turns read() into read(-1), so the validator keeps checking the server's
    environ and stream, not Werkzeug's call style."""

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        stream = environ["wsgi.input"]

        class Sized:
            def read(self, size=-1):
                return stream.read(size)

            def readline(self, size=-1):
                return stream.readline(size)

            def readlines(self, hint=-1):
                return stream.readlines(hint)

            def __iter__(self):
                return iter(stream)

        environ["wsgi.input"] = Sized()
        return self.app(environ, start_response)


def flask():
    from app import app
    return wsgiref.validate.validator(_SizedReads(app))


def django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    from mysite.wsgi import application
    return wsgiref.validate.validator(_SizedReads(application))
