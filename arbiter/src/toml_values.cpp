#include "toml_values.hpp"

#include <cmath>

namespace greenfork::arbiter::detail {
namespace {

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date/time";
  }
}

}  // namespace

Status TomlValues::error(const toml::node& n, const std::string& key, const std::string& what) const {
  return Status::error(file_ + ":" + std::to_string(n.source().begin.line) + ": " + key + ": " + what);
}

Status TomlValues::expected(const toml::node& n, const std::string& key, const std::string& want) const {
  return error(n, key, "expected " + want + ", got " + type_name(n));
}

Status TomlValues::get(const toml::node& n, const std::string& key, std::string* out) const {
  auto v = n.value<std::string>();
  if (!n.is_string() || !v) return expected(n, key, "a string");
  *out = *v;
  return {};
}

Status TomlValues::get(const toml::node& n, const std::string& key, long long min, long long max,
                       long long* out) const {
  if (!n.is_integer()) return expected(n, key, "an integer");
  long long v = n.as_integer()->get();
  if (v < min || v > max) {
    return error(
        n, key,
        std::to_string(v) + " is out of range (" + std::to_string(min) + "-" + std::to_string(max) + ")");
  }
  *out = v;
  return {};
}

Status TomlValues::get_unsigned(const toml::node& n, const std::string& key, unsigned min,
                                unsigned* out) const {
  long long v = 0;
  Status s = get(n, key, min, 1'000'000, &v);
  if (s.ok()) *out = static_cast<unsigned>(v);
  return s;
}

Status TomlValues::get_seconds(const toml::node& n, const std::string& key, double* out) const {
  double v = 0;
  if (n.is_integer()) {
    v = static_cast<double>(n.as_integer()->get());
  } else if (n.is_floating_point()) {
    v = n.as_floating_point()->get();
  } else {
    return expected(n, key, "a number of seconds");
  }
  if (!std::isfinite(v) || v < 0) return error(n, key, "must be a number of seconds >= 0");
  *out = v;
  return {};
}

Status TomlValues::get_list(const toml::node& n, const std::string& key, bool allow_one,
                            std::vector<std::string>* out) const {
  out->clear();
  if (allow_one && n.is_string()) {
    out->push_back(*n.value<std::string>());
    return {};
  }
  const toml::array* arr = n.as_array();
  if (arr == nullptr)
    return expected(n, key, allow_one ? "a string or an array of strings" : "an array of strings");
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const toml::node& item = *arr->get(i);
    std::string s;
    Status st = get(item, key + "[" + std::to_string(i) + "]", &s);
    if (!st.ok()) return st;
    out->push_back(std::move(s));
  }
  return {};
}

Status TomlValues::read_autoscale(const toml::node& n, const std::string& path, AutoscaleConfig& a) const {
  const toml::table* t = n.as_table();
  if (t == nullptr) return expected(n, path, "a table: { min = 1, max = 8, cooldown = 30 }");
  bool has_max = false;
  for (auto&& [k, v] : *t) {
    const std::string key(k.str());
    Status s;
    if (key == "min") {
      s = get_unsigned(v, path + ".min", 1, &a.min);
    } else if (key == "max") {
      has_max = true;
      s = get_unsigned(v, path + ".max", 1, &a.max);
    } else if (key == "cooldown") {
      s = get_seconds(v, path + ".cooldown", &a.cooldown_seconds);
    } else {
      s = error(v, path + "." + key, "unknown key (expected min, max, cooldown)");
    }
    if (!s.ok()) return s;
  }
  if (!has_max) return error(n, path, "needs max (and min, 1 when left out)");
  if (a.min == 0) a.min = 1;
  if (a.max < a.min) {
    return error(n, path, "max " + std::to_string(a.max) + " is less than min " + std::to_string(a.min));
  }
  return {};
}

}  // namespace greenfork::arbiter::detail
