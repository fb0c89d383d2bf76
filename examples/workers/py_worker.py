#!/usr/bin/python3
"""A greenfork worker in plain Python (standard library only).

arbiterd passes the listening sockets as fds 3, 4, ... (LISTEN_FDS,
LISTEN_PID), systemd-style; this worker serves HTTP on each of them, says
READY=1 and WATCHDOG=1 on $NOTIFY_SOCKET, and on SIGTERM stops accepting,
finishes the requests in flight and exits 0.

    arbiterd -w 2 -b 127.0.0.1:8001 --heartbeat notify -- /usr/bin/python3 py_worker.py

Run alone (no LISTEN_FDS) it binds 127.0.0.1:$PORT (default 8001) itself.
"""

import http.server
import os
import signal
import socket
import sys
import threading

FIRST_LISTEN_FD = 3


class Hello(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "py_worker"

    def do_GET(self):  # noqa: N802 - http.server's name
        body = f"Hello from the Python worker, pid {os.getpid()}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):  # unix-socket peers have no address
        sys.stderr.write("py_worker[%d]: %s\n" % (os.getpid(), fmt % args))


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for requests in flight


def sd_notify(state):
    """One datagram to $NOTIFY_SOCKET (what libsystemd's sd_notify does)."""
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return
    if path.startswith("@"):
        path = "\0" + path[1:]  # abstract namespace
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(state.encode(), path)


def inherited_servers():
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        return []
    servers = []
    for fd in range(FIRST_LISTEN_FD, FIRST_LISTEN_FD + int(os.environ.get("LISTEN_FDS", "0"))):
        server = Server(("", 0), Hello, bind_and_activate=False)
        server.socket.close()
        server.socket = socket.socket(fileno=fd)  # family and type from the fd
        # Shared with the other workers: a client another worker took between
        # select() and accept() must not leave accept() blocked (a TERM would
        # wait for the next client). socketserver takes EAGAIN as "no client".
        server.socket.setblocking(False)
        servers.append(server)
    return servers


def main():
    servers = inherited_servers() or [Server(("127.0.0.1", int(os.environ.get("PORT", "8001"))), Hello)]
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))   # fast stop
    signal.signal(signal.SIGQUIT, lambda *_: os._exit(0))
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()

    sd_notify(f"READY=1\nSTATUS=serving on {len(servers)} socket(s)")
    # arbiterd wants a beat at least every ARBITER_HEARTBEAT_INTERVAL seconds.
    interval = float(os.environ.get("ARBITER_HEARTBEAT_INTERVAL", "5"))
    while not stopping.wait(interval):
        sd_notify("WATCHDOG=1")

    sd_notify("STOPPING=1")
    for server in servers:
        server.shutdown()      # stop accepting
        server.server_close()  # wait for the requests in flight
    return 0


if __name__ == "__main__":
    sys.exit(main())
