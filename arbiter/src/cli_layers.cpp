// Gunicorn's three layers of settings (cli_layers.hpp).
#include "cli_layers.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "greenfork/arbiter/settings.hpp"

namespace greenfork::arbiter::detail {
namespace {

using settings::Setting;
using settings::Type;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

void store(Layer& layer, const Setting& s, const std::string& value) {
  auto& v = layer.values[s.name];
  if (s.type == Type::kList) {
    v.push_back(value);
  } else {
    v.assign(1, value);
  }
}

// One flag occurrence. `value` is set when the argument carried it
// ("--workers=4", "-w4"); otherwise a value is taken from args[i + 1].
Status take(Layer& layer, const Setting& s, const std::string& flag, const std::string* value,
            const std::vector<std::string>& args, std::size_t& i, const std::string& source) {
  const std::string where = source.empty() ? "" : source + ": ";
  const bool refused = s.status == settings::Status::kRefused;
  if (s.type == Type::kBool) {
    if (refused) return Status::error(where + settings::refusal(s));
    if (value != nullptr) return Status::error(where + flag + " takes no value");
    store(layer, s, "true");
    return {};
  }
  std::string text;
  // Gunicorn's --proxy-protocol takes an optional value (argparse nargs='?',
  // const 'auto'): alone, or before another option, it means auto.
  const bool optional_value = std::string(s.name) == "proxy_protocol";
  if (value != nullptr) {
    text = *value;
  } else if (optional_value && (i + 1 >= args.size() || (!args[i + 1].empty() && args[i + 1][0] == '-'))) {
    text = "auto";
  } else if (i + 1 >= args.size() || args[i + 1] == "--") {
    return Status::error(where + flag + " needs a value");
  } else {
    text = args[++i];
  }
  if (refused) {
    // Gunicorn's own default asks for nothing greenfork lacks (--http-protocols h1).
    if (lower(text) == lower(s.default_text)) return {};
    return Status::error(where + settings::refusal(s));
  }
  store(layer, s, text);
  return {};
}

std::string python_repr(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string python_text(const Setting& s, const std::vector<std::string>& values) {
  if (s.type == Type::kBool) return values.empty() || values.back() != "true" ? "False" : "True";
  if (s.type == Type::kList) {
    std::string out = "[";
    for (std::size_t i = 0; i < values.size(); ++i) out += (i ? ", " : "") + python_repr(values[i]);
    return out + "]";
  }
  return values.empty() ? "" : values.back();
}

// A config file's value as the flag's text; "" error when it is fine.
Status file_value(const Setting& s, const PyGlobal& g, const std::string& file, std::vector<std::string>& out) {
  auto wrong = [&](const char* expected) {
    std::string got = g.kind == "callable" ? "a function" : g.kind;
    std::string shown = g.values.empty() ? "" : " " + g.values.front();
    return Status::error(file + ": " + s.name + ": expected " + expected + ", got " + got + shown);
  };
  const bool scalar = g.kind == "int" || g.kind == "float" || g.kind == "str" || g.kind == "bool";
  switch (s.type) {
    case Type::kBool: {
      std::string v = g.values.empty() ? "" : lower(g.values.front());
      if ((g.kind != "bool" && g.kind != "str") || (v != "true" && v != "false")) return wrong("True or False");
      out = {v};
      return {};
    }
    case Type::kInt:
    case Type::kNumber:
      if (g.kind != "int" && g.kind != "float" && g.kind != "str") return wrong("a number");
      out = g.values;
      return {};
    case Type::kString:
      // Gunicorn before 24 had proxy_protocol = True/False; 26.1 still
      // reads them as "auto" and "off".
      if (std::string(s.name) == "proxy_protocol" && g.kind == "bool" && !g.values.empty()) {
        out = {g.values.front() == "true" ? "auto" : "off"};
        return {};
      }
      if (!scalar || g.kind == "bool") return wrong("a string");
      out = g.values;
      // umask = 0o007 arrives as the int 7: hand it on in octal.
      if (std::string(s.name) == "umask" && g.kind == "int") {
        char buf[32];
        std::snprintf(buf, sizeof buf, "0o%lo", std::stoul(g.values.front()));
        out = {buf};
      }
      return {};
    case Type::kList:
      if (g.kind != "list" && g.kind != "str") return wrong("a list of strings");
      out = g.values;
      return {};
    case Type::kDict:
      if (g.kind != "dict") return wrong("a dict");
      out = g.values;
      return {};
    case Type::kCallable:
      return wrong("a function");
  }
  return {};
}

}  // namespace

StatusOr<Layer> layer_from_args(const std::vector<std::string>& args, const std::string& source) {
  Layer layer;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      layer.has_dashdash = true;
      layer.command.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
      break;
    }
    if (a.size() > 2 && a.rfind("--", 0) == 0) {
      auto eq = a.find('=');
      const std::string flag = a.substr(0, eq);
      const Setting* s = settings::by_flag(flag);
      if (s == nullptr) {
        layer.unknown.push_back(a);
        continue;
      }
      std::string value = eq == std::string::npos ? "" : a.substr(eq + 1);
      Status st = take(layer, *s, flag, eq == std::string::npos ? nullptr : &value, args, i, source);
      if (!st.ok()) return st;
      continue;
    }
    if (a.size() > 1 && a[0] == '-') {
      // -w4, -w 4, and bundled switches such as -DR.
      for (std::size_t k = 1; k < a.size(); ++k) {
        const std::string flag = std::string("-") + a[k];
        const Setting* s = settings::by_flag(flag);
        if (s == nullptr) {
          layer.unknown.push_back(k == 1 ? a : flag);
          break;
        }
        if (s->type == Type::kBool) {
          Status st = take(layer, *s, flag, nullptr, args, i, source);
          if (!st.ok()) return st;
          continue;
        }
        std::string rest = a.substr(k + 1);
        Status st = take(layer, *s, flag, rest.empty() ? nullptr : &rest, args, i, source);
        if (!st.ok()) return st;
        break;
      }
      continue;
    }
    layer.positionals.push_back(a);
  }
  return layer;
}

StatusOr<Layer> layer_from_python(const PyGlobals& globals, const std::string& file) {
  Layer layer;
  Status first_error;
  for (const auto& [name, g] : globals) {
    const Setting* s = settings::by_name(name);
    if (s == nullptr || g.kind == "none") continue;
    if (s->type == Type::kCallable) {
      if (g.kind != "callable") {
        if (first_error.ok()) first_error = Status::error(file + ": " + name + ": expected a function, got " + g.kind);
      } else if (s->status == settings::Status::kRefused) {
        if (first_error.ok()) first_error = Status::error(file + ": " + settings::refusal(*s));
      } else {
        layer.hooks.push_back(name);
      }
      continue;
    }
    std::vector<std::string> values;
    Status st = file_value(*s, g, file, values);
    if (!st.ok()) {
      if (first_error.ok()) first_error = st;
      continue;
    }
    const bool is_default = values.size() == 1 && lower(values.front()) == lower(s->default_text);
    if (s->type == Type::kBool && values.front() == "false" && is_default) continue;
    if (s->status == settings::Status::kRefused) {
      // Gunicorn's own default, written out, asks for nothing greenfork lacks.
      if (!is_default && first_error.ok()) first_error = Status::error(file + ": " + settings::refusal(*s));
      continue;
    }
    if (s->type == Type::kBool && values.front() == "false") continue;
    layer.values[name] = values;
  }
  if (!first_error.ok()) return first_error;
  return layer;
}

StatusOr<std::vector<std::string>> shell_split(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\'') {
      auto end = text.find('\'', i + 1);
      if (end == std::string::npos) return Status::error("GUNICORN_CMD_ARGS: no closing quotation");
      word += text.substr(i + 1, end - i - 1);
      in_word = true;
      i = end;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (; j < text.size() && text[j] != '"'; ++j) {
        if (text[j] == '\\' && j + 1 < text.size() && (text[j + 1] == '"' || text[j + 1] == '\\')) ++j;
        word += text[j];
      }
      if (j >= text.size()) return Status::error("GUNICORN_CMD_ARGS: no closing quotation");
      in_word = true;
      i = j;
    } else if (c == '\\') {
      if (i + 1 >= text.size()) return Status::error("GUNICORN_CMD_ARGS: no escaped character");
      word += text[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) out.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) out.push_back(word);
  return out;
}

void override_with(Layer& base, const Layer& top) {
  for (const auto& [name, values] : top.values) base.values[name] = values;
  base.unknown.insert(base.unknown.end(), top.unknown.begin(), top.unknown.end());
}

std::vector<std::string> to_args(const Layer& layer, const std::vector<std::string>& skip) {
  std::vector<std::string> out = layer.unknown;
  for (const Setting& s : settings::all()) {
    auto it = layer.values.find(s.name);
    if (it == layer.values.end()) continue;
    if (std::find(skip.begin(), skip.end(), s.name) != skip.end()) continue;
    const std::string flag = settings::long_flag(s);
    if (flag.empty()) continue;  // wsgi_app, default_proc_name: file-only
    if (s.type == Type::kBool) {
      if (!it->second.empty() && it->second.back() == "true") out.push_back(flag);
      continue;
    }
    for (const std::string& v : it->second) out.push_back(flag + "=" + v);
  }
  out.insert(out.end(), layer.positionals.begin(), layer.positionals.end());
  if (layer.has_dashdash) {
    out.push_back("--");
    out.insert(out.end(), layer.command.begin(), layer.command.end());
  }
  return out;
}

std::string print_config_text(const Layer& layer) {
  std::vector<const Setting*> sorted;
  std::size_t width = 0;
  for (const Setting& s : settings::all()) {
    sorted.push_back(&s);
    width = std::max(width, std::string(s.name).size());
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const Setting* a, const Setting* b) { return std::string(a->name) < b->name; });
  std::string out;
  for (const Setting* s : sorted) {
    auto it = layer.values.find(s->name);
    std::string value = it != layer.values.end() ? python_text(*s, it->second) : s->default_text;
    std::string name = s->name;
    name.resize(width, ' ');
    out += name + " = " + value + "\n";
  }
  return out;
}

}  // namespace greenfork::arbiter::detail
