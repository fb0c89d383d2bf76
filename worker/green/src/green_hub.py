# _greenfork_green, continued (appended to green_protocol.py at build time,
# one module): the library adapters, the dispatcher on the hub, serve().


class _Gevent:
    name = "gevent"

    def __init__(self):
        import gevent.event
        import gevent.hub
        self.Event = gevent.event.Event
        # The hub runs on gworker's app thread, not the main one, where
        # gevent would make a non-default loop: libev's default loop is the
        # one with child watchers (subprocess, os.waitpid under patching).
        self.hub = gevent.hub.Hub(default=True)
        gevent.hub.set_hub(self.hub)
        self.hub_greenlet = self.hub
        self.switch_to_hub = self.hub.switch
        self._watcher = None

    def watch(self, fd, callback):
        """callback() on the hub whenever fd is readable."""
        self._watcher = self.hub.loop.io(fd, 1)
        self._watcher.start(callback)

    def unwatch(self):
        self._watcher.stop()

    def new_event(self):
        return self.Event()

    @staticmethod
    def set(event):
        event.set()


class _Eventlet:
    name = "eventlet"

    def __init__(self):
        import eventlet.event
        import eventlet.hubs
        self.Event = eventlet.event.Event
        self.hub = eventlet.hubs.get_hub()
        self.hub.ensure_greenlet()
        self.hub_greenlet = self.hub.greenlet
        self.switch_to_hub = self.hub.switch
        self._listener = None

    def watch(self, fd, callback):
        self._listener = self.hub.add(self.hub.READ, fd, lambda _fd: callback(),
                                      lambda _exc: None, None)

    def unwatch(self):
        self.hub.remove(self._listener)

    def new_event(self):
        return self.Event()

    @staticmethod
    def set(event):
        if not event.ready():
            event.send(True)


class _Dispatcher:
    """Runs on the hub, called when the event queue's eventfd is readable:
    each new request goes straight to an idle green thread (a switch from
    the hub, as a library Waiter does), or to a new one while fewer than
    --worker-connections exist, else waits in a backlog. A green thread
    serves requests one after another until the worker stops: no green
    thread, Python frame stack or pool entry is made per request (Gunicorn's
    async workers keep a green thread per keep-alive connection)."""

    def __init__(self, app, greenlet_type):
        self.app = app
        self.greenlet = greenlet_type
        self.idle = []
        self.backlog = collections.deque()
        self.count = 0
        self.stopped = _lib.new_event()
        self.fatal = None  # a SystemExit/KeyboardInterrupt from the app, re-raised by serve()

    def __call__(self):
        try:
            self.dispatch()
        except BaseException as exc:  # never into the hub (eventlet would drop the fd)
            native.log(ERROR, "green dispatcher failed\n" + _format(exc))
            self.fatal = exc
            _lib.set(self.stopped)

    def dispatch(self):
        for kind, h, ok in native.take_events():
            if kind == 0:
                cycle = h.owner = Cycle(h)
                if self.idle:
                    self.idle.pop().switch(cycle)
                elif self.count < _connections:
                    self.count += 1
                    self.greenlet(self.run, parent=_lib.hub_greenlet).switch(cycle)
                else:
                    self.backlog.append(cycle)
            elif kind == 1:
                h.owner.io_done(ok)
            elif kind == 2:
                h.owner.disconnected()
            elif kind == 3:
                # The engine has answered every request it will: done.
                _lib.set(self.stopped)

    @staticmethod
    def park(hub):
        """Waits in `idle` for the dispatcher's next request. Anything else
        that wakes the green thread (a library Timeout an earlier request
        started and never cancelled) is logged and ignored."""
        while True:
            try:
                cycle = hub()
            except _GreenletExit:
                raise
            except BaseException as exc:
                native.log(WARNING, "an idle green thread was woken by %r (left over from an "
                           "earlier request?); ignored" % (exc,))
                continue
            if type(cycle) is Cycle:
                return cycle
            native.log(WARNING, "an idle green thread was woken with %r; ignored" % (cycle,))

    def run(self, cycle):
        """A green thread's life; it parks in `idle` between requests."""
        app, idle, backlog, hub = self.app, self.idle, self.backlog, _lib.switch_to_hub
        current = _getcurrent()
        try:
            while True:
                # Each request in a fresh context, as on a new green thread.
                _Context().run(_handle, app, cycle)
                cycle = None
                if backlog:
                    cycle = backlog.popleft()
                else:
                    idle.append(current)
                    cycle = self.park(hub)
        except BaseException as exc:
            self.count -= 1
            if current in idle:
                idle.remove(current)
            if not isinstance(exc, _GreenletExit):
                self.fatal = exc
                _lib.set(self.stopped)


def serve(app, efd, loop_kind, lifespan_mode):
    global native, gnative, _lib, _hooks, _getcurrent, _GreenletExit, _Context
    import contextvars
    import greenlet
    import _greenfork_asgi_native
    import _greenfork_green_native
    native, gnative = _greenfork_asgi_native, _greenfork_green_native
    _getcurrent, _GreenletExit, _Context = greenlet.getcurrent, greenlet.GreenletExit, contextvars.Context
    _hooks = gnative.hooks()
    try:
        _lib = _Gevent() if _kind == "gevent" else _Eventlet()
        dispatcher = _Dispatcher(app, greenlet.greenlet)
        _lib.watch(efd, dispatcher)
    except Exception as exc:
        native.started(False, "cannot start the %s hub: %s" % (_kind, exc))
        return
    native.log(DEBUG, "%s hub on the app thread, up to %d green threads" % (_lib.name, _connections))
    native.started(True, "")
    try:
        dispatcher.stopped.wait()
    finally:
        _lib.unwatch()
    if dispatcher.fatal is not None:
        raise dispatcher.fatal
