#include "engine/access_log.hpp"

#include <strings.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>

#include "engine/exchange.hpp"
#include "greenfork/second_text.hpp"

namespace greenfork::worker {

namespace {

std::string base64_user(std::string_view b64) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0, acc = 0;
  for (const char c : b64) {
    const int v = value(c);
    if (v < 0) break;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  const size_t colon = out.find(':');
  return colon == std::string::npos ? std::string() : out.substr(0, colon);
}

std::string_view clf_time() {
  thread_local SecondText text(SecondText::Format::kCommonLog);
  return text.now();
}

void append_or_dash(std::string& line, std::string_view v) {
  if (v.empty()) {
    line.push_back('-');
  } else {
    line.append(v);
  }
}

// One atom's text, as the text format writes it.
void append_atom(std::string& line, const AccessLog::Atom& a, const AccessLog::Record& r) {
  const Request& req = *r.request;
  const int64_t micros = r.micros;
  switch (a.kind) {
    case 0: line.append(a.text); break;
    case 'h': append_or_dash(line, req.remote_addr); break;
    case 'l': line.push_back('-'); break;
    case 'u': {
      const Header* auth = req.find_header("authorization");
      std::string user;
      if (auth != nullptr && auth->value.rfind("Basic ", 0) == 0) {
        user = base64_user(std::string_view(auth->value).substr(6));
      }
      append_or_dash(line, user);
      break;
    }
    case 't': line.append(clf_time()); break;
    case 'r':
      line.append(req.method).append(" ").append(req.target);
      line.append(req.http_major == 2 ? " HTTP/2.0" : req.http_minor == 0 ? " HTTP/1.0" : " HTTP/1.1");
      break;
    case 's': line.append(std::to_string(r.status)); break;
    case 'm': line.append(req.method); break;
    case 'U': line.append(req.path); break;
    case 'q': line.append(req.query); break;
    case 'H': line.append(req.http_major == 2 ? "HTTP/2.0" : req.http_minor == 0 ? "HTTP/1.0" : "HTTP/1.1"); break;
    case 'B': line.append(std::to_string(r.body_bytes)); break;
    case 'b':
      if (r.body_bytes == 0) {
        line.push_back('-');
      } else {
        line.append(std::to_string(r.body_bytes));
      }
      break;
    case 'f': {
      const Header* h = req.find_header("referer");
      append_or_dash(line, h ? std::string_view(h->value) : std::string_view());
      break;
    }
    case 'a': {
      const Header* h = req.find_header("user-agent");
      append_or_dash(line, h ? std::string_view(h->value) : std::string_view());
      break;
    }
    case 'T': line.append(std::to_string(micros / 1000000)); break;
    case 'M': line.append(std::to_string(micros / 1000)); break;
    case 'D': line.append(std::to_string(micros)); break;
    case 'L': {
      char text[32];
      std::snprintf(text, sizeof text, "%.6f", static_cast<double>(micros) / 1e6);
      line.append(text);
      break;
    }
    case 'p': line.append("<" + std::to_string(getpid()) + ">"); break;
    case 'i': {
      const Header* h = req.find_header(a.text);
      append_or_dash(line, h ? std::string_view(h->value) : std::string_view());
      break;
    }
    case 'o': {
      std::string_view value;
      for (const Header& h : *r.response_headers) {
        if (strcasecmp(h.name.c_str(), a.text.c_str()) == 0) {
          value = h.value;
          break;
        }
      }
      append_or_dash(line, value);
      break;
    }
    case 'e': {
      const char* v = std::getenv(a.text.c_str());
      append_or_dash(line, v ? std::string_view(v) : std::string_view());
      break;
    }
    default: break;
  }
}

// A JSON string of octets taken as latin-1 (HTTP's header octets, as PEP
// 3333 reads them): always valid JSON, whatever the client sent.
void append_json_string(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20 || c >= 0x7f) {
      out.append("\\u00");
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back('"');
}

// Lowercase names; a repeated header's values joined with "," (one key each).
void append_headers_object(std::string& out, const std::vector<Header>& headers) {
  std::vector<std::pair<std::string, std::string>> merged;
  for (const Header& h : headers) {
    std::string name = h.name;
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto same = std::find_if(merged.begin(), merged.end(), [&](const auto& m) { return m.first == name; });
    if (same == merged.end()) {
      merged.emplace_back(std::move(name), h.value);
    } else {
      same->second.append(",").append(h.value);
    }
  }
  out.push_back('{');
  for (size_t i = 0; i < merged.size(); ++i) {
    if (i != 0) out.push_back(',');
    append_json_string(out, merged[i].first);
    out.push_back(':');
    append_json_string(out, merged[i].second);
  }
  out.push_back('}');
}

}  // namespace

std::vector<AccessLog::Atom> AccessLog::compile(const std::string& format) {
  std::vector<Atom> atoms;
  std::string literal;
  size_t i = 0;
  while (i < format.size()) {
    // %(x)s or %({name}i)s
    if (format[i] == '%' && i + 1 < format.size() && format[i + 1] == '(') {
      const size_t close = format.find(")s", i + 2);
      if (close != std::string::npos) {
        const std::string key = format.substr(i + 2, close - i - 2);
        Atom atom;
        if (key.size() >= 3 && key.front() == '{' && key[key.size() - 2] == '}' &&
            std::strchr("ioe", key.back()) != nullptr) {
          atom.kind = key.back();
          atom.text = key.substr(1, key.size() - 3);
        } else if (key.size() == 1 && std::strchr("hlutrsmUqHBbfaTMDLp", key[0]) != nullptr) {
          atom.kind = key[0];
        }
        if (atom.kind != 0) {
          if (!literal.empty()) atoms.push_back({0, std::move(literal)});
          literal.clear();
          atoms.push_back(std::move(atom));
          i = close + 2;
          continue;
        }
      }
    }
    if (format[i] == '%' && i + 1 < format.size() && format[i + 1] == '%') {
      literal.push_back('%');
      i += 2;
      continue;
    }
    literal.push_back(format[i++]);
  }
  if (!literal.empty()) atoms.push_back({0, std::move(literal)});
  return atoms;
}

StatusOr<std::unique_ptr<AccessLog>> AccessLog::open(const std::string& path,
                                                      const std::string& format) {
  FILE* file = nullptr;
  if (path == "-") {
    file = stdout;
  } else {
    file = std::fopen(path.c_str(), "ae");
    if (file == nullptr) return Status::from_errno("open access log " + path);
  }
  std::setvbuf(file, nullptr, _IOFBF, 64 * 1024);
  auto log = std::unique_ptr<AccessLog>(
      new AccessLog(path, compile(format.empty() ? kDefaultFormat : format), file));
  log->json_ = format == kJsonFormat;
  return log;
}

AccessLog::AccessLog(std::string path, std::vector<Atom> atoms, FILE* file)
    : path_(std::move(path)), atoms_(std::move(atoms)), file_(file) {}

std::unique_ptr<AccessLog> AccessLog::to_sink(const std::string& format, LineSink sink) {
  auto log = std::unique_ptr<AccessLog>(
      new AccessLog("", compile(format.empty() ? kDefaultFormat : format), nullptr));
  log->json_ = format == kJsonFormat;
  log->sink_ = std::move(sink);
  return log;
}

AccessLog::~AccessLog() {
  flush();
  if (file_ != nullptr && file_ != stdout) std::fclose(file_);
}

void AccessLog::flush() {
  const std::lock_guard<std::mutex> lock(mu_);
  if (file_ != nullptr) std::fflush(file_);
}

void AccessLog::write_line(std::string_view line) {
  if (sink_) {
    sink_(line);
    return;
  }
  const std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fputc('\n', file_);
}

Status AccessLog::reopen() {
  if (file_ == nullptr) return {};
  if (file_ == stdout) {
    flush();
    return {};
  }
  const std::lock_guard<std::mutex> lock(mu_);
  FILE* file = std::fopen(path_.c_str(), "ae");
  if (file == nullptr) return Status::from_errno("reopen access log " + path_);
  std::setvbuf(file, nullptr, _IOFBF, 64 * 1024);
  std::fclose(file_);
  file_ = file;
  return {};
}

void AccessLog::log(const Exchange& exchange) {
  const auto elapsed = std::chrono::steady_clock::now() - exchange.request.received_at;
  const int64_t micros = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  log(Record{&exchange.request, exchange.status(), exchange.body_bytes_sent(),
             &exchange.response_head().headers, micros});
}

void AccessLog::log(const Record& record) {
  line_.clear();
  if (json_) {
    // Every atom as a field, under its Gunicorn letter; numbers as numbers;
    // "i" and "o" hold all request and response headers (lowercase names).
    static constexpr char kStrings[] = "hlutrmUqHbfap";
    static constexpr char kNumbers[] = "sBTMDL";
    std::string value;
    line_.push_back('{');
    for (const char* kinds : {kStrings, kNumbers}) {
      for (const char* k = kinds; *k != '\0'; ++k) {
        value.clear();
        append_atom(value, Atom{*k, {}}, record);
        if (line_.size() > 1) line_.push_back(',');
        line_.push_back('"');
        line_.push_back(*k);
        line_.append("\":");
        if (kinds == kStrings) {
          append_json_string(line_, value);
        } else {
          line_.append(value);
        }
      }
    }
    line_.append(",\"i\":");
    append_headers_object(line_, record.request->headers);
    line_.append(",\"o\":");
    append_headers_object(line_, *record.response_headers);
    line_.push_back('}');
  } else {
    for (const Atom& a : atoms_) append_atom(line_, a, record);
  }
  if (sink_) {
    sink_(line_);
    return;
  }
  line_.push_back('\n');
  const std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line_.data(), 1, line_.size(), file_);
}

}  // namespace greenfork::worker
