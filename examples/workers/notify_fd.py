#!/usr/bin/python3
"""notify_fd.py PROGRAM [ARGS...]: sd_notify for runtimes without unix
datagram sockets (Node.js has only UDP in `dgram`).

It connects a datagram socket to $NOTIFY_SOCKET, leaves it open across exec
as NOTIFY_FD=<n> and execs PROGRAM in its place. The program then writes
"READY=1" or "WATCHDOG=1" to that fd (a write() on a connected datagram
socket is one datagram). exec keeps the pid, so arbiterd still sees the
worker it spawned as the sender (SO_PASSCRED) and LISTEN_PID stays right;
the listening fds 3, 4, ... pass through untouched.
"""

import os
import socket
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: notify_fd.py PROGRAM [ARGS...]")
    path = os.environ.get("NOTIFY_SOCKET")
    if path:
        if path.startswith("@"):
            path = "\0" + path[1:]
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.connect(path)
        fd = sock.detach()
        os.set_inheritable(fd, True)
        os.environ["NOTIFY_FD"] = str(fd)
    try:
        os.execvp(sys.argv[1], sys.argv[1:])
    except OSError as exc:
        print(f"notify_fd.py: exec {sys.argv[1]}: {exc.strerror}", file=sys.stderr)
        sys.exit(3)  # the worker contract's "failed to boot"


if __name__ == "__main__":
    main()
