// arbiterd's command line: the three layers of settings (gunicorn.conf.py,
// GUNICORN_CMD_ARGS, the flags; cli_layers.hpp) merged into one argument
// list for the one parser, then turned into a Config (cli_config.hpp).
#include "greenfork/arbiter/cli.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>

#include "cli_config.hpp"
#include "cli_extras.hpp"
#include "cli_layers.hpp"
#include "cli_options.hpp"
#include "config_file.hpp"
#include "greenfork/arbiter/settings.hpp"

namespace greenfork::arbiter {
namespace {

using detail::CliOptions;

// Paths in the saved args made absolute, so a reload after --chdir still
// finds the same config file.
std::vector<std::string> absolute_args(std::vector<std::string> args) {
  const std::string cwd = detail::current_directory();
  for (std::size_t i = 0; i < args.size() && args[i] != "--"; ++i) {
    for (const char* flag : {"-c", "--config", "--chdir"}) {
      const std::string f = flag;
      auto absolute = [&](const std::string& p) {
        return p.rfind("python:", 0) == 0 ? p : detail::absolute_path(cwd, p);
      };
      if (args[i] == f && i + 1 < args.size()) {
        args[i + 1] = absolute(args[i + 1]);
        ++i;
        break;
      }
      if (args[i].rfind(f + "=", 0) == 0) {
        args[i] = f + "=" + absolute(args[i].substr(f.size() + 1));
        break;
      }
    }
  }
  return args;
}

bool wants_help_or_version(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--") break;
    if (a == "-h" || a == "--help" || a == "--help-all" || a == "--version") return true;
  }
  return false;
}

bool is_toml(const std::string& location) {
  return location.size() >= 5 && location.compare(location.size() - 5, 5, ".toml") == 0;
}

// The settings of the three layers (cli_layers.hpp), as arguments for the
// one CLI11 parser.
struct Resolved {
  std::vector<std::string> args;
  std::string python_file;    // settings came from this gunicorn.conf.py
  bool default_file = false;  // ./gunicorn.conf.py, read because no -c
  detail::Layer merged;
  // Setting name -> where its value came from, when not the command line.
  std::map<std::string, std::string> origin;
};

// A value the one parser refuses, named with the file or GUNICORN_CMD_ARGS
// it came from: "gunicorn.conf.py: --workers: Value 0 not in range ...".
Status with_origin(const Resolved& r, const Status& s) {
  for (const auto& [name, where] : r.origin) {
    const settings::Setting* setting = settings::by_name(name);
    const std::string flag = setting != nullptr ? settings::long_flag(*setting) : "";
    if (!flag.empty() && s.message().find(flag) != std::string::npos) return Status::error(where + ": " + s.message());
  }
  return s;
}

StatusOr<Resolved> resolve(const std::vector<std::string>& args) {
  Resolved r;
  if (wants_help_or_version(args)) {
    r.args = args;
    return r;
  }
  auto cmd = detail::layer_from_args(args, "");
  if (!cmd.ok()) return cmd.status();
  detail::Layer env;
  if (const char* text = std::getenv("GUNICORN_CMD_ARGS"); text != nullptr) {
    auto words = detail::shell_split(text);
    if (!words.ok()) return words.status();
    auto layer = detail::layer_from_args(*words, "GUNICORN_CMD_ARGS");
    if (!layer.ok()) return layer.status();
    if (!layer->unknown.empty()) {
      return Status::error("GUNICORN_CMD_ARGS: unrecognized option " + layer->unknown.front());
    }
    // Gunicorn reads only settings from it: an APP there is ignored.
    env = std::move(*layer);
    env.positionals.clear();
    env.command.clear();
    env.has_dashdash = false;
  }
  std::string location;
  if (auto it = cmd->values.find("config"); it != cmd->values.end()) {
    location = it->second.back();
  } else if (auto e = env.values.find("config"); e != env.values.end()) {
    location = e->second.back();
  } else if (std::error_code ec; std::filesystem::is_regular_file("gunicorn.conf.py", ec)) {
    location = "gunicorn.conf.py";
    r.default_file = true;
  }
  detail::Layer merged;
  if (!location.empty() && !is_toml(location)) {
    auto globals = detail::evaluate_python_config(location);
    if (!globals.ok()) return globals.status();
    auto file = detail::layer_from_python(*globals, location);
    if (!file.ok()) return file.status();
    merged = std::move(*file);
    r.python_file = location;
  }
  for (const auto& entry : merged.values) r.origin[entry.first] = location;
  for (const auto& entry : env.values) r.origin[entry.first] = "GUNICORN_CMD_ARGS";
  for (const auto& entry : cmd->values) r.origin.erase(entry.first);
  detail::override_with(merged, env);
  detail::override_with(merged, *cmd);
  merged.positionals = cmd->positionals;
  merged.command = cmd->command;
  merged.has_dashdash = cmd->has_dashdash;
  if (!r.python_file.empty()) {
    // The file's wsgi_app is the APP when the command line gives none.
    auto app = merged.values.find("wsgi_app");
    if (merged.positionals.empty() && !merged.has_dashdash && app != merged.values.end()) {
      merged.positionals = app->second;
    }
    r.args = detail::to_args(merged, {"config"});
  } else {
    if (!location.empty()) merged.values["config"] = {location};
    r.args = detail::to_args(merged);
  }
  r.merged = std::move(merged);
  return r;
}

StatusOr<Config> config_of(const Resolved& r, const CliOptions& given) {
  auto pasted = detail::with_paste(given);
  if (!pasted.ok()) return pasted.status();
  const CliOptions& o = *pasted;
  if (!o.paste.empty() && !o.config_file.empty() && r.python_file.empty()) {
    return Status::error("--paste cannot be used with -c " + o.config_file + " (a TOML file names its pools' apps)");
  }
  if (r.python_file.empty()) return o.config_file.empty() ? detail::config_from_flags(o) : detail::config_from_file(o);
  auto c = detail::config_from_flags(o);
  if (!c.ok()) return c;
  c->config_file = r.python_file.rfind("python:", 0) == 0
                       ? r.python_file
                       : detail::absolute_path(detail::current_directory(), r.python_file);
  c->hooks = r.merged.hooks;
  c->given_settings = r.merged.values;
  // gworker runs the worker-side hooks (and logconfig_dict) from the same
  // file (`gworker --config FILE`).
  if (!o.app.empty()) {
    for (PoolConfig& pool : c->pools) pool.command.insert(pool.command.end(), {"--config", c->config_file});
  }
  return c;
}

}  // namespace

StatusOr<Config> config_from_args(const std::vector<std::string>& args) {
  auto r = resolve(args);
  if (!r.ok()) return r.status();
  auto o = detail::parse_cli_options(r->args);
  if (!o.ok()) return with_origin(*r, o.status());
  if (o->action != CliOptions::Action::kRun) return Status::error("no configuration in --help/--version");
  return config_of(*r, *o);
}

CliOutcome parse_cli(int argc, char** argv) {
  CliOutcome out;
  std::vector<std::string> args(argv + 1, argv + argc);
  auto fail = [&out](const std::string& message) {
    std::cerr << "arbiterd: " << message << "\n";
    out.exit_code = 2;
    return out;
  };
  auto r = resolve(args);
  if (!r.ok()) return fail(r.status().message());
  auto o = detail::parse_cli_options(r->args);
  if (!o.ok()) return fail(with_origin(*r, o.status()).message());
  if (o->action == CliOptions::Action::kHelp) {
    std::cout << o->help_text;
    return out;
  }
  if (o->action == CliOptions::Action::kVersion) {
    std::cout << kVersionText << "\n";
    return out;
  }
  auto config = config_of(*r, *o);
  if (!config.ok()) return fail(config.status().message());
  if (o->print_config) {
    std::cout << (o->config_file.empty() ? detail::print_config_text(r->merged)
                                         : detail::print_toml_config(*config));
    return out;
  }
  if (o->check_config) {
    std::size_t n = config->pools.size();
    std::cout << "config OK: " << n << (n == 1 ? " pool" : " pools") << "\n";
    return out;
  }
  out.run = true;
  out.config = std::move(*config);
  if (r->default_file) args.insert(args.begin(), {"-c", "gunicorn.conf.py"});
  out.args = absolute_args(std::move(args));
  return out;
}

}  // namespace greenfork::arbiter
