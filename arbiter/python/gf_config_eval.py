"""Evaluates a Gunicorn config file the way Gunicorn does and prints what it
sets as JSON on stdout, for arbiterd (which links no libpython).

    /usr/bin/python3 gf_config_eval.py gunicorn.conf.py
    /usr/bin/python3 gf_config_eval.py python:pkg.module

The file is executed as the module ``__config__`` (``python:`` imports the
module instead); its public globals are the settings. Each one is printed
with its kind so that arbiterd can check it against its settings table:

    {"settings": {"workers": {"kind": "int", "values": ["4"]},
                  "bind": {"kind": "list", "values": ["0.0.0.0:8000"]},
                  "on_starting": {"kind": "callable", "values": ["on_starting"]}}}

A file that fails is reported as Gunicorn reports it ("Failed to read config
file: ..." and the traceback) on stderr, exit 2.
"""
import importlib
import importlib.machinery
import importlib.util
import json
import os
import sys
import traceback
import types


def load(location):
    if location.startswith("python:"):
        return vars(importlib.import_module(location[len("python:"):]))
    if not os.path.exists(location):
        raise RuntimeError("%r doesn't exist" % location)
    name = "__config__"
    ext = os.path.splitext(location)[1]
    if ext in (".py", ".pyc"):
        spec = importlib.util.spec_from_file_location(name, location)
    else:
        loader = importlib.machinery.SourceFileLoader(name, location)
        spec = importlib.util.spec_from_file_location(name, location, loader=loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return vars(module)


def describe(value):
    if isinstance(value, bool):
        return "bool", ["true" if value else "false"]
    if isinstance(value, int):
        return "int", [str(value)]
    if isinstance(value, float):
        return "float", [repr(value)]
    if isinstance(value, str):
        return "str", [value]
    if value is None:
        return "none", []
    if isinstance(value, (list, tuple, set, frozenset)):
        return "list", [item if isinstance(item, str) else repr(item) for item in value]
    if isinstance(value, dict):
        return "dict", [repr(value)]
    if callable(value):
        return "callable", [getattr(value, "__qualname__", repr(value))]
    return "object", [repr(value)]


def main(argv):
    if len(argv) != 2:
        print("usage: gf_config_eval.py FILE | python:MODULE", file=sys.stderr)
        return 2
    location = argv[1]
    sys.path.insert(0, os.getcwd())
    # What the file prints goes to stderr: stdout carries only the JSON.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        namespace = load(location)
    except BaseException:  # SystemExit and KeyboardInterrupt too: the file failed
        print("Failed to read config file: %s" % location, file=sys.stderr)
        traceback.print_exc()
        sys.stderr.flush()
        return 2
    settings = {}
    for name, value in namespace.items():
        if name.startswith("_") or isinstance(value, types.ModuleType):
            continue
        kind, values = describe(value)
        settings[name] = {"kind": kind, "values": values}
    json.dump({"settings": settings}, out)
    out.write("\n")
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
