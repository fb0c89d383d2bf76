#!/usr/bin/python3
"""A worker for arbiterd's end-to-end tests (stdlib only, /usr/bin/python3).

It follows the worker contract (DESIGN.md): serves HTTP on every inherited
listening fd (3 .. 3+LISTEN_FDS-1), speaks sd_notify to NOTIFY_SOCKET, and
can be told to misbehave:

  --no-ready             never send READY=1 (heartbeat "auto" counts it ready
                         after 1 s; "notify" must time it out)
  --ready-delay S        wait S seconds before READY=1
  --no-watchdog          send READY=1 but never WATCHDOG=1
  --watchdog S           WATCHDOG=1 period (default ARBITER_HEARTBEAT_INTERVAL, else 1)
  --crash-after S        exit 1 after S seconds
  --hang-after S         after S seconds stop heartbeats and block (also --hang: S=0
                         after READY); requests are no longer answered
  --exit N --message M   write M to stderr and exit N at once (2: bad arguments,
                         3: boot error, 4: app failed to load)
  --status M             with --exit: first send sd_notify STATUS=M (the reason)
  --ignore-term          ignore SIGTERM (arbiterd must KILL after graceful_timeout)
  --spawn-grandchild     start a sleeping grandchild (must die with the group)

Endpoints:  /          "pid <pid>\\n"
            /slow?s=N  answers after N seconds (in-flight work for graceful stops);
                       &mark=PATH: writes PATH when the request starts
            /info      JSON: pid, fds open at startup, LISTEN_*, ARBITER_*, cwd,
                       grandchild pid
"""

from __future__ import annotations

import os

# Record the fds we were given before Python opens any of its own. The fd
# listdir() uses is closed again by the time readlink runs, so it drops out.
_STARTUP_FDS = {}
for _name in os.listdir("/proc/self/fd"):
    try:
        _STARTUP_FDS[int(_name)] = os.readlink(f"/proc/self/fd/{_name}")
    except OSError:
        pass

import argparse  # noqa: E402
import http.server  # noqa: E402
import json  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402

STATE = {"grandchild": None, "hung": False}


def notify(message: str) -> None:
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return
    if path.startswith("@"):
        path = "\0" + path[1:]
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        try:
            s.sendto(message.encode(), path)
        except OSError as exc:
            print(f"testworker: sd_notify failed: {exc}", file=sys.stderr, flush=True)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet; unix peers have no address
        pass

    def _send(self, status: int, body: bytes, ctype: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        while STATE["hung"]:
            time.sleep(3600)
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/slow":
            query = urllib.parse.parse_qs(url.query)
            seconds = float(query.get("s", ["1"])[0])
            if "mark" in query:  # tells a test the request is in flight
                with open(query["mark"][0], "w") as f:
                    f.write(str(os.getpid()))
            time.sleep(seconds)
            self._send(200, f"slow {os.getpid()}\n".encode())
        elif url.path == "/info":
            info = {
                "pid": os.getpid(),
                "ppid": os.getppid(),
                "pgid": os.getpgid(0),
                "fds": {str(k): v for k, v in sorted(_STARTUP_FDS.items())},
                "env": {k: v for k, v in os.environ.items()
                        if k.startswith(("LISTEN_", "ARBITER_", "NOTIFY_", "GF_TEST_"))},
                "cwd": os.getcwd(),
                "grandchild": STATE["grandchild"],
            }
            self._send(200, json.dumps(info).encode(), "application/json")
        else:
            self._send(200, f"pid {os.getpid()}\n".encode())


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for in-flight requests
    block_on_close = True


def servers_for_inherited_fds() -> list[Server]:
    count = int(os.environ.get("LISTEN_FDS", "0") or 0)
    if os.environ.get("LISTEN_PID") != str(os.getpid()):
        count = 0
    servers = []
    for fd in range(3, 3 + count):
        server = Server(("127.0.0.1", 0), Handler, bind_and_activate=False)
        server.socket.close()
        server.socket = socket.socket(fileno=fd)
        # The listening socket is shared with the other workers: a client
        # another worker took between select() and accept() must not leave
        # this accept() blocked (it would hold the TERM-time shutdown()
        # until the next client). socketserver treats EAGAIN as "none".
        server.socket.setblocking(False)
        servers.append(server)
    return servers


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-ready", action="store_true")
    ap.add_argument("--ready-delay", type=float, default=0.0)
    ap.add_argument("--no-watchdog", action="store_true")
    ap.add_argument("--watchdog", type=float, default=None)
    ap.add_argument("--crash-after", type=float, default=None)
    ap.add_argument("--hang", action="store_true")
    ap.add_argument("--hang-after", type=float, default=None)
    ap.add_argument("--exit", type=int, default=None)
    ap.add_argument("--message", default="")
    ap.add_argument("--status", default=None)
    ap.add_argument("--ignore-term", action="store_true")
    ap.add_argument("--spawn-grandchild", action="store_true")
    args = ap.parse_args()

    if args.exit is not None:
        if args.status is not None:
            notify(f"STATUS={args.status}")
        if args.message:
            print(args.message, file=sys.stderr, flush=True)
        return args.exit

    stopping = threading.Event()
    if args.ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    signal.signal(signal.SIGQUIT, lambda *_: os._exit(0))
    # USR1 means "reopen your logs" (arbiterd forwards it); this worker has none.
    signal.signal(signal.SIGUSR1, lambda *_: None)

    if args.spawn_grandchild:
        child = subprocess.Popen(["/bin/sleep", "1000"], close_fds=True)
        STATE["grandchild"] = child.pid

    servers = servers_for_inherited_fds()
    threads = [threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.05})
               for s in servers]
    for t in threads:
        t.start()

    if args.ready_delay:
        time.sleep(args.ready_delay)
    if not args.no_ready:
        notify(f"READY=1\nSTATUS=serving on {len(servers)} sockets")
    period = args.watchdog or float(os.environ.get("ARBITER_HEARTBEAT_INTERVAL", "1") or 1)
    hang_after = 0.0 if args.hang and args.hang_after is None else args.hang_after
    started = last_beat = time.monotonic()
    while not stopping.wait(0.05):
        now = time.monotonic()
        if args.crash_after is not None and now - started >= args.crash_after:
            print("testworker: crashing as told", file=sys.stderr, flush=True)
            os._exit(1)
        if hang_after is not None and now - started >= hang_after:
            STATE["hung"] = True
            while True:  # no heartbeats, no answers: only a signal ends this
                time.sleep(3600)
        if not args.no_watchdog and not args.no_ready and now - last_beat >= period:
            notify("WATCHDOG=1")
            last_beat = now

    # TERM: stop accepting, finish in-flight requests, exit 0.
    notify("STOPPING=1")
    for s in servers:
        s.shutdown()
    for s in servers:
        s.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
