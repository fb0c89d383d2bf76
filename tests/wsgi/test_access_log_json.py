"""--access-logformat json: one JSON object per access-log line, every
Gunicorn atom a field, parsed line by line (through arbiterd)."""
from __future__ import annotations

import base64
import json
import re
import socket
import textwrap

from gftest import http_request, wait_until
from wsgi_support import serving, worker_pids

APP = textwrap.dedent('''
    def app(environ, start_response):
        body = b"hello json"
        start_response("203 Non-Authoritative Information",
                       [("Content-Type", "text/plain"), ("X-Reply", 'q"uote')])
        return [body]
''')


def test_json_access_log_has_every_atom(tmp_path):
    (tmp_path / "jsonapp.py").write_text(APP)
    log = tmp_path / "access.jsonl"
    with serving("jsonapp:app", "--access-logfile", str(log), "--access-logformat", "json",
                 chdir=tmp_path) as (port, arb):
        pid = worker_pids(arb)[0]
        auth = "Basic " + base64.b64encode(b"alice:secret").decode()
        assert http_request(port, "/path/x?a=1&b=2", headers={
            "Authorization": auth, "Referer": "http://ref/", "User-Agent": "json-test",
            "X-Dup": "one"}).status == 203
        # Octets that are not UTF-8, a quote and a backslash: still valid JSON.
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /raw HTTP/1.0\r\nUser-Agent: a\"b\\c\xe9\r\nX-Dup: 1\r\nX-Dup: 2\r\n\r\n")
            while s.recv(65536):
                pass
        wait_until(lambda: len(log.read_bytes().splitlines()) >= 3, timeout=20,
                   message="three access lines")
    records = [json.loads(line) for line in log.read_bytes().splitlines()]
    for r in records:
        assert set(r) == set("hlutrsmUqHBbfaTMDLp") | {"i", "o"}, r
        assert r["h"] == "127.0.0.1" and r["l"] == "-" and r["p"] == f"<{pid}>", r
        assert re.fullmatch(r"\[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]", r["t"]), r
        assert isinstance(r["s"], int) and isinstance(r["B"], int) and isinstance(r["D"], int), r
        assert r["T"] == r["D"] // 1000000 and r["M"] == r["D"] // 1000, r
        assert abs(r["L"] - r["D"] / 1e6) < 1e-6, r
    r = next(r for r in records if r["U"] == "/path/x")
    assert r["u"] == "alice" and r["m"] == "GET" and r["q"] == "a=1&b=2", r
    assert r["r"] == "GET /path/x?a=1&b=2 HTTP/1.1" and r["H"] == "HTTP/1.1", r
    assert r["s"] == 203 and r["B"] == 10 and r["b"] == "10", r
    assert r["f"] == "http://ref/" and r["a"] == "json-test", r
    assert r["i"]["authorization"] == auth and r["i"]["x-dup"] == "one", r
    assert r["o"]["x-reply"] == 'q"uote' and r["o"]["content-type"] == "text/plain", r
    raw = next(r for r in records if r["U"] == "/raw")
    assert raw["a"] == 'a"b\\c\u00e9' and raw["H"] == "HTTP/1.0", raw
    assert raw["i"]["x-dup"] == "1,2" and raw["u"] == "-" and raw["f"] == "-", raw
