#include "engine/access_log.hpp"

#include <strings.h>
#include <unistd.h>

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
  return std::unique_ptr<AccessLog>(
      new AccessLog(path, compile(format.empty() ? kDefaultFormat : format), file));
}

AccessLog::AccessLog(std::string path, std::vector<Atom> atoms, FILE* file)
    : path_(std::move(path)), atoms_(std::move(atoms)), file_(file) {}

AccessLog::~AccessLog() {
  flush();
  if (file_ != stdout) std::fclose(file_);
}

void AccessLog::flush() {
  const std::lock_guard<std::mutex> lock(mu_);
  std::fflush(file_);
}

void AccessLog::write_line(std::string_view line) {
  const std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line.data(), 1, line.size(), file_);
  std::fputc('\n', file_);
}

Status AccessLog::reopen() {
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
  const Request& req = exchange.request;
  const auto elapsed = std::chrono::steady_clock::now() - req.received_at;
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count();
  line_.clear();
  for (const Atom& a : atoms_) {
    switch (a.kind) {
      case 0: line_.append(a.text); break;
      case 'h': append_or_dash(line_, req.remote_addr); break;
      case 'l': line_.push_back('-'); break;
      case 'u': {
        const Header* auth = req.find_header("authorization");
        std::string user;
        if (auth != nullptr && auth->value.rfind("Basic ", 0) == 0) {
          user = base64_user(std::string_view(auth->value).substr(6));
        }
        append_or_dash(line_, user);
        break;
      }
      case 't': line_.append(clf_time()); break;
      case 'r':
        line_.append(req.method).append(" ").append(req.target);
        line_.append(req.http_minor == 0 ? " HTTP/1.0" : " HTTP/1.1");
        break;
      case 's': line_.append(std::to_string(exchange.status())); break;
      case 'm': line_.append(req.method); break;
      case 'U': line_.append(req.path); break;
      case 'q': line_.append(req.query); break;
      case 'H': line_.append(req.http_minor == 0 ? "HTTP/1.0" : "HTTP/1.1"); break;
      case 'B': line_.append(std::to_string(exchange.body_bytes_sent())); break;
      case 'b':
        if (exchange.body_bytes_sent() == 0) {
          line_.push_back('-');
        } else {
          line_.append(std::to_string(exchange.body_bytes_sent()));
        }
        break;
      case 'f': {
        const Header* h = req.find_header("referer");
        append_or_dash(line_, h ? std::string_view(h->value) : std::string_view());
        break;
      }
      case 'a': {
        const Header* h = req.find_header("user-agent");
        append_or_dash(line_, h ? std::string_view(h->value) : std::string_view());
        break;
      }
      case 'T': line_.append(std::to_string(micros / 1000000)); break;
      case 'M': line_.append(std::to_string(micros / 1000)); break;
      case 'D': line_.append(std::to_string(micros)); break;
      case 'L': {
        char text[32];
        std::snprintf(text, sizeof text, "%.6f", static_cast<double>(micros) / 1e6);
        line_.append(text);
        break;
      }
      case 'p': line_.append("<" + std::to_string(getpid()) + ">"); break;
      case 'i': {
        const Header* h = req.find_header(a.text);
        append_or_dash(line_, h ? std::string_view(h->value) : std::string_view());
        break;
      }
      case 'o': {
        std::string_view value;
        for (const Header& h : exchange.response_head().headers) {
          if (strcasecmp(h.name.c_str(), a.text.c_str()) == 0) {
            value = h.value;
            break;
          }
        }
        append_or_dash(line_, value);
        break;
      }
      case 'e': {
        const char* v = std::getenv(a.text.c_str());
        append_or_dash(line_, v ? std::string_view(v) : std::string_view());
        break;
      }
      default: break;
    }
  }
  line_.push_back('\n');
  const std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line_.data(), 1, line_.size(), file_);
}

}  // namespace greenfork::worker
