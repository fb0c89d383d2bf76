"""Tests of the harness's own parts that need no server under test:
/usr/bin/python3 -m pytest bench/tests"""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gfbench import chart, client, counts, repeat, wrk  # noqa: E402
from gfbench.scenarios import Row  # noqa: E402

STRACE = """% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 40.00    0.000400           0      2001           epoll_wait
 30.00    0.000300           0      1001         2 recvfrom
 30.00    0.000300           0      1000           sendto
------ ----------- ----------- --------- --------- ----------------
100.00    0.001000           0      4002         2 total
"""


def test_strace_summary_parsed_and_differenced(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(STRACE)
    b.write_text(STRACE.replace("2001", "1").replace("1001", "1").replace("  1000  ", "     0  ")
                 .replace("4002", "2"))
    ca, cb = counts._strace_counts(a), counts._strace_counts(b)
    assert ca == {"epoll_wait": 2001, "recvfrom": 1001, "sendto": 1000, "total": 4002}
    assert cb["total"] == 2 and cb["sendto"] == 0
    top = counts._per_request(ca, cb, 1000, 5)
    assert top == [("epoll_wait", 2.0), ("recvfrom", 1.0), ("sendto", 1.0)]


def test_strace_without_summary_is_an_error(tmp_path):
    (tmp_path / "s.txt").write_text("strace: exec: No such file\n")
    with pytest.raises(RuntimeError):
        counts._strace_counts(tmp_path / "s.txt")


def test_callgrind_totals_add_up_over_processes(tmp_path):
    (tmp_path / "callgrind.out.1").write_text("events: Ir\nsummary: 1000\ntotals: 1000\n")
    (tmp_path / "callgrind.out.2").write_text("events: Ir\ntotals: 234\n")
    assert counts._callgrind_total(tmp_path) == 1234


def test_short_name_folds_parameters_and_templates():
    assert counts.short_name("a::B::scan(std::basic_string_view<char, x<char> >, long&)") \
        == "a::B::scan"
    assert counts.short_name("void std::vector<H, std::allocator<H> >::_M_realloc_insert<H>"
                             "(it<H*>, H&&)") == "void std::vector<…>::_M_realloc_insert<…>"
    assert counts.short_name("g::(anonymous namespace)::f(int)") == "g::{anon}::f"
    assert counts.short_name("_int_free") == "_int_free"


def _series(name, rps, p99=1000.0):
    s = repeat.Series(name)
    for v in rps:
        s.rows.append(Row(server=name, peer=True,
                          result=wrk.WrkResult(requests=int(v), seconds=1, rps=v, p99_us=p99)))
    return s


def test_ratios_are_taken_within_a_round_and_failed_rounds_skipped():
    gf, ngx = _series("greenfork", [90, 120, 100]), _series("nginx", [100, 100, 200])
    assert repeat.round_ratios(gf, ngx) == [0.9, 1.2, 0.5]
    assert gf.median_rps() == 100
    gf.rows[1].note = "failed: boom"
    assert repeat.round_ratios(gf, ngx) == [0.9, 0.5]
    lines = repeat.table("hello-keepalive", {"greenfork": gf, "nginx": ngx})
    assert "| greenfork | 2 of 3 | 95 | 90 – 100 |" in lines[2]
    assert lines[2].endswith("| 0.70× (0.50× – 0.90×) |")


def _server(port_holder, answers_per_conn, stop):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    srv.settimeout(3)
    port_holder.append(srv.getsockname()[1])
    resp = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nhello\n"
    while not stop.is_set():
        try:
            conn, _ = srv.accept()
        except OSError:
            break
        with conn:
            buf = b""
            for _ in range(answers_per_conn):
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(4096)
                    if not data:
                        break
                    buf += data
                if b"\r\n\r\n" not in buf:
                    break
                buf = buf.split(b"\r\n\r\n", 1)[1]
                conn.sendall(resp)
    srv.close()


def test_client_sends_exactly_n_and_reconnects_when_the_server_closes():
    port, stop = [], threading.Event()
    t = threading.Thread(target=_server, args=(port, 7, stop), daemon=True)
    t.start()
    while not port:
        t.join(0.01)
    res = client.keepalive(port[0], 30, timeout=10, deadline_s=30)
    stop.set()
    assert res.requests == 30
    assert res.connections == 5   # 7 answers per connection, then the server closes



def test_chart_writes_svg_and_png(tmp_path):
    pytest.importorskip("matplotlib")
    rep = {"hello-keepalive": {"greenfork": _series("greenfork", [90, 100, 110]),
                               "nginx": _series("nginx", [100, 105, 95], p99=2000)}}
    assert chart.draw(rep, tmp_path / "headline", "test") is None
    assert (tmp_path / "headline.svg").stat().st_size > 1000
    assert (tmp_path / "headline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
