// Typed values out of a TOML document, with errors that name the file,
// the line and the key: "arbiterd.toml:12: pools.web.workers: expected an
// integer, got a string".
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

#include "greenfork/arbiter/config.hpp"
#include "greenfork/status.hpp"

namespace greenfork::arbiter::detail {

class TomlValues {
 public:
  explicit TomlValues(std::string file) : file_(std::move(file)) {}

  Status error(const toml::node& n, const std::string& key, const std::string& what) const;
  Status expected(const toml::node& n, const std::string& key, const std::string& want) const;

  Status get(const toml::node& n, const std::string& key, std::string* out) const;
  Status get(const toml::node& n, const std::string& key, long long min, long long max, long long* out) const;
  Status get_unsigned(const toml::node& n, const std::string& key, unsigned min, unsigned* out) const;
  Status get_seconds(const toml::node& n, const std::string& key, double* out) const;
  // An array of strings; a single string too when `allow_one`.
  Status get_list(const toml::node& n, const std::string& key, bool allow_one,
                  std::vector<std::string>* out) const;
  // autoscale = { min = 1, max = 8, cooldown = 30 }
  Status read_autoscale(const toml::node& n, const std::string& path, AutoscaleConfig& a) const;

  const std::string& file() const { return file_; }

 protected:
  std::string file_;
};

}  // namespace greenfork::arbiter::detail
