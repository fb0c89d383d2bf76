// gunicorn.conf.py through the helper: run it, read its JSON.
#include "config_python.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "greenfork/unique_fd.hpp"

#ifndef GF_PYTHON
#define GF_PYTHON "/usr/bin/python3"
#endif

namespace greenfork::arbiter::detail {
namespace {

// Just enough JSON for the helper's output: objects, arrays and strings
// (numbers, true, false and null are read and rejected where not expected).
class JsonReader {
 public:
  explicit JsonReader(const std::string& text) : s_(text) {}

  StatusOr<PyGlobals> document() {
    PyGlobals out;
    bool found = false;
    Status st = object([&](const std::string& key) -> Status {
      if (key != "settings") return skip_value();
      found = true;
      return object([&](const std::string& name) -> Status {
        PyGlobal g;
        Status inner = object([&](const std::string& field) -> Status {
          if (field == "kind") return string(g.kind);
          if (field == "values") return string_array(g.values);
          return skip_value();
        });
        if (inner.ok()) out[name] = std::move(g);
        return inner;
      });
    });
    if (!st.ok()) return st;
    space();
    if (i_ != s_.size() || !found) return bad("trailing text or no settings");
    return out;
  }

 private:
  template <typename OnKey>
  Status object(OnKey on_key) {
    space();
    if (!eat('{')) return bad("expected '{'");
    space();
    if (eat('}')) return {};
    for (;;) {
      std::string key;
      if (Status s = string(key); !s.ok()) return s;
      space();
      if (!eat(':')) return bad("expected ':'");
      if (Status s = on_key(key); !s.ok()) return s;
      space();
      if (eat('}')) return {};
      if (!eat(',')) return bad("expected ',' or '}'");
      space();
    }
  }

  Status string_array(std::vector<std::string>& out) {
    space();
    if (!eat('[')) return bad("expected '['");
    space();
    if (eat(']')) return {};
    for (;;) {
      std::string item;
      if (Status s = string(item); !s.ok()) return s;
      out.push_back(std::move(item));
      space();
      if (eat(']')) return {};
      if (!eat(',')) return bad("expected ',' or ']'");
    }
  }

  Status string(std::string& out) {
    space();
    if (!eat('"')) return bad("expected a string");
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      if (c != '\\') {
        out += c;
        continue;
      }
      if (i_ >= s_.size()) break;
      char e = s_[i_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 't': out += '\t'; break;
        case 'r': out += '\r'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          unsigned cp = 0;
          if (!hex4(cp)) return bad("bad \\u escape");
          if (cp >= 0xD800 && cp < 0xDC00) {
            unsigned lo = 0;
            if (!(eat('\\') && eat('u') && hex4(lo)) || lo < 0xDC00 || lo > 0xDFFF) return bad("bad surrogate");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          utf8(cp, out);
          break;
        }
        default: out += e;  // " \ /
      }
    }
    if (!eat('"')) return bad("unterminated string");
    return {};
  }

  Status skip_value() {
    space();
    if (i_ < s_.size() && s_[i_] == '"') {
      std::string ignored;
      return string(ignored);
    }
    if (i_ < s_.size() && s_[i_] == '{') return object([&](const std::string&) { return skip_value(); });
    if (i_ < s_.size() && s_[i_] == '[') {
      ++i_;
      space();
      if (eat(']')) return {};
      for (;;) {
        if (Status s = skip_value(); !s.ok()) return s;
        space();
        if (eat(']')) return {};
        if (!eat(',')) return bad("expected ',' or ']'");
      }
    }
    std::size_t start = i_;
    while (i_ < s_.size() && std::strchr("0123456789+-.eEtrufalsn", s_[i_]) != nullptr) ++i_;
    return i_ > start ? Status() : bad("expected a value");
  }

  bool hex4(unsigned& v) {
    if (i_ + 4 > s_.size()) return false;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else return false;
    }
    return true;
  }

  static void utf8(unsigned cp, std::string& out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  void space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
  }
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  Status bad(const std::string& why) const {
    return Status::error("config helper output at byte " + std::to_string(i_) + ": " + why);
  }

  const std::string& s_;
  std::size_t i_ = 0;
};

}  // namespace

StatusOr<PyGlobals> parse_helper_output(const std::string& json) { return JsonReader(json).document(); }

std::string config_helper_path() {
  std::error_code ec;
  auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "gf_config_eval.py";
  return (self.parent_path() / "gf_config_eval.py").string();
}

StatusOr<PyGlobals> evaluate_python_config(const std::string& location) {
  const std::string helper = config_helper_path();
  if (::access(helper.c_str(), R_OK) != 0) {
    return Status::error("the config helper " + helper + " is missing: it is installed next to arbiterd");
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::from_errno("pipe");
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  const pid_t pid = ::fork();
  if (pid < 0) return Status::from_errno("fork");
  if (pid == 0) {  // async-signal-safe calls only; execv or _exit, no destructor runs
    ::dup2(fds[1], 1);
    const char* argv[] = {GF_PYTHON, helper.c_str(), location.c_str(), nullptr};
    ::execv(GF_PYTHON, const_cast<char* const*>(argv));
    ::_exit(127);
  }
  write_end.reset();
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(read_end.get(), buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  read_end.reset();
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
    return Status::error(std::string("cannot run ") + GF_PYTHON + " to read " + location);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::error("config file " + location + " failed (its traceback is above)");
  }
  return parse_helper_output(out);
}

}  // namespace greenfork::arbiter::detail
