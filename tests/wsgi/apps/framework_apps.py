"""The Flask and Django examples, each wrapped in wsgiref.validate.validator
(PEP 3333 checks on every request). Needs --pythonpath to
examples/flask_app and examples/django_project."""
import os
import warnings
import wsgiref.validate

warnings.simplefilter("error", wsgiref.validate.WSGIWarning)


def flask():
    from app import app
    return wsgiref.validate.validator(app)


def django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")
    from mysite.wsgi import application
    return wsgiref.validate.validator(application)
