// Turns a PreparedEnviron into the environ dict, under the GIL, as cheaply
// as CPython allows: the constant entries are copied from a template dict,
// keys are interned strings made once, and values that repeat (method,
// protocol, server name/port, peer address) come from a bounded cache.
#pragma once

#include "greenfork/wsgi/py.hpp"

#include <array>
#include <string>
#include <string_view>
#include <unordered_map>

#include "greenfork/wsgi/environ_prep.hpp"

namespace greenfork::wsgi {

struct EnvironConstants {
  bool multithread = false;
  bool multiprocess = true;
  std::string script_name;
  PyObject* errors = nullptr;        // wsgi.errors (borrowed; kept alive here)
  PyObject* file_wrapper = nullptr;  // wsgi.file_wrapper (borrowed; kept alive here)
};

class EnvironBuilder {
 public:
  EnvironBuilder() = default;
  EnvironBuilder(const EnvironBuilder&) = delete;
  EnvironBuilder& operator=(const EnvironBuilder&) = delete;
  // Leaks its references on purpose: it may outlive the interpreter.
  ~EnvironBuilder() = default;

  // GIL held. false with a Python exception set on failure.
  bool init(const EnvironConstants& constants);
  // GIL held. A new dict, or nullptr with a Python exception set.
  PyObject* build(const PreparedEnviron& prepared, const worker::Request& request,
                  PyObject* input);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Cache = std::unordered_map<std::string, PyObject*, Hash, std::equal_to<>>;
  static constexpr size_t kCacheLimit = 512;
  // In front of each Cache: the last entry per environ field (per header
  // position), compared without hashing: the same method, address and
  // header names come back request after request. Borrowed from the Cache.
  struct Memo {
    std::string text;
    PyObject* object = nullptr;
  };
  static constexpr size_t kMemoSlots = 32;
  using MemoTable = std::array<Memo, kMemoSlots>;

  // New reference to an interned key for a header's CGI name.
  PyObject* header_key(const std::string& key, Memo& memo);
  // Borrowed reference to a cached latin-1 str (new objects past the limit:
  // then the result is a new reference and *owned is set).
  PyObject* cached_value(std::string_view value, bool* owned, Memo& memo);
  bool set_cached(PyObject* dict, PyObject* key, std::string_view value, Memo& memo);

  PyObject* template_ = nullptr;
  PyObject* empty_ = nullptr;
  PyObject* k_method_ = nullptr;
  PyObject* k_path_info_ = nullptr;
  PyObject* k_query_ = nullptr;
  PyObject* k_raw_uri_ = nullptr;
  PyObject* k_server_name_ = nullptr;
  PyObject* k_server_port_ = nullptr;
  PyObject* k_protocol_ = nullptr;
  PyObject* k_remote_addr_ = nullptr;
  PyObject* k_remote_port_ = nullptr;
  PyObject* k_scheme_ = nullptr;
  PyObject* k_input_ = nullptr;
  Cache header_keys_;
  Cache values_;
  MemoTable header_memo_;
  MemoTable value_memo_;
};

}  // namespace greenfork::wsgi
