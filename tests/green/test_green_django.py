"""Django under -k eventlet (the seed articles' `gunicorn -k eventlet
mysite.wsgi`): the shipped examples/django_project, and a minimal project
made in the test's temp dir whose view sleeps on a monkey-patched
time.sleep, so that requests overlap on green threads."""
from __future__ import annotations

import concurrent.futures
import json
import textwrap
import time

import httpx
import pytest

from gftest import source
from test_green import serving

pytest.importorskip("django")
pytest.importorskip("eventlet")


def test_example_project_as_the_seeds_run_it():
    with serving("eventlet", spec="mysite.wsgi", workers=2,
                 chdir=source("examples/django_project")) as (base, _):
        r = httpx.get(base + "/", timeout=10)
        assert r.status_code == 200 and "Hello from Django" in r.text
        assert httpx.post(base + "/greet", data={"name": "Ada"}, timeout=10).text == \
            "<p>Hello, Ada!</p>"
        assert httpx.post(base + "/greet", data={"name": ""}, timeout=10).status_code == 400
        r = httpx.post(base + "/api/echo", content=json.dumps({"k": [1, 2]}), timeout=10)
        assert r.json() == {"received": {"k": [1, 2]}}
        assert httpx.get(base + "/api/info?a=b", timeout=10).json()["query"] == {"a": "b"}


def test_sleeping_django_views_overlap(tmp_path):
    site = tmp_path / "greensite"
    site.mkdir()
    (site / "__init__.py").write_text("")
    (site / "settings.py").write_text(textwrap.dedent("""\
        SECRET_KEY = "test-only"
        DEBUG = False
        ALLOWED_HOSTS = ["*"]
        ROOT_URLCONF = "greensite.urls"
        INSTALLED_APPS = []
        MIDDLEWARE = []
        DATABASES = {}
        USE_TZ = True
        """))
    (site / "urls.py").write_text(textwrap.dedent("""\
        import os
        import socket
        import time

        import eventlet.green.socket
        import eventlet.patcher
        from django.http import JsonResponse
        from django.urls import path


        def slow(request):
            time.sleep(1)
            return JsonResponse({"pid": os.getpid(),
                                 "patched": eventlet.patcher.is_monkey_patched("socket"),
                                 "green_socket": socket.socket is eventlet.green.socket.socket})


        urlpatterns = [path("", slow)]
        """))
    (site / "wsgi.py").write_text(textwrap.dedent("""\
        import os
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "greensite.settings")
        from django.core.wsgi import get_wsgi_application
        application = get_wsgi_application()
        """))
    with serving("eventlet", spec="greensite.wsgi:application", chdir=tmp_path) as (base, _):
        start = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
            replies = list(pool.map(lambda _: httpx.get(base + "/", timeout=60), range(50)))
        elapsed = time.monotonic() - start
        assert [r.status_code for r in replies] == [200] * 50
        assert all(r.json()["patched"] and r.json()["green_socket"] for r in replies)
        assert len({r.json()["pid"] for r in replies}) == 1
        assert elapsed < 15, f"50 x 1 s Django views took {elapsed:.1f} s"
