// Turns a PreparedEnviron into the environ dict, under the GIL, as cheaply
// as CPython allows. Every request gets a fresh dict, copied from a
// template with room to spare (CPython copies such a dict's table whole) that holds
// the constant entries and, for the fields that repeat from request to
// request (method, protocol, scheme, server name/port, peer address, path,
// query), the str of the last value seen: a request overwrites only what
// differs. Keys are interned strings made once; header values and peer
// ports are reused from earlier requests when their text is the same.
// Every value shared this way is an immutable str, so sharing is invisible
// to apps: a dict an app keeps is never written again.
#pragma once

#include "greenfork/wsgi/py.hpp"

#include <array>
#include <cstdint>
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
  // Placeholder keys make_room() may insert at most.
  static constexpr int kRoomLimit = 64;
  // Longer texts (a long query, cookies, tokens) are not kept for reuse.
  static constexpr size_t kKeepLimit = 256;

  // A field whose last value the template holds: `text` is what
  // template_[key] says while `held` is set.
  enum Field { kMethod, kProtocol, kScheme, kServerName, kServerPort, kRemoteAddr,
               kPathInfo, kRawUri, kQuery, kFieldCount };
  struct Sticky {
    PyObject* key = nullptr;
    std::string text;
    bool held = false;
  };
  // The last str made for one header position (owned), and its text.
  struct Recent {
    std::string text;
    PyObject* object = nullptr;
  };
  // The last key looked up for one header position, by the field name as
  // received (borrowed from header_keys_).
  struct Memo {
    std::string text;
    PyObject* object = nullptr;
  };
  static constexpr size_t kHeaderSlots = 32;
  // Peer ports as str, by port modulo the table size: keep-alive
  // connections served in turn find theirs.
  static constexpr size_t kPortSlots = 64;
  struct Port {
    uint16_t number = 0;
    PyObject* object = nullptr;  // owned
  };

  bool make_room();
  // New reference to an interned key for a header's CGI name.
  PyObject* header_key(std::string_view name, Memo& memo);
  // New reference to a latin-1 str of `value`, from the bounded cache when
  // it is short.
  PyObject* cached_value(std::string_view value);
  // Sets `field` in `dict` (a copy of the template) unless the template
  // already holds `value`; then lets the template hold it.
  bool set_sticky(PyObject* dict, Field field, std::string_view value, bool cached);
  bool set_header(PyObject* dict, PyObject* key, std::string_view value, Recent& recent);
  bool set_remote_port(PyObject* dict, uint16_t port);

  PyObject* template_ = nullptr;
  PyObject* empty_ = nullptr;
  PyObject* k_remote_port_ = nullptr;
  PyObject* k_input_ = nullptr;
  std::array<Sticky, kFieldCount> sticky_;
  Cache header_keys_;
  Cache values_;
  std::array<Memo, kHeaderSlots> header_memo_;
  std::array<Recent, kHeaderSlots> header_values_;
  std::array<Port, kPortSlots> ports_;
};

}  // namespace greenfork::wsgi
