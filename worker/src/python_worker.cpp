#include "python_worker.hpp"

#include "engine/access_log.hpp"
#include "greenfork/worker/app.hpp"

#ifdef GF_HAVE_WSGI
#include "greenfork/wsgi/gunicorn_worker.hpp"
#endif

namespace greenfork::worker {

#ifdef GF_HAVE_WSGI

namespace {

using Value = wsgi::GunicornSetup::Value;

Value text_or_none(const std::string& s) { return s.empty() ? Value{} : Value{s}; }

// What worker.cfg shows of gworker's own settings (Gunicorn's names).
std::vector<std::pair<std::string, Value>> cfg_settings(const Options& o) {
  return {
      {"wsgi_app", o.app},
      {"bind", o.bind},
      {"worker_class", o.worker_class},
      {"threads", static_cast<long long>(o.threads)},
      {"worker_connections", static_cast<long long>(o.worker_connections)},
      {"keepalive", o.keep_alive},
      {"timeout", o.timeout},
      {"graceful_timeout", o.graceful_timeout},
      {"max_requests", static_cast<long long>(o.max_requests)},
      {"max_requests_jitter", static_cast<long long>(o.max_requests_jitter)},
      {"limit_request_line", static_cast<long long>(o.limits.request_line)},
      {"limit_request_fields", static_cast<long long>(o.limits.fields)},
      {"limit_request_field_size", static_cast<long long>(o.limits.field_size)},
      {"accesslog", text_or_none(o.access_logfile)},
      {"access_log_format", o.access_logformat.empty() ? std::string(AccessLog::kDefaultFormat)
                                                       : o.access_logformat},
      {"errorlog", o.error_logfile},
      {"loglevel", o.log_level},
      {"logconfig", text_or_none(o.log_config)},
      {"logconfig_json", text_or_none(o.log_config_json)},
      {"statsd_host", text_or_none(o.statsd_host)},
      {"statsd_prefix", o.statsd_prefix},
      {"dogstatsd_tags", o.dogstatsd_tags},
      {"forwarded_allow_ips", o.forwarded_allow_ips},
      {"proxy_allow_ips", o.proxy_allow_from},
      {"protocol", o.protocol},
      {"uwsgi_allow_ips", o.uwsgi_allow_from},
      {"certfile", text_or_none(o.tls.certfile)},
      {"keyfile", text_or_none(o.tls.keyfile)},
      {"ca_certs", text_or_none(o.tls.ca_certs)},
      {"ciphers", text_or_none(o.tls.ciphers)},
      {"cert_reqs", static_cast<long long>(o.tls.cert_reqs)},
      {"is_ssl", o.tls.enabled()},
      {"pythonpath", o.pythonpath},
      {"raw_env", o.env},
      {"reload", o.reload},
      {"proc_name", text_or_none(o.name)},
      {"worker_tmp_dir", text_or_none(o.worker_tmp_dir)},
  };
}

}  // namespace

struct PythonWorker::Impl {
  std::unique_ptr<wsgi::GunicornWorker> worker;
};

PythonWorker::PythonWorker() : impl_(std::make_unique<Impl>()) {}
PythonWorker::~PythonWorker() = default;

Status PythonWorker::boot(const Options& o, const AppOptions& app, AccessLog* access_log,
                          bool* app_error) {
  *app_error = false;
  const bool native = app.spec.rfind("native:", 0) == 0;
  if (native && o.config.empty() && o.log_config.empty() && o.log_config_dict.empty() &&
      o.log_config_json.empty()) {
    return {};
  }
  wsgi::InterpreterOptions interpreter;
  interpreter.chdir = app.chdir;
  interpreter.pythonpath = app.pythonpath;
  interpreter.virtualenv = app.virtualenv;
  interpreter.argv = {"gworker", app.spec};
  wsgi::GunicornSetup setup;
  setup.config = o.config;
  setup.log_level = o.log_level;
  setup.access_log = access_log != nullptr;
  if (access_log != nullptr) {
    setup.access_writer = [access_log](std::string_view line) { access_log->write_line(line); };
  }
  setup.log_config = o.log_config;
  setup.log_config_dict = o.log_config_dict;
  setup.log_config_json = o.log_config_json;
  setup.settings = cfg_settings(o);
  auto booted = wsgi::GunicornWorker::boot(interpreter, setup, app_error);
  if (!booted.ok()) return booted.status();
  impl_->worker = std::move(*booted);
  return {};
}

bool PythonWorker::booted() const { return impl_->worker != nullptr; }
Status PythonWorker::post_fork() { return booted() ? impl_->worker->post_fork() : Status{}; }
Status PythonWorker::post_worker_init() {
  return booted() ? impl_->worker->post_worker_init() : Status{};
}
void PythonWorker::worker_int() {
  if (booted()) impl_->worker->worker_int();
}
void PythonWorker::worker_abort() {
  if (booted()) impl_->worker->worker_abort();
}
void PythonWorker::worker_exit() {
  if (!booted()) return;
  impl_->worker->worker_exit();
  impl_->worker->stop_forwarding();
}
bool PythonWorker::forwards_access() const { return booted() && impl_->worker->forwards_access(); }
void PythonWorker::access_line(std::string_view line) {
  if (booted()) impl_->worker->access_line(line);
}
bool PythonWorker::handles_abort() const {
  return booted() && (impl_->worker->has("worker_abort") || impl_->worker->has("worker_exit"));
}
StatusOr<std::shared_ptr<asio::ssl::context>> PythonWorker::ssl_context(const tls::TlsSettings& s) {
  if (!booted() || !impl_->worker->has("ssl_context")) return std::shared_ptr<asio::ssl::context>();
  wsgi::GunicornWorker::TlsFiles files{s.certfile, s.keyfile, s.ca_certs, s.ciphers,
                                       static_cast<int>(s.cert_reqs), s.min_version, s.max_version};
  StatusOr<void*> native = impl_->worker->ssl_context(files);
  if (!native.ok()) return native.status();
  return tls::adopt_context(*native, s);
}

#else  // a gworker without Python: only native apps, no hooks

struct PythonWorker::Impl {};
PythonWorker::PythonWorker() : impl_(std::make_unique<Impl>()) {}
PythonWorker::~PythonWorker() = default;
Status PythonWorker::boot(const Options& o, const AppOptions&, AccessLog*, bool* app_error) {
  *app_error = false;
  if (!o.config.empty() || !o.log_config.empty() || !o.log_config_dict.empty() ||
      !o.log_config_json.empty()) {
    return Status::error("--config and --log-config* need Python: this gworker was built without it");
  }
  return {};
}
bool PythonWorker::booted() const { return false; }
Status PythonWorker::post_fork() { return {}; }
Status PythonWorker::post_worker_init() { return {}; }
void PythonWorker::worker_int() {}
void PythonWorker::worker_abort() {}
void PythonWorker::worker_exit() {}
bool PythonWorker::forwards_access() const { return false; }
void PythonWorker::access_line(std::string_view) {}
bool PythonWorker::handles_abort() const { return false; }
StatusOr<std::shared_ptr<asio::ssl::context>> PythonWorker::ssl_context(const tls::TlsSettings&) {
  return std::shared_ptr<asio::ssl::context>();
}

#endif

}  // namespace greenfork::worker
