"""_greenfork_gunicorn: Gunicorn's worker side inside gworker's interpreter.

gworker (worker/wsgi/src/gunicorn_worker.cpp) calls boot() once, then the
hooks through run_hook() and the request hooks. The loggers gunicorn.error
and gunicorn.access write through _greenfork_log into gworker's own error
and access logs, so their lines look like gworker's.
"""
import logging
import os
import sys
import types

import _greenfork_log as _native

# copy, importlib.util, inspect, json and logging.config are imported where
# they are needed: a worker with no config file or logging config does not
# pay for them (about 3 MiB of RSS each worker).

LOG_LEVELS = {"critical": logging.CRITICAL, "error": logging.ERROR,
              "warning": logging.WARNING, "info": logging.INFO,
              "debug": logging.DEBUG}

# name -> the positional arguments Gunicorn passes (its validate_callable).
HOOK_ARITY = {"post_fork": 2, "post_worker_init": 1, "worker_int": 1,
              "worker_abort": 1, "pre_request": 2, "post_request": 4,
              "worker_exit": 2, "ssl_context": 2}

# What Gunicorn logs when a hook raises.
HOOK_FAILURE = {"post_fork": "Exception in worker process",
                "post_worker_init": "Exception in worker process",
                "worker_int": "Exception in worker_int hook",
                "worker_abort": "Exception in worker_abort hook",
                "post_request": "Exception in post_request hook",
                "worker_exit": "Exception during worker exit"}


class ConfigError(Exception):
    """The config file or a logging configuration cannot be used."""


class ErrorLogHandler(logging.Handler):
    """Records to gworker's error log, in its line format and at its level."""

    def __init__(self, level=logging.NOTSET):
        super().__init__(level)
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record):
        try:
            exc = bool(record.exc_info and record.exc_info[0] is not None)
            _native.error(record.levelno, self.format(record), exc)
        except Exception:
            self.handleError(record)


class AccessLogHandler(logging.Handler):
    """Records to gworker's access log (--access-logfile), one line each."""

    def __init__(self, level=logging.NOTSET):
        super().__init__(level)
        self.setFormatter(logging.Formatter("%(message)s"))

    def emit(self, record):
        try:
            _native.access(self.format(record))
        except Exception:
            self.handleError(record)


# Gunicorn's glogging.CONFIG_DEFAULTS, but for error_console: the default
# gunicorn.error handler writes to gworker's error log (which is stderr
# unless --error-logfile says otherwise), so gworker's lines and the app's
# stay in one place and one format.
CONFIG_DEFAULTS = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": "INFO", "handlers": ["console"]},
    "loggers": {
        "gunicorn.error": {"level": "INFO", "handlers": ["error_console"],
                           "propagate": True, "qualname": "gunicorn.error"},
        "gunicorn.access": {"level": "INFO", "handlers": ["console"],
                            "propagate": True, "qualname": "gunicorn.access"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "generic",
                    "stream": "ext://sys.stdout"},
        "error_console": {"class": "_greenfork_gunicorn.ErrorLogHandler"},
    },
    "formatters": {
        "generic": {"format": "%(asctime)s [%(process)d] [%(levelname)s] %(message)s",
                    "datefmt": "[%Y-%m-%d %H:%M:%S %z]",
                    "class": "logging.Formatter"},
    },
}


def setup_logging(loglevel, access, logconfig, logconfig_dict, logconfig_json):
    """Gunicorn's glogging.Logger.setup, with gworker's logs as handlers."""
    error_log = logging.getLogger("gunicorn.error")
    error_log.propagate = False
    error_log.setLevel(LOG_LEVELS.get(loglevel.lower(), logging.INFO))
    error_log.handlers = [ErrorLogHandler()]
    access_log = logging.getLogger("gunicorn.access")
    access_log.propagate = False
    access_log.setLevel(logging.INFO)
    access_log.handlers = [AccessLogHandler()] if access else []
    if not (logconfig_dict or logconfig_json or logconfig):
        return
    import copy
    import json
    from logging import config as logging_config
    try:
        if logconfig_dict:
            config = copy.deepcopy(CONFIG_DEFAULTS)
            config.update(logconfig_dict)
            logging_config.dictConfig(config)
        elif logconfig_json:
            if not os.path.exists(logconfig_json):
                raise ConfigError("log config JSON '%s' not found" % logconfig_json)
            with open(logconfig_json) as f:
                loaded = json.load(f)
            if not isinstance(loaded, dict):
                raise ConfigError("log config JSON '%s' is not an object" % logconfig_json)
            config = copy.deepcopy(CONFIG_DEFAULTS)
            config.update(loaded)
            logging_config.dictConfig(config)
        elif logconfig:
            if not os.path.exists(logconfig):
                raise ConfigError("log config '%s' not found" % logconfig)
            defaults = {"__file__": logconfig, "here": os.path.dirname(logconfig)}
            logging_config.fileConfig(logconfig, defaults=defaults,
                                      disable_existing_loggers=False)
    except ConfigError:
        raise
    except Exception as exc:  # Gunicorn turns these into RuntimeError
        # dictConfig's "Unable to configure handler 'x'" hides why: its
        # causes (the missing module, the unopenable file) go in the reason.
        reason = "%s: %s" % (type(exc).__name__, exc)
        cause, seen = exc.__cause__ or exc.__context__, 0
        while cause is not None and seen < 4:
            reason += " (%s: %s)" % (type(cause).__name__, cause)
            cause, seen = cause.__cause__ or cause.__context__, seen + 1
        raise ConfigError("logging configuration: " + reason) from exc


def load_config(location):
    """The config's module globals, read the way Gunicorn reads them."""
    import importlib
    import importlib.machinery
    import importlib.util
    if location.startswith("python:"):
        return vars(importlib.import_module(location[len("python:"):]))
    if location.startswith("file:"):
        location = location[len("file:"):]
    if not os.path.exists(location):
        raise ConfigError("config file %r doesn't exist" % location)
    loader = importlib.machinery.SourceFileLoader("__config__", location)
    spec = importlib.util.spec_from_file_location("__config__", location, loader=loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules["__config__"] = module
    spec.loader.exec_module(module)
    return vars(module)


def positional_arity(fn):
    import inspect
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params):
        return None
    return sum(1 for p in params if p.kind in kinds)


def collect_hooks(module_vars):
    hooks = {}
    for name, arity in HOOK_ARITY.items():
        fn = module_vars.get(name)
        if fn is None:
            continue
        if not callable(fn):
            raise ConfigError("%s must be a callable, not %s" % (name, type(fn).__name__))
        got = positional_arity(fn)
        if name == "post_request" and got in (2, 3):  # Gunicorn accepts these too
            fn = (lambda f: lambda w, r, e, resp: f(w, r))(fn) if got == 2 else \
                 (lambda f: lambda w, r, e, resp: f(w, r, e))(fn)
        elif got is not None and got != arity:
            raise ConfigError("%s must take %d argument(s), it takes %d" % (name, arity, got))
        hooks[name] = fn
    return hooks


class Config:
    """worker.cfg: the config file's settings, overridden by gworker's own."""

    def __init__(self, module_vars, given):
        for name, value in module_vars.items():
            if name.startswith("_") or isinstance(value, types.ModuleType):
                continue
            setattr(self, name, value)
        for name, value in given.items():
            setattr(self, name, value)

    def __repr__(self):
        return "<greenfork Config %s>" % sorted(vars(self))


class Log:
    """worker.log / server.log: Gunicorn's glogging.Logger interface."""

    def __init__(self):
        self.error_log = logging.getLogger("gunicorn.error")
        self.access_log = logging.getLogger("gunicorn.access")

    def critical(self, msg, *args, **kwargs):
        self.error_log.critical(msg, *args, **kwargs)

    def error(self, msg, *args, **kwargs):
        self.error_log.error(msg, *args, **kwargs)

    def warning(self, msg, *args, **kwargs):
        self.error_log.warning(msg, *args, **kwargs)

    def info(self, msg, *args, **kwargs):
        self.error_log.info(msg, *args, **kwargs)

    def debug(self, msg, *args, **kwargs):
        self.error_log.debug(msg, *args, **kwargs)

    def exception(self, msg, *args, **kwargs):
        self.error_log.exception(msg, *args, **kwargs)

    def log(self, lvl, msg, *args, **kwargs):
        if isinstance(lvl, str):
            lvl = LOG_LEVELS.get(lvl.lower(), logging.INFO)
        self.error_log.log(lvl, msg, *args, **kwargs)

    def reopen_files(self):
        """gworker reopens its log files itself on USR1."""

    def close_on_exec(self):
        """gworker's log files are already close-on-exec."""


class Worker:
    """The worker object hooks get (Gunicorn's workers.base.Worker)."""

    def __init__(self, cfg, log):
        self.pid = os.getpid()
        self.ppid = os.getppid()
        slot = os.environ.get("ARBITER_WORKER_ID", "0")
        self.age = int(slot) if slot.isdigit() else slot
        self.cfg = cfg
        self.log = log
        self.alive = True
        self.booted = False
        self.aborted = False
        self.timeout = getattr(cfg, "timeout", 30)
        self.app = None
        self.wsgi = None
        self.sockets = []
        self.tmp = None

    @property
    def nr(self):
        return _native.requests()

    def notify(self):
        """gworker beats on its own I/O thread."""

    def __str__(self):
        return "<Worker %s>" % self.pid


class Arbiter:
    """The `server` of post_fork/worker_exit: what a worker knows of arbiterd."""

    def __init__(self, cfg, log):
        self.pid = os.getppid()
        self.cfg = cfg
        self.log = log
        self.num_workers = getattr(cfg, "workers", None)
        self.proc_name = getattr(cfg, "proc_name", None)

    def __str__(self):
        return "<Arbiter %s>" % self.pid


class Request:
    """pre_request/post_request's req (Gunicorn's http.message.Request)."""

    def __init__(self, method, uri, path, query, version, headers, scheme, peer):
        self.method = method
        self.uri = uri
        self.path = path
        self.query = query
        self.fragment = ""
        self.version = version
        self.headers = headers
        self.trailers = []
        self.scheme = scheme
        self.peer_addr = peer
        self.remote_addr = peer
        self.body = None

    def __repr__(self):
        return "<Request %s %s>" % (self.method, self.uri)


class Response:
    """post_request's resp (Gunicorn's http.wsgi.Response, after the fact)."""

    def __init__(self, status, headers, sent, response_length):
        self.status = status
        self.status_code = int(status.split(None, 1)[0]) if status else None
        self.headers = headers
        self.sent = sent
        self.response_length = response_length
        self.headers_sent = bool(status)

    def __repr__(self):
        return "<Response %s>" % self.status


HOOKS = {}
WORKER = None
SERVER = None


def boot(location, given, loglevel, access, logconfig, logconfig_dict_text, logconfig_json):
    """Reads the config, sets up logging, makes the worker.

    Returns (hook names, whether a logging config was applied).
    """
    global HOOKS, WORKER, SERVER
    module_vars = load_config(location) if location else {}
    hooks = collect_hooks(module_vars)
    if logconfig_dict_text:
        import json
        try:
            logconfig_dict = json.loads(logconfig_dict_text)
        except ValueError as exc:
            raise ConfigError("--log-config-dict: not JSON: %s" % exc) from None
    else:
        logconfig_dict = module_vars.get("logconfig_dict") or {}
    if not isinstance(logconfig_dict, dict):
        raise ConfigError("logconfig_dict must be a dict")
    logconfig = logconfig or module_vars.get("logconfig") or ""
    logconfig_json = logconfig_json or module_vars.get("logconfig_json") or ""
    setup_logging(loglevel, access, logconfig, logconfig_dict, logconfig_json)
    cfg = Config(module_vars, given)
    log = Log()
    HOOKS = hooks
    WORKER = Worker(cfg, log)
    SERVER = Arbiter(cfg, log)
    return tuple(sorted(hooks)), bool(logconfig_dict or logconfig_json or logconfig)


def access_lines(lines):
    """Access lines gworker formatted, for gunicorn.access's handlers."""
    log = logging.getLogger("gunicorn.access")
    for line in lines:
        log.info(line)


def run_hook(name):
    """Runs a lifecycle hook; a raising hook is logged. False when it raised."""
    if name in ("worker_int", "worker_abort"):
        WORKER.alive = False
        WORKER.aborted = name == "worker_abort"
    hook = HOOKS.get(name)
    if hook is None:
        WORKER.booted = WORKER.booted or name == "post_worker_init"
        return True
    try:
        if name in ("post_fork", "worker_exit"):
            hook(SERVER, WORKER)
        else:
            hook(WORKER)
    except Exception:
        WORKER.log.exception(HOOK_FAILURE[name])
        return False
    if name == "post_worker_init":
        WORKER.booted = True
    return True


def pre_request(req):
    """Raises what the hook raised: the request then fails (500), as in Gunicorn."""
    HOOKS["pre_request"](WORKER, req)


def post_request(req, environ, resp):
    try:
        HOOKS["post_request"](WORKER, req, environ, resp)
    except Exception:
        WORKER.log.exception(HOOK_FAILURE["post_request"])


def make_ssl_context(certfile, keyfile, ca_certs, ciphers, cert_reqs, min_version, max_version):
    """Gunicorn's ssl_context(config, default_ssl_context_factory) hook: the
    factory builds an ssl.SSLContext from gworker's TLS settings; the hook's
    SSLContext is what gworker serves with (its OpenSSL context). Callbacks
    that Python runs with its own socket objects cannot work there."""
    import ssl

    def default_ssl_context_factory():
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion(min_version)
        if max_version:
            context.maximum_version = ssl.TLSVersion(max_version)
        context.load_cert_chain(certfile=certfile, keyfile=keyfile or None)
        context.verify_mode = ssl.VerifyMode(cert_reqs)
        if ca_certs:
            context.load_verify_locations(cafile=ca_certs)
        if ciphers:
            context.set_ciphers(ciphers)
        return context

    try:
        context = HOOKS["ssl_context"](WORKER.cfg, default_ssl_context_factory)
    except Exception as exc:
        WORKER.log.exception("Exception in ssl_context hook")
        raise ConfigError("the ssl_context hook raised %s: %s" % (type(exc).__name__, exc)) from None
    if not isinstance(context, ssl.SSLContext):
        raise ConfigError("the ssl_context hook must return an ssl.SSLContext, not %s"
                          % type(context).__name__)
    if context.sni_callback is not None:
        raise ConfigError("the ssl_context hook's context has an sni_callback: not supported "
                          "(gworker's TLS connections are not Python sockets)")
    if context.keylog_filename:
        raise ConfigError("the ssl_context hook's context has a keylog_filename: not supported")
    return context
