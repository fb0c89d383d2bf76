"""The Flask and Django examples through arbiterd + gworker, wrapped in
wsgiref.validate.validator: pages, forms, JSON, uploads, cookies, mounts."""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import urllib.parse
import uuid

import pytest

from gftest import source
from wsgi_support import get, serving
from gftest import http_request

PYTHONPATH = ",".join([source("examples/flask_app"), source("examples/django_project")])


@pytest.fixture(scope="module")
def flask():
    with serving("framework_apps:flask()", "--pythonpath", PYTHONPATH) as (port, arb):
        yield port


@pytest.fixture(scope="module")
def django():
    with serving("framework_apps:django()", "--pythonpath", PYTHONPATH) as (port, arb):
        yield port


def post_form(port, path, fields):
    return http_request(port, path, "POST", body=urllib.parse.urlencode(fields).encode(),
                        headers={"Content-Type": "application/x-www-form-urlencoded"})


def post_json(port, path, obj):
    return http_request(port, path, "POST", body=json.dumps(obj).encode(),
                        headers={"Content-Type": "application/json"})


def test_flask_page_form_and_json(flask):
    r = get(flask, "/")
    assert r.status == 200 and b"Hello from Flask" in r.body
    assert b"greenfork/" in r.body  # SERVER_SOFTWARE reached the template
    r = post_form(flask, "/guestbook", {"name": "Ada", "message": "héllo & <b>"})
    assert r.status == 302
    page = get(flask, "/").body.decode()
    assert "Ada: héllo &amp; &lt;b&gt;" in page
    assert post_form(flask, "/guestbook", {"name": ""}).status == 400
    info = json.loads(get(flask, "/api/info?x=1&x=2&y=%C3%A9").body)
    assert info["path"] == "/api/info" and info["args"] == {"x": "1", "y": "é"}
    assert json.loads(post_json(flask, "/api/echo", {"a": [1, "ü"]}).body) == \
        {"received": {"a": [1, "ü"]}}
    assert get(flask, "/hello").body == b"Hello, World!\n"
    assert get(flask, "/missing").status == 404


def test_flask_cookies(flask):
    conn = http.client.HTTPConnection("127.0.0.1", flask, timeout=10)
    conn.putrequest("GET", "/cookies")
    conn.putheader("Cookie", "a=1")
    conn.putheader("Cookie", "b=2; c=3")
    conn.endheaders()
    body = json.loads(conn.getresponse().read())
    conn.close()
    assert body == {"cookies": {"a": "1", "b": "2", "c": "3"}}


def test_flask_multipart_upload_20_mb(flask):
    payload = os.urandom(1 << 20) * 20
    boundary = uuid.uuid4().hex
    body = b"".join([
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nbig one\r\n".encode(),
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"blob.bin\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n".encode(),
        payload, f"\r\n--{boundary}--\r\n".encode()])
    r = http_request(flask, "/upload", "POST", body=body, timeout=120,
                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert r.status == 200, r.body[:500]
    result = json.loads(r.body)
    assert result["form"] == {"note": "big one"}
    assert result["files"]["file"] == {"filename": "blob.bin", "size": len(payload),
                                       "sha256": hashlib.sha256(payload).hexdigest()}


def test_django_page_form_and_json(django):
    r = get(django, "/")
    assert r.status == 200 and b"Hello from Django" in r.body
    r = post_form(django, "/greet", {"name": "Grace <3"})
    assert r.status == 200 and r.body == b"<p>Hello, Grace &lt;3!</p>"
    assert post_form(django, "/greet", {"name": ""}).status == 400
    info = json.loads(get(django, "/api/info?k=v%20w").body)
    assert info == {"method": "GET", "path": "/api/info", "script_name": "", "query": {"k": "v w"}}
    assert json.loads(post_json(django, "/api/echo", {"n": 1}).body) == {"received": {"n": 1}}
    assert post_json(django, "/api/echo", None).status == 200
    assert get(django, "/hello").body == b"Hello, World!\n"


def test_django_under_a_script_name_mount():
    with serving("framework_apps:django()", "--pythonpath", PYTHONPATH,
                 extra_env={"SCRIPT_NAME": "/site"}, ready_path="/site/hello") as (port, _):
        info = json.loads(get(port, "/site/api/info").body)
        assert info["path"] == "/site/api/info"
        assert info["script_name"] == "/site"


def test_flask_example_as_documented():
    """README: arbiterd -w 2 -b 127.0.0.1:8000 --chdir examples/flask_app app:app"""
    with serving("app:app", chdir=source("examples/flask_app"), workers=2) as (port, _):
        assert b"Hello from Flask" in get(port, "/").body


def test_django_example_as_documented():
    with serving("mysite.wsgi:application", chdir=source("examples/django_project")) as (port, _):
        assert get(port, "/hello").body == b"Hello, World!\n"


def test_hello_example_as_documented():
    with serving("app:app", chdir=source("examples/hello"), workers=2) as (port, _):
        r = get(port, "/")
        assert (r.status, r.body) == (200, b"Hello, World!\n")
