"""arbiterd's hook host: runs a gunicorn.conf.py's master-side server hooks
(on_starting, on_reload, when_ready, pre_fork, pre_exec, child_exit,
nworkers_changed, on_exit) for arbiterd, which links no libpython.

    /usr/bin/python3 gf_hook_host.py FD FILE | python:MODULE

arbiterd starts it with one end of a socket pair as FD. It loads the config
file as gf_config_eval.py does, then runs one hook per line it reads:

    {"id": 3, "hook": "pre_fork", "server": {...}, "args": {"worker": {...}}}
    {"id": 4, "hook": "on_reload", "reload": true, "server": {...}, "args": {}}

and answers each with a line "done ID ok" (the hook returned, or the file
does not define it) or "done ID raised" (its traceback was logged first). The
other lines it writes are "ready" (loaded), "log LEVEL TEXT" (server.log and
a raising hook's traceback, for arbiterd's error log) and "signal NAME" (what
server.reload(), server.reexec() and server.halt() ask of arbiterd). TEXT
escapes backslash and newline as \\\\ and \\n.

End of input (arbiterd exited) ends the host.
"""
import os
import signal
import sys
import traceback

from gf_config_eval import load

MASTER_HOOKS = ("on_starting", "on_reload", "when_ready", "pre_fork", "pre_exec",
                "child_exit", "nworkers_changed", "on_exit")


class Channel:
    def __init__(self, fd):
        self.out = os.fdopen(fd, "wb", buffering=0, closefd=False)
        self.inp = os.fdopen(os.dup(fd), "rb")

    def send(self, line):
        data = (line + "\n").encode("utf-8", "replace")
        while data:
            data = data[self.out.write(data):]

    def log(self, level, text):
        text = text.replace("\\", "\\\\").replace("\n", "\\n")
        self.send("log %s %s" % (level, text))


class Log:
    """server.log: Gunicorn's logger methods, written to arbiterd's error log."""

    def __init__(self, channel):
        self._channel = channel

    def _emit(self, level, msg, args, exc_info=False):
        text = str(msg)
        if args:
            try:
                text = text % args
            except (TypeError, ValueError):
                text = "%s %r" % (text, args)
        if exc_info:
            text += "\n" + traceback.format_exc().rstrip()
        self._channel.log(level, text)

    def debug(self, msg, *args, **kw):
        self._emit("debug", msg, args, kw.get("exc_info"))

    def info(self, msg, *args, **kw):
        self._emit("info", msg, args, kw.get("exc_info"))

    def warning(self, msg, *args, **kw):
        self._emit("warning", msg, args, kw.get("exc_info"))

    warn = warning

    def error(self, msg, *args, **kw):
        self._emit("error", msg, args, kw.get("exc_info"))

    def critical(self, msg, *args, **kw):
        self._emit("critical", msg, args, kw.get("exc_info"))

    def exception(self, msg, *args, **kw):
        self._emit("error", msg, args, True)

    def log(self, lvl, msg, *args, **kw):
        import logging
        name = logging.getLevelName(lvl).lower() if isinstance(lvl, int) else str(lvl).lower()
        self._emit(name if name in ("debug", "info", "warning", "error", "critical") else "info", msg, args,
                   kw.get("exc_info"))

    def reopen_files(self):
        pass

    def close_on_exec(self):
        pass


class Config:
    """server.cfg / worker.cfg: the file's settings, with the values arbiterd
    runs with (flags and GUNICORN_CMD_ARGS included) for the ones it sends."""

    def __init__(self, namespace, effective):
        for name, value in namespace.items():
            if not name.startswith("_"):
                setattr(self, name, value)
        for name, value in effective.items():
            setattr(self, name, value)
        self.address = list(getattr(self, "bind", []))


class Worker:
    """A worker as master-side hooks see it (Gunicorn's worker object)."""

    def __init__(self, info, cfg, log):
        self.pid = info.get("pid")
        self.age = info.get("age", 0)
        self.nr = info.get("nr", 0)
        self.slot = info.get("slot", 0)
        self.pool = info.get("pool", "")
        self.alive = info.get("alive", True)
        self.cfg = cfg
        self.log = log

    def __repr__(self):
        return "<Worker %s>" % self.pid


class Server:
    """The `server` argument: what Gunicorn's Arbiter offers that makes sense
    for arbiterd. Its state is arbiterd's as of the event being run."""

    def __init__(self, channel, host):
        self._channel = channel
        self._host = host
        self.log = Log(channel)
        self.pid = os.getppid()
        self.cfg = None
        self.num_workers = 0
        self.WORKERS = {}
        self.timeout = 30
        self.master_name = "Master"

    def update(self, state):
        self.pid = state.get("pid", self.pid)
        self.cfg = Config(self._host.namespace, state.get("cfg", {}))
        self.num_workers = state.get("num_workers", 0)
        self.timeout = state.get("timeout", self.timeout)
        self.WORKERS = {w["pid"]: Worker(w, self.cfg, self.log) for w in state.get("workers", [])}

    @property
    def proc_name(self):
        return self.cfg.proc_name if self.cfg is not None else "arbiterd"

    @property
    def address(self):
        return self.cfg.address if self.cfg is not None else []

    # What these ask of arbiterd runs on its loop, after this hook returns.
    def reload(self):
        self._channel.send("signal HUP")

    def reexec(self):
        self._channel.send("signal USR2")

    def halt(self, reason=None, exit_status=0):
        if reason:
            self.log.info("Reason: %s", reason)
        self._channel.send("signal TERM")

    def stop(self, graceful=True):
        self._channel.send("signal TERM" if graceful else "signal QUIT")


class Host:
    def __init__(self, fd, location):
        self.location = location
        self.channel = Channel(fd)
        self.namespace = {}
        self.server = Server(self.channel, self)

    def load(self):
        self.namespace = dict(load(self.location))

    def reload(self):
        try:
            self.load()
        except BaseException:
            self.channel.log("error", "on_reload: %s failed to load; its old hooks stay:\n%s"
                             % (self.location, traceback.format_exc().rstrip()))

    def run_hook(self, event):
        import json
        message = json.loads(event)
        if message.get("reload"):
            self.reload()
        self.server.update(message.get("server", {}))
        name = message["hook"]
        hook = self.namespace.get(name)
        args = message.get("args", {})
        outcome = "ok"
        try:
            if callable(hook):
                cfg, log = self.server.cfg, self.server.log
                if name in ("pre_fork", "child_exit"):
                    hook(self.server, Worker(args.get("worker", {}), cfg, log))
                elif name == "nworkers_changed":
                    hook(self.server, args.get("new"), args.get("old"))
                else:
                    hook(self.server)
        except BaseException:
            outcome = "raised"
            self.channel.log("error", "Exception in %s hook:\n%s" % (name, traceback.format_exc().rstrip()))
        self.channel.send("done %d %s" % (message["id"], outcome))

    def serve(self):
        for line in self.channel.inp:
            line = line.strip()
            if line:
                self.run_hook(line.decode("utf-8", "replace"))


def main(argv):
    if len(argv) != 3:
        print("usage: gf_hook_host.py FD FILE | python:MODULE", file=sys.stderr)
        return 2
    # arbiterd's TERM/INT to the process group must not interrupt a hook:
    # the host ends when arbiterd closes its end.
    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2,
              signal.SIGTTIN, signal.SIGTTOU, signal.SIGWINCH):
        signal.signal(s, signal.SIG_IGN)
    sys.path.insert(0, os.getcwd())
    host = Host(int(argv[1]), argv[2])
    try:
        host.load()
    except BaseException:
        print("Failed to read config file: %s" % argv[2], file=sys.stderr)
        traceback.print_exc()
        return 2
    host.channel.send("ready")
    host.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
