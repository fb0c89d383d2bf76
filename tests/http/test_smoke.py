"""Smoke test: a real gworker serving examples/native/hello over loopback.

GET with http.client, keep-alive reuse, HEAD without a body, pipelining in
order, a framing error answered then closed, TCP_NODELAY on the accepted
sockets, and TERM exiting 0.
"""

from __future__ import annotations

import ctypes
import errno
import http.client
import os
import signal
import socket

import pytest

from gftest import BUILD_DIR, PYTHON, Spawned, binary, free_port, http_get, raw_exchange, wait_until

HELLO = BUILD_DIR / "examples/native/libhello.so"


@pytest.fixture
def hello(tmp_path):
    if not HELLO.exists():
        pytest.fail(f"{HELLO} is not built (target hello)")
    port = free_port()
    with Spawned([binary("gworker"), "-b", f"127.0.0.1:{port}", f"native:{HELLO}"],
                 logdir=tmp_path) as proc:
        wait_until(lambda: http_get(port, "/").status == 200, timeout=10,
                   message="gworker answering")
        yield port, proc


def test_get(hello):
    port, _ = hello
    r = http_get(port, "/anything?x=1")
    assert r.status == 200
    assert r.body == b"Hello, World!"
    assert r.header("Content-Length") == "13"
    assert r.header("Server") == "greenfork"
    assert r.header("Date").endswith("GMT")


def test_keep_alive_reuses_the_connection(hello):
    port, _ = hello
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/1")
        r1 = conn.getresponse()
        assert r1.read() == b"Hello, World!"
        first = conn.sock.getsockname()
        conn.request("GET", "/2")
        r2 = conn.getresponse()
        assert r2.read() == b"Hello, World!"
        assert conn.sock.getsockname() == first  # same TCP connection
    finally:
        conn.close()


def test_head_has_length_but_no_body(hello):
    port, _ = hello
    raw = raw_exchange(port, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert b"Content-Length: 13" in head
    assert body == b""


def test_pipelined_responses_in_order(hello):
    port, _ = hello
    raw = raw_exchange(port, b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                             b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
                             b"GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert raw.count(b"HTTP/1.1 200 OK") == 3
    assert raw.count(b"Hello, World!") == 3
    assert raw.endswith(b"Hello, World!")
    assert raw.count(b"Connection: close") == 1


def test_http10_closes_unless_asked(hello):
    port, _ = hello
    raw = raw_exchange(port, b"GET / HTTP/1.0\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 200 OK") and b"Connection: close" in raw
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        data = b""
        while not data.endswith(b"Hello, World!"):
            chunk = s.recv(4096)
            assert chunk, "closed before the response was complete"
            data += chunk
        assert b"Connection: keep-alive" in data


def test_framing_error_is_answered_then_closed(hello):
    port, _ = hello
    raw = raw_exchange(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 400 Bad Request")
    assert b"Connection: close" in raw


def test_term_exits_zero(hello):
    port, proc = hello
    assert http_get(port, "/").status == 200
    proc.signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def test_bad_native_library_exits_4(tmp_path):
    missing = tmp_path / "nope.so"
    with Spawned([binary("gworker"), "-b", f"127.0.0.1:{free_port()}", f"native:{missing}"],
                 logdir=tmp_path) as proc:
        assert proc.wait(timeout=10) == 4
        assert str(missing) in proc.stderr_text()


def test_unusable_socket_exits_3(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with Spawned([binary("gworker"), "-b", f"127.0.0.1:{port}", f"native:{HELLO}"],
                     logdir=tmp_path) as proc:
            assert proc.wait(timeout=10) == 3
            assert str(port) in proc.stderr_text()


def _sockets_of(pid: int):
    """(fd, peer or None, TCP_NODELAY) of each TCP socket of `pid`, read
    through pidfd_getfd (Linux 5.6+, needs ptrace rights over pid)."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = libc.syscall(434, pid, 0)  # pidfd_open
    if pidfd < 0:
        pytest.skip(f"pidfd_open: {os.strerror(ctypes.get_errno())}")
    found = []
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            if not os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                continue
            mine = libc.syscall(438, pidfd, int(fd), 0)  # pidfd_getfd
            if mine < 0:
                if ctypes.get_errno() in (errno.EPERM, errno.ENOSYS):
                    pytest.skip("pidfd_getfd is not allowed here")
                continue
            s = socket.socket(fileno=mine)
            try:
                if s.family not in (socket.AF_INET, socket.AF_INET6):
                    continue
                try:
                    peer = s.getpeername()
                except OSError:
                    peer = None  # the listening socket
                found.append((int(fd), peer, s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)))
            finally:
                s.close()
    finally:
        os.close(pidfd)
    return found


def test_accepted_sockets_have_tcp_nodelay(hello):
    port, proc = hello
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert c.recv(4096).startswith(b"HTTP/1.1 200")
        mine = c.getsockname()
        sockets = _sockets_of(proc.pid)
    served = [s for s in sockets if s[1] is not None and tuple(s[1][:2]) == tuple(mine[:2])]
    assert served, sockets
    assert all(nodelay for _, _, nodelay in sockets), sockets


def _run_with_notify_socket(tmp_path, *args: str) -> tuple[int, list[bytes]]:
    """Runs gworker with NOTIFY_SOCKET pointing at a datagram socket of ours;
    returns its exit code and every datagram it sent."""
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        env = dict(os.environ, NOTIFY_SOCKET=path)
        env.pop("LISTEN_FDS", None)
        with Spawned([binary("gworker"), *args], env=env, logdir=tmp_path) as proc:
            code = proc.wait(timeout=30)
        datagrams = []
        sock.setblocking(False)
        for _ in range(100):
            try:
                datagrams.append(sock.recv(65536))
            except BlockingIOError:
                break
    return code, datagrams


def _statuses(datagrams: list[bytes]) -> list[str]:
    return [line[len(b"STATUS="):].decode() for d in datagrams for line in d.split(b"\n")
            if line.startswith(b"STATUS=")]


def test_bad_argument_exits_2_and_says_why_over_notify(tmp_path):
    code, datagrams = _run_with_notify_socket(
        tmp_path, "-b", f"127.0.0.1:{free_port()}", "-k", "gthread", "--threads", "0",
        f"native:{HELLO}")
    assert code == 2
    statuses = _statuses(datagrams)
    assert len(statuses) == 1 and "--threads" in statuses[0], datagrams
    assert "\n" not in statuses[0]
    assert not any(b"READY=1" in d for d in datagrams)


def test_missing_app_exits_4_and_says_why_over_notify(tmp_path):
    code, datagrams = _run_with_notify_socket(
        tmp_path, "-b", f"127.0.0.1:{free_port()}", "no_such_module_gf:app")
    assert code == 4
    statuses = _statuses(datagrams)
    assert len(statuses) == 1 and "no_such_module_gf" in statuses[0], datagrams
    assert not any(b"READY=1" in d for d in datagrams)


def test_boot_failure_exits_3_and_says_why_over_notify(tmp_path):
    code, datagrams = _run_with_notify_socket(
        tmp_path, "-b", f"127.0.0.1:{free_port()}", "--chdir", str(tmp_path / "missing"),
        f"native:{HELLO}")
    assert code == 3
    statuses = _statuses(datagrams)
    assert len(statuses) == 1 and "chdir" in statuses[0], datagrams


def test_malformed_listen_fds_is_a_boot_error(tmp_path):
    """LISTEN_FDS is a strict decimal: '1abc' is refused (exit 3), not read as 1."""
    path = str(tmp_path / "n.sock")
    with socket.socket() as listener, \
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        notify.bind(path)
        fd = listener.fileno()
        # The wrapper's pid is gworker's after exec; fd 3 is the listener.
        script = ("import os, sys; os.dup2(int(sys.argv[1]), 3); "
                  "os.environ.update(LISTEN_PID=str(os.getpid()), LISTEN_FDS='1abc', "
                  "NOTIFY_SOCKET=sys.argv[2]); os.execv(sys.argv[3], sys.argv[3:])")
        with Spawned([PYTHON, "-c", script, str(fd), path, binary("gworker"), f"native:{HELLO}"],
                     logdir=tmp_path, pass_fds=(fd,)) as proc:
            code = proc.wait(timeout=30)
            output = proc.output()
        notify.settimeout(5)
        try:
            status = notify.recv(65536)
        except socket.timeout:
            raise AssertionError(f"no STATUS; exit {code}: {output}") from None
    assert code == 3, output
    assert b"LISTEN_FDS='1abc'" in status, status


def test_unusable_worker_tmp_dir_is_a_boot_error(tmp_path):
    code, datagrams = _run_with_notify_socket(
        tmp_path, "-b", f"127.0.0.1:{free_port()}", "--worker-tmp-dir", str(tmp_path / "nope"),
        f"native:{HELLO}")
    assert code == 3
    assert any("--worker-tmp-dir" in s for s in _statuses(datagrams)), datagrams
