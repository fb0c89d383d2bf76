// Reading arbiterd's TOML file into a Config: shape and types only. The
// checks that also apply to command-line configs live in finish_config().
#include "config_file.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <set>

#include "greenfork/arbiter/listener_set.hpp"
#include "greenfork/worker_settings.hpp"
#include "tls_check.hpp"
#include "toml_values.hpp"

namespace greenfork::arbiter::detail {
namespace {

const std::set<std::string> kArbiterKeys = {
    "name",    "pid",   "chdir",          "error_logfile", "log_level",   "log_format",
    "backlog", "umask", "control_socket", "control_bind",  "control_token_file", "metrics_bind"};

const std::set<std::string> kPoolKeys = {
    "command",         "app",          "workers",         "max_workers",  "bind",
    "env",             "cwd",          "user",            "group",        "timeout",
    "graceful_timeout", "boot_timeout", "heartbeat",      "max_request_age",
    "max_surge",       "max_unavailable", "backoff_initial", "backoff_max",
    "backoff_healthy", "worker_args", "readiness", "max_worker_memory", "autoscale"};

// Lines of the keys of one table, for messages about keys checked later.
struct TableLines {
  unsigned header = 0;
  std::map<std::string, unsigned> keys;
};

class Reader : public TomlValues {
 public:
  using TomlValues::TomlValues;

  Status read_arbiter(const toml::table& t, const std::string& base_dir, Config& c,
                      TableLines& lines) const;
  Status read_pool(const std::string& name, const toml::table& t, PoolConfig& p,
                   TableLines& lines) const;

};

Status Reader::read_arbiter(const toml::table& t, const std::string& base_dir, Config& c,
                            TableLines& lines) const {
  lines.header = t.source().begin.line;
  for (auto&& [k, node] : t) {
    const std::string key(k.str());
    const std::string path = "arbiter." + key;
    lines.keys[key] = node.source().begin.line;
    Status s;
    if (!kArbiterKeys.count(key)) {
      s = error(node, path, "unknown key");
    } else if (key == "name") {
      s = get(node, path, &c.name);
    } else if (key == "pid") {
      s = get(node, path, &c.pid_file);
    } else if (key == "chdir") {
      s = get(node, path, &c.chdir);
      if (s.ok()) c.chdir = absolute_path(base_dir, c.chdir);
    } else if (key == "error_logfile") {
      s = get(node, path, &c.error_logfile);
    } else if (key == "log_level") {
      s = get(node, path, &c.log_level);
      if (s.ok() && !valid_log_level(c.log_level)) {
        s = error(node, path, "'" + c.log_level + "' is not one of debug, info, warning, error, critical");
      }
    } else if (key == "log_format") {
      s = get(node, path, &c.log_format);
      if (s.ok() && c.log_format != "text" && c.log_format != "json") {
        s = error(node, path, "'" + c.log_format + "' is not one of text, json");
      }
    } else if (key == "backlog") {
      long long v = 0;
      s = get(node, path, 1, 65535, &v);
      c.backlog = static_cast<int>(v);
    } else if (key == "umask") {
      std::string text;
      if (node.is_integer()) {
        long long v = 0;
        s = get(node, path, 0, 0777, &v);
        c.umask = static_cast<mode_t>(v);
      } else if ((s = get(node, path, &text)).ok()) {
        auto m = parse_umask(text);
        if (m.ok()) {
          c.umask = *m;
        } else {
          s = error(node, path, m.status().message());
        }
      } else {
        s = expected(node, path, "an integer (0o077) or a string (\"077\")");
      }
    } else if (key == "control_socket") {
      s = get(node, path, &c.control_socket);
    } else if (key == "control_bind") {
      s = get(node, path, &c.control_bind);
    } else if (key == "control_token_file") {
      s = get(node, path, &c.control_token_file);
    } else if (key == "metrics_bind") {
      s = get(node, path, &c.metrics_bind);
    }
    if (!s.ok()) return s;
  }
  return {};
}

Status Reader::read_pool(const std::string& name, const toml::table& t, PoolConfig& p,
                         TableLines& lines) const {
  lines.header = t.source().begin.line;
  p.name = name;
  const std::string prefix = "pools." + name + ".";
  std::string app;
  std::vector<std::string> worker_args;
  const toml::node* command_node = nullptr;
  const toml::node* app_node = nullptr;
  const toml::node* args_node = nullptr;
  bool has_bind = false;
  for (auto&& [k, node] : t) {
    const std::string key(k.str());
    const std::string path = prefix + key;
    lines.keys[key] = node.source().begin.line;
    Status s;
    std::string text;
    if (!kPoolKeys.count(key)) {
      s = error(node, path, "unknown key");
    } else if (key == "command") {
      command_node = &node;
      s = get_list(node, path, false, &p.command);
      if (s.ok() && p.command.empty()) s = error(node, path, "must not be empty");
    } else if (key == "app") {
      app_node = &node;
      s = get(node, path, &app);
      if (s.ok() && app.empty()) s = error(node, path, "must not be empty");
    } else if (key == "worker_args") {
      args_node = &node;
      s = get_list(node, path, false, &worker_args);
    } else if (key == "workers") {
      s = get_unsigned(node, path, 1, &p.workers);
    } else if (key == "max_workers") {
      s = get_unsigned(node, path, 1, &p.max_workers);
    } else if (key == "bind") {
      has_bind = true;
      s = get_list(node, path, true, &p.binds);
    } else if (key == "env") {
      const toml::table* env = node.as_table();
      if (env == nullptr) {
        s = expected(node, path, "a table of strings");
      } else {
        for (auto&& [ek, ev] : *env) {
          std::string value;
          s = get(ev, path + "." + std::string(ek.str()), &value);
          if (!s.ok()) break;
          p.env.emplace_back(std::string(ek.str()), value);
        }
      }
    } else if (key == "cwd") {
      s = get(node, path, &p.cwd);
    } else if (key == "user") {
      s = get(node, path, &p.user);
    } else if (key == "group") {
      s = get(node, path, &p.group);
    } else if (key == "timeout") {
      s = get_seconds(node, path, &p.timeout_seconds);
    } else if (key == "graceful_timeout") {
      s = get_seconds(node, path, &p.graceful_timeout_seconds);
    } else if (key == "boot_timeout") {
      s = get_seconds(node, path, &p.boot_timeout_seconds);
    } else if (key == "max_request_age") {
      s = get_seconds(node, path, &p.max_request_age_seconds);
    } else if (key == "backoff_initial") {
      s = get_seconds(node, path, &p.backoff.initial_seconds);
    } else if (key == "backoff_max") {
      s = get_seconds(node, path, &p.backoff.max_seconds);
    } else if (key == "backoff_healthy") {
      s = get_seconds(node, path, &p.backoff.healthy_seconds);
    } else if (key == "max_surge") {
      s = get_unsigned(node, path, 0, &p.max_surge);
    } else if (key == "max_unavailable") {
      s = get_unsigned(node, path, 0, &p.max_unavailable);
    } else if (key == "max_worker_memory") {
      if (node.is_integer()) {
        long long v = 0;
        s = get(node, path, 1, std::numeric_limits<long long>::max(), &v);
        p.max_worker_memory_bytes = static_cast<uint64_t>(v);
      } else if ((s = get(node, path, &text)).ok()) {
        auto bytes = parse_size(text);
        if (bytes.ok()) p.max_worker_memory_bytes = *bytes;
        else s = error(node, path, bytes.status().message());
      } else {
        s = expected(node, path, "a size (\"512M\", \"1G\") or a number of bytes");
      }
    } else if (key == "autoscale") {
      s = read_autoscale(node, path, p.autoscale);
    } else if (key == "readiness") {
      s = get(node, path, &text);
      if (s.ok() && text != "auto" && text != "notify") {
        s = error(node, path, "'" + text + "' is not one of auto, notify");
      }
      if (s.ok()) p.readiness = text == "notify" ? Readiness::kNotify : Readiness::kAuto;
    } else if (key == "heartbeat") {
      s = get(node, path, &text);
      if (s.ok()) {
        auto mode = parse_heartbeat_mode(text);
        if (mode) {
          p.heartbeat = *mode;
        } else {
          s = error(node, path, "'" + text + "' is not one of auto, grpc, notify, none");
        }
      }
    }
    if (!s.ok()) return s;
  }
  if (command_node != nullptr && app_node != nullptr) {
    return error(*app_node, prefix + "app", "give either command or app, not both");
  }
  if (args_node != nullptr && app_node == nullptr) {
    return error(*args_node, prefix + "worker_args", "only applies with app = \"module:app\"");
  }
  if (app_node != nullptr) {
    // gworker would refuse these at every start: refuse them once, here.
    if (std::string why = worker_settings::check_worker_args(worker_args); !why.empty()) {
      return error(*args_node, prefix + "worker_args", why);
    }
    // TLS files: relative to the pool's cwd, else to the config file's directory.
    const std::string config_dir =
        std::filesystem::path(absolute_path(current_directory(), file_)).parent_path().string();
    const std::string tls_base = p.cwd.empty() ? config_dir : absolute_path(config_dir, p.cwd);
    if (Status tls = check_tls_worker_args(worker_args, tls_base); !tls.ok()) {
      return error(*args_node, prefix + "worker_args", tls.message());
    }
    p.command = gworker_command(app, worker_args);
    if (!has_bind) p.binds = default_app_binds();
  }
  return {};
}

}  // namespace

StatusOr<ConfigSource> read_config_file(const std::string& path) {
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".py") == 0) {
    return Status::error("greenfork reads TOML config files, not Python: " + path +
                         " (see examples/mixed.toml)");
  }
  const std::string file = absolute_path(current_directory(), path);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    return Status::error(path + ": no such config file");
  }
  toml::table root;
  try {
    root = toml::parse_file(file);
  } catch (const toml::parse_error& e) {
    return Status::error(path + ":" + std::to_string(e.source().begin.line) + ":" +
                         std::to_string(e.source().begin.column) + ": " +
                         std::string(e.description()));
  }
  Reader reader(path);
  ConfigSource out;
  out.config.config_file = file;
  const std::string base_dir = std::filesystem::path(file).parent_path().string();
  auto lines = std::make_shared<std::map<std::string, TableLines>>();
  for (auto&& [k, node] : root) {
    const std::string key(k.str());
    if (key == "arbiter") {
      if (!node.is_table()) return reader.expected(node, key, "a table");
      Status s = reader.read_arbiter(*node.as_table(), base_dir, out.config, (*lines)[""]);
      if (!s.ok()) return s;
    } else if (key == "pools") {
      if (!node.is_table()) return reader.expected(node, key, "a table of pools ([pools.NAME])");
      for (auto&& [pk, pool] : *node.as_table()) {
        const std::string name(pk.str());
        if (!pool.is_table()) return reader.expected(pool, "pools." + name, "a table");
        PoolConfig p;
        Status s = reader.read_pool(name, *pool.as_table(), p, (*lines)[name]);
        if (!s.ok()) return s;
        out.config.pools.push_back(std::move(p));
      }
    } else {
      return reader.error(node, key, "unknown section (expected [arbiter] or [pools.NAME])");
    }
  }
  if (out.config.pools.empty()) {
    return Status::error(path + ": no pools: add a [pools.NAME] table with a command");
  }
  out.where = [path, lines](const PoolConfig* pool, const std::string& key) {
    const auto it = lines->find(pool ? pool->name : "");
    unsigned line = 1;
    if (it != lines->end()) {
      auto k = it->second.keys.find(key);
      line = k != it->second.keys.end() ? k->second : it->second.header;
    }
    return path + ":" + std::to_string(line) + ": " + (pool ? "pools." + pool->name : "arbiter") +
           "." + key;
  };
  return out;
}

}  // namespace greenfork::arbiter::detail
