"""The Flask example's Gunicorn configuration, as a Gunicorn deployment has
it; arbiterd reads it unchanged (settings and master-side server hooks):

    build/bin/arbiterd -c examples/flask_app/gunicorn.conf.py

Flags override it (`-b 127.0.0.1:9000`), GUNICORN_CMD_ARGS sits in between.
"""
import os

wsgi_app = "app:app"
chdir = os.path.dirname(os.path.abspath(__file__))
bind = "127.0.0.1:8000"
workers = 2
worker_class = "gthread"
threads = 2
timeout = 30
graceful_timeout = 20
accesslog = "-"
loglevel = "info"


# Master-side hooks run in arbiterd's hook host (docs/server-hooks.md).
def when_ready(server):
    server.log.info("flask example: ready with %d workers on %s", server.num_workers, ", ".join(server.cfg.bind))


def child_exit(server, worker):
    server.log.info("flask example: worker %s (age %s) exited", worker.pid, worker.age)


def on_exit(server):
    server.log.info("flask example: stopped")
