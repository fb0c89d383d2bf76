#include "tls_check.hpp"

#include "config_file.hpp"
#include "tls/tls_context.hpp"

namespace greenfork::arbiter::detail {

Status check_tls_worker_args(std::vector<std::string>& args, const std::string& cwd) {
  tls::TlsSettings s;
  for (std::size_t i = 0; i < args.size() && args[i] != "--"; ++i) {
    std::string flag = args[i];
    std::string* value = nullptr;
    std::string inline_value;
    const auto eq = flag.find('=');
    if (flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      inline_value = flag.substr(eq + 1);
      flag.erase(eq);
      value = &inline_value;
    } else if (i + 1 < args.size()) {
      value = &args[i + 1];
    }
    const bool path = flag == "--certfile" || flag == "--keyfile" || flag == "--ca-certs";
    const bool other = flag == "--cert-reqs" || flag == "--ciphers" || flag == "--ssl-version";
    if ((!path && !other) || value == nullptr) continue;
    if (path && !value->empty()) *value = absolute_path(cwd, *value);
    if (flag == "--certfile") s.certfile = *value;
    if (flag == "--keyfile") s.keyfile = *value;
    if (flag == "--ca-certs") s.ca_certs = *value;
    if (flag == "--ciphers") s.ciphers = *value;
    if (flag == "--cert-reqs") {
      auto reqs = tls::parse_cert_reqs(*value);
      if (!reqs.ok()) return reqs.status();
      s.cert_reqs = *reqs;
    }
    if (flag == "--ssl-version") {
      if (Status st = tls::apply_ssl_version(*value, s); !st.ok()) return st;
    }
    if (value == &inline_value) {
      args[i] = flag + "=" + inline_value;
    } else {
      ++i;
    }
  }
  if (s.certfile.empty()) {
    if (!s.keyfile.empty() || !s.ca_certs.empty()) return Status::error("--keyfile and --ca-certs need --certfile");
    return {};
  }
  auto ctx = tls::build_context(s);
  if (!ctx.ok()) return ctx.status();
  return {};
}

}  // namespace greenfork::arbiter::detail
