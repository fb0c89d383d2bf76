"""Tests of the harness's own parts that need no server under test:
/usr/bin/python3 -m pytest bench/tests"""

from __future__ import annotations

import socket
import sys
import threading
import time
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


def test_plateau_is_the_last_unbroken_run_of_the_final_count():
    from gfbench import autoscale
    assert autoscale.plateau([]) is None
    assert autoscale.plateau([(0.0, 1), (1.0, 2), (2.0, 4), (3.0, 4)]) == (4, 2.0)
    # a dip and back: reached for good only at the last change
    assert autoscale.plateau([(0.0, 1), (1.0, 4), (2.0, 3), (3.0, 4), (4.0, 4)]) == (4, 3.0)
    assert autoscale.plateau([(0.5, 1), (1.0, 1)]) == (1, 0.5)   # never moved
    s = [(0.0, 1), (0.2, 1), (0.4, 2), (0.6, 3), (0.8, 2)]
    assert autoscale.first_change(s) == 0.4 and autoscale.changes(s) == 3
    assert autoscale.first_change([(0.0, 1), (1.0, 1)]) is None


def test_autoscale_table_reports_plateau_and_after():
    from gfbench import autoscale
    row = Row(server="greenfork", peer=False,
              result=wrk.WrkResult(requests=800, seconds=10, rps=80.0, p99_us=250_000))
    step = [(0.0, 1), (1.5, 2), (3.5, 3), (5.5, 4), (9.0, 4)]
    row.extra.update(before=1, step=step, after=[(0.0, 4), (6.0, 3), (17.0, 1)], idle_s=20,
                     plateau=autoscale.plateau(step), first_change=1.5, changes=3, peak=4,
                     after_end=1, back_to_min=17.0)
    line = autoscale.table([row])[2]
    assert line.startswith("| greenfork | 1 | 1.5 s | 4 (5.5 s) | 4 | 3 | 80 | 250.00 ms |")
    assert line.endswith("| 1 (20 s idle) | 17.0 s |")


def test_statsd_lines_cpu_ticks_and_round_ratios():
    from gfbench import statsd
    assert statsd.count_lines(b"gunicorn.request.duration:1.2|ms\ngunicorn.requests:40|c|@1.0\n"
                              b"x.gunicorn.request.duration:0.5|ms") == (3, 2)
    stat = "123 (gworker: a) b) S 1 123 123 0 -1 4194560 10 0 0 0 250 50 0 0 20 0 3 0 99"
    assert statsd.cpu_ticks(stat) == 300
    assert statsd.cpu_per_request({1: 100, 2: 50}, {1: 200, 2: 150}, 1000, 100) == 2000.0
    assert statsd.cpu_per_request({1: 100, 2: 50}, {1: 200}, 1000, 100) is None  # one died
    mk = lambda rps, cpu: statsd.Sample(rps=rps, p99_us=1.0, errors=0, requests=1,  # noqa: E731
                                        cpu_us_per_request=cpu)
    summ = statsd.summarize([mk(100, 10.0), None, mk(200, 10.0)],
                            [mk(97, 10.5), mk(50, 1.0), mk(180, 11.0)])
    assert summ["rounds"] == 2 and summ["rps_ratios"] == [0.97, 0.9]
    assert summ["rps_ratio"] == pytest.approx(0.935) and summ["met"] is False
    assert summ["cpu_ratio"] == pytest.approx(1.075)
    assert statsd.summarize([mk(100, 1.0)], [mk(96, 1.0)])["met"] is True


def test_statsd_sink_counts_real_datagrams():
    from gfbench import statsd
    sink = statsd.Sink()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _ in range(5):
                s.sendto(b"gunicorn.request.duration:1|ms\ngunicorn.requests:1|c",
                         ("127.0.0.1", sink.port))
        deadline = time.monotonic() + 10
        while sink.counts()[0] < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sink.counts() == (5, 10, 5)
    finally:
        sink.close()


def test_statsd_target_is_judged_on_the_median_round_ratio():
    from gfbench import statsd, targets
    mk = lambda rps: statsd.Sample(rps=rps, p99_us=1.0, errors=0, requests=1,  # noqa: E731
                                   cpu_us_per_request=2.0)
    row = Row(server="greenfork", peer=False, result=wrk.WrkResult(requests=1, rps=1.0))
    row.extra["summary"] = statsd.summarize([mk(100), mk(100), mk(100)],
                                            [mk(99), mk(80), mk(96)])
    line = next(x for x in targets.check({"statsd": [row]}) if "statsd on" in x)
    assert "| 0.96× over 3 rounds, worker CPU/request on/off 1.00× | met |" in line
    row.extra["summary"] = statsd.summarize([mk(100)] * 3, [mk(99), mk(80), mk(90)])
    line = next(x for x in targets.check({"statsd": [row]}) if "statsd on" in x)
    assert line.endswith("| missed |")


def test_new_rows_go_to_the_servers_that_have_them():
    from gfbench.scenarios import SCENARIOS, applies
    from gfbench.servers import all_servers
    by_id = {s.id: s for s in SCENARIOS}
    names = lambda sc: [s.name for s in all_servers() if applies(by_id[sc], s)]  # noqa: E731
    assert names("statsd") == ["greenfork"]
    assert names("autoscale") == ["uwsgi", "uwsgi-busyness", "greenfork"]
    assert "uwsgi-busyness" not in names("hello-keepalive") + names("sleep-10ms")
    assert "uwsgi" in names("hello-keepalive")
    # The green-thread rows: each library's classes only, and only there.
    assert names("gevent-sleep-10ms") == ["gunicorn-gevent", "greenfork-gevent"]
    assert names("eventlet-sleep-10ms") == ["gunicorn-eventlet", "greenfork-eventlet"]
    for sc in ("hello-keepalive", "sleep-10ms", "flask"):
        assert not {"gunicorn-eventlet", "greenfork-gevent", "greenfork-eventlet"} & set(names(sc))
