// Internal to cli.cpp: Gunicorn's precedence. Settings come from three
// layers, each read against the settings table (settings.hpp):
//
//   the config file  <  GUNICORN_CMD_ARGS  <  the command line
//
// A later layer replaces a setting of an earlier one (a list such as -b
// too, as in Gunicorn); the result is turned back into canonical flags for
// the one CLI11 parser (cli_options.cpp), which checks every value.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config_python.hpp"
#include "greenfork/status.hpp"

namespace greenfork::arbiter::detail {

struct Layer {
  // Setting name -> values: a switch {"true"}, a list its items, else one.
  std::map<std::string, std::vector<std::string>> values;
  std::vector<std::string> positionals;
  std::vector<std::string> command;  // after "--"
  bool has_dashdash = false;
  std::vector<std::string> unknown;  // flags not in the table, for CLI11's message
  // Server hooks a config file defines (those the settings table accepts).
  std::vector<std::string> hooks;
};

// argv-style arguments. `source` names them in messages ("GUNICORN_CMD_ARGS").
// A refused setting is an error (settings::refusal).
StatusOr<Layer> layer_from_args(const std::vector<std::string>& args, const std::string& source);

// The globals of a gunicorn.conf.py; names that are not settings are
// ignored (as Gunicorn does), None means "not set", refused settings and
// values of the wrong type are errors naming the file.
StatusOr<Layer> layer_from_python(const PyGlobals& globals, const std::string& file);

// Gunicorn's shlex.split of GUNICORN_CMD_ARGS.
StatusOr<std::vector<std::string>> shell_split(const std::string& text);

// base's settings replaced by top's.
void override_with(Layer& base, const Layer& top);

// Canonical flags ("--workers=4", "--daemon"), then positionals, then
// "-- COMMAND...". `skip` names settings to leave out ("config").
std::vector<std::string> to_args(const Layer& layer, const std::vector<std::string>& skip = {});

// Gunicorn's --print-config: "name = value" for every setting, sorted,
// names padded, values as Python prints them; given ones from `layer`.
std::string print_config_text(const Layer& layer);

}  // namespace greenfork::arbiter::detail
