// Internal to the CLI: a gunicorn.conf.py evaluated by gf_config_eval.py
// (run with GF_PYTHON, next to arbiterd) into the globals it sets.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "greenfork/status.hpp"

namespace greenfork::arbiter::detail {

// One module global: its Python kind ("int", "str", "list", "callable", ...)
// and its values as text (a list's items; a scalar's one value).
struct PyGlobal {
  std::string kind;
  std::vector<std::string> values;
};
using PyGlobals = std::map<std::string, PyGlobal>;

// Runs the helper on `location` (a path or "python:pkg.module"). The
// helper's stderr (a broken file's traceback) goes to arbiterd's stderr.
StatusOr<PyGlobals> evaluate_python_config(const std::string& location);

// The helper's JSON: {"settings": {"name": {"kind": "...", "values": [...]}}}.
StatusOr<PyGlobals> parse_helper_output(const std::string& json);

// Where the helper is: next to this executable.
std::string config_helper_path();

}  // namespace greenfork::arbiter::detail
