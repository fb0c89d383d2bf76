"""The Django example's Gunicorn configuration, as a Gunicorn deployment has
it; arbiterd reads it unchanged (settings and master-side server hooks):

    build/bin/arbiterd -c examples/django_project/gunicorn.conf.py

Flags override it (`-b 127.0.0.1:9000`), GUNICORN_CMD_ARGS sits in between.
"""
import os

wsgi_app = "mysite.wsgi:application"
chdir = os.path.dirname(os.path.abspath(__file__))
raw_env = ["DJANGO_SETTINGS_MODULE=mysite.settings"]
bind = "127.0.0.1:8000"
workers = 2
timeout = 30
accesslog = "-"
loglevel = "info"


# Master-side hooks run in arbiterd's hook host (docs/server-hooks.md).
def on_starting(server):
    server.log.info("django example: starting (config %s)", server.cfg.config)


def when_ready(server):
    server.log.info("django example: ready with %d workers on %s", server.num_workers, ", ".join(server.cfg.bind))


def nworkers_changed(server, new_value, old_value):
    server.log.info("django example: workers %s -> %s", old_value, new_value)


def on_exit(server):
    server.log.info("django example: stopped")
