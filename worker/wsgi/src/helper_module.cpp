#include "greenfork/wsgi/helper_module.hpp"

namespace greenfork::wsgi {
namespace {

constexpr const char* kSource = R"PY(
import ast
import importlib
import sys
import traceback


class AppLoadError(Exception):
    """The spec does not name a usable WSGI application."""


def parse_expression(expr):
    try:
        node = ast.parse(expr.strip(), mode="eval").body
    except SyntaxError:
        raise AppLoadError(
            "Failed to parse %r as an attribute name or function call." % expr) from None
    args = kwargs = None
    if isinstance(node, ast.Call):
        try:
            args = [ast.literal_eval(a) for a in node.args]
            kwargs = {}
            for kw in node.keywords:
                if kw.arg is None:
                    raise ValueError("**kwargs")
                kwargs[kw.arg] = ast.literal_eval(kw.value)
        except ValueError:
            raise AppLoadError(
                "Failed to parse arguments as literal values: %r" % expr) from None
        node = node.func
    names = []
    while isinstance(node, ast.Attribute):
        names.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise AppLoadError(
            "Function reference must be a simple name or dotted attribute: %r" % expr)
    names.append(node.id)
    names.reverse()
    return names, args, kwargs


def load(module_name, expr):
    names, args, kwargs = parse_expression(expr)
    module = importlib.import_module(module_name)
    obj = module
    for name in names:
        try:
            obj = getattr(obj, name)
        except AttributeError:
            raise AppLoadError(
                "Failed to find application object %r in %r" % (expr, module_name)) from None
    if args is not None:
        obj = obj(*args, **kwargs)
    if obj is None:
        raise AppLoadError(
            "Failed to find application object %r in %r: it is None" % (expr, module_name))
    if not callable(obj):
        raise AppLoadError("Application object must be callable.")
    return obj


class FileWrapper:
    """wsgi.file_wrapper: gworker sends a real file with sendfile()."""

    def __init__(self, filelike, blksize=8192):
        self.filelike = filelike
        self.blksize = blksize
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.blksize)
        if data:
            return data
        raise StopIteration


def format_exception(exc):
    return "".join(traceback.format_exception(exc)).rstrip("\n")


def module_files():
    files = []
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if isinstance(path, str):
            if path.endswith(".pyc"):
                path = path[:-1]
            files.append(path)
    return files


def traceback_files(exc):
    files = []
    if isinstance(exc, SyntaxError) and exc.filename:
        files.append(exc.filename)
    tb = exc.__traceback__
    while tb is not None:
        files.append(tb.tb_frame.f_code.co_filename)
        tb = tb.tb_next
    return files
)PY";

PyObject* g_module = nullptr;

}  // namespace

PyObject* helper_module() {
  if (g_module) return g_module;
  PyRef code(Py_CompileString(kSource, "<greenfork/wsgi/helper_module>", Py_file_input));
  if (!code) return nullptr;
  g_module = PyImport_ExecCodeModule("_greenfork_wsgi", code.get());
  return g_module;
}

}  // namespace greenfork::wsgi
