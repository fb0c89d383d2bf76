"""Every limit and framing error gets exactly one response, then the
connection is closed; nothing after the bad request is answered. The
invalid/*.http data files are replayed against a live gworker to check the
status on the wire."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gftest import SOURCE_DIR
from httpwire import Wire, chunked, parse_responses, request

CASES = SOURCE_DIR / "tests/data/http/invalid"
FOLLOW_UP = request("GET", "/must-not-be-answered")


def refused_once(port: int, data: bytes, status: int, why: str = "") -> None:
    """Sends data (plus a valid request after it) and expects one `status`
    response with Connection: close, then the close."""
    with Wire(port) as w:
        try:
            w.send(data + FOLLOW_UP)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close before reading everything we send
        got = w.read_until_close(10.0)
    responses = parse_responses(got)
    assert len(responses) == 1, f"{why}: expected one {status} response, got {got[:600]!r}"
    r = responses[0]
    assert r.status == status, f"{why}: expected {status}, got {r.status} {r.reason}"
    assert (r.header("Connection") or "").lower() == "close", f"{why}: no Connection: close"


@pytest.fixture(scope="module")
def limited(request, tmp_path_factory):
    """One gworker with a small body limit for the whole module."""
    from conftest import echo_spec, wait_serving
    from gftest import Spawned, binary, free_port
    port = free_port()
    proc = Spawned([binary("gworker"), "-b", f"127.0.0.1:{port}",
                    "--limit-request-body", "1000", echo_spec()],
                   logdir=tmp_path_factory.mktemp("gworker"))
    with proc:
        wait_serving(port)
        yield port
        if request.session.testsfailed:
            import sys
            sys.stderr.write(proc.output())


def test_request_line_over_limit_is_414(limited):
    refused_once(limited, request("GET", "/" + "a" * 5000), 414, "request line 5001")


def test_too_many_header_fields_is_431(limited):
    fields = [(f"X-F{i}", str(i)) for i in range(101)]
    refused_once(limited, request("GET", "/", fields), 431, "102 fields")


def test_header_field_over_limit_is_431(limited):
    refused_once(limited, request("GET", "/", [("X-Big", "v" * 9000)]), 431, "9 KB field")


def test_content_length_over_body_limit_is_413(limited):
    refused_once(limited, request("POST", "/", body=b"x" * 1001), 413, "CL 1001")


def test_chunked_body_over_limit_is_413(limited):
    data = request("POST", "/", [("Transfer-Encoding", "chunked")]) + chunked(b"x" * 600, b"y" * 600)
    refused_once(limited, data, 413, "chunked 1200")


def test_body_at_limit_is_served(limited):
    with Wire(limited) as w:
        w.send(request("POST", "/bodylen", body=b"z" * 1000))
        r = w.response()
        assert r.status == 200 and r.body.startswith(b"len=1000 ")


def test_good_requests_before_a_bad_one_are_answered(limited):
    data = request("GET", "/first") + request("GET", "/second") + \
        b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"
    with Wire(limited) as w:
        w.send(data + FOLLOW_UP)
        got = parse_responses(w.read_until_close(10.0))
    assert [r.status for r in got] == [200, 200, 400]
    assert json.loads(got[0].body)["target"] == "/first"
    assert json.loads(got[1].body)["target"] == "/second"


def test_limits_follow_the_flags(gworker):
    srv = gworker("--limit-request-line", "100", "--limit-request-fields", "5",
                  "--limit-request-field_size", "50")
    refused_once(srv.port, request("GET", "/" + "a" * 100), 414, "line 115 > 100")
    refused_once(srv.port, request("GET", "/", [(f"X-{i}", "v") for i in range(5)]), 431,
                 "6 fields > 5")
    refused_once(srv.port, request("GET", "/", [("X-A", "v" * 50)]), 431, "field 55 > 50")
    with Wire(srv.port) as w:
        w.send(request("GET", "/" + "a" * 50, [(f"X-{i}", "v") for i in range(4)]))
        assert w.response().status == 200


def invalid_cases() -> list[str]:
    return sorted(p.stem for p in CASES.glob("*.http"))


@pytest.fixture(scope="module")
def case_servers(request, tmp_path_factory):
    """gworkers keyed by the limits a case asks for (started on first use)."""
    from conftest import echo_spec, wait_serving
    from gftest import Spawned, binary, free_port
    servers: dict[str, tuple[int, Spawned]] = {}
    flag = {"request_line": "--limit-request-line", "fields": "--limit-request-fields",
            "field_size": "--limit-request-field_size", "body": "--limit-request-body"}

    def get(limits: dict) -> int:
        key = json.dumps(limits, sort_keys=True)
        if key not in servers:
            port = free_port()
            args = [a for k, v in sorted(limits.items()) for a in (flag[k], str(v))]
            proc = Spawned([binary("gworker"), "-b", f"127.0.0.1:{port}", *args, echo_spec()],
                           logdir=tmp_path_factory.mktemp("gworker")).start()
            servers[key] = (port, proc)
            wait_serving(port)
        return servers[key][0]

    yield get
    for _, proc in servers.values():
        if request.session.testsfailed:
            import sys
            sys.stderr.write(proc.output())
        proc.stop(timeout=5)


@pytest.mark.parametrize("name", invalid_cases())
def test_invalid_case_on_the_wire(case_servers, name):
    doc = json.loads((CASES / f"{name}.json").read_text())
    data = (CASES / f"{name}.http").read_bytes()
    port = case_servers(doc.get("limits", {}))
    refused_once(port, data, doc["status"], f"invalid/{name}.http ({doc['why']})")


def test_whole_head_is_capped_even_with_unlimited_field_size(gworker):
    """Gunicorn's max_buffer_headers: fields x field size plus the request
    line bounds a head, also when --limit-request-field_size is 0."""
    srv = gworker("--limit-request-field_size", "0", "--limit-request-fields", "10")
    ok = [(f"X-F{i}", "v" * 8000) for i in range(9)]  # and Host
    with Wire(srv.port) as w:
        w.send(request("GET", "/", ok))
        assert w.response().status == 200
    huge = [(f"X-F{i}", "v" * 20000) for i in range(9)]  # 180 KB > 10 x 8192
    refused_once(srv.port, request("GET", "/", huge), 431, "9 fields of 20 KB")
