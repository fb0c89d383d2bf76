#include "native/native_application.hpp"

#include <dlfcn.h>
#include <strings.h>

#include <cstring>
#include <vector>

#include "greenfork/worker/native_app.h"

// The opaque handles of native_app.h: thin views of the engine's objects.
struct gf_request {
  greenfork::worker::Request* request;
};
struct gf_response {
  greenfork::worker::ResponseWriter* writer;
  int status = 200;
  std::vector<greenfork::worker::Header> headers;
  bool started = false;
  bool gone = false;
};

namespace greenfork::worker {

namespace {

gf_str view(const std::string& s) { return gf_str{s.data(), s.size()}; }

WorkerHost* g_host = nullptr;  // for log_error; one app per process

// Sends status and headers before the first body byte.
int ensure_started(gf_response* w) {
  if (w->started) return 0;
  w->started = true;
  const Status s = w->writer->start(w->status, "", std::move(w->headers));
  return s.ok() ? 0 : -1;
}

const gf_api kApi = {
    GF_NATIVE_ABI_VERSION,
    sizeof(gf_api),
    [](const gf_request* r) { return view(r->request->method); },
    [](const gf_request* r) { return view(r->request->target); },
    [](const gf_request* r) { return view(r->request->path); },
    [](const gf_request* r) { return view(r->request->query); },
    // HTTP/2 reads as 1: a modern client (the framing is the engine's).
    [](const gf_request* r) { return r->request->http_major == 2 ? 1 : r->request->http_minor; },
    [](const gf_request* r) { return r->request->headers.size(); },
    [](const gf_request* r, size_t i, gf_str* name, gf_str* value) -> int {
      if (i >= r->request->headers.size()) return -1;
      *name = view(r->request->headers[i].name);
      *value = view(r->request->headers[i].value);
      return 0;
    },
    [](const gf_request* r, const char* name, size_t len, gf_str* value) -> int {
      const Header* h = r->request->find_header(std::string_view(name, len));
      if (h == nullptr) return -1;
      *value = view(h->value);
      return 0;
    },
    [](const gf_request* r) { return view(r->request->remote_addr); },
    [](const gf_request* r) { return static_cast<int>(r->request->remote_port); },
    [](const gf_request* r) { return view(r->request->url_scheme); },
    [](const gf_request* r) -> int64_t {
      if (!r->request->content_length) return -1;
      return static_cast<int64_t>(*r->request->content_length);
    },
    [](gf_request* r, void* buf, size_t max) -> int64_t {
      try {
        return static_cast<int64_t>(r->request->body->read(static_cast<char*>(buf), max));
      } catch (const std::exception&) {
        return -1;
      }
    },
    [](gf_response* w, int code) -> int {
      if (w->started || code < 100 || code > 999) return -1;
      w->status = code;
      return 0;
    },
    [](gf_response* w, const char* name, size_t name_len, const char* value,
       size_t value_len) -> int {
      if (w->started || name_len == 0) return -1;
      for (size_t i = 0; i < name_len; ++i) {
        const char c = name[i];
        if (c <= 0x20 || c >= 0x7f || c == ':') return -1;
      }
      for (size_t i = 0; i < value_len; ++i) {
        const char c = value[i];
        if (c == '\r' || c == '\n' || c == '\0') return -1;
      }
      w->headers.push_back({std::string(name, name_len), std::string(value, value_len)});
      return 0;
    },
    [](gf_response* w, const void* data, size_t len) -> int {
      if (w->gone || ensure_started(w) != 0) return -1;
      try {
        w->writer->write(static_cast<const char*>(data), len);
        return 0;
      } catch (const std::exception&) {
        w->gone = true;
        return -1;
      }
    },
    [](gf_response* w, int fd, int64_t offset, uint64_t count) -> int {
      if (w->gone || ensure_started(w) != 0 || offset < 0) return -1;
      try {
        w->writer->send_file(fd, static_cast<off_t>(offset), count);
        return 0;
      } catch (const std::exception&) {
        w->gone = true;
        return -1;
      }
    },
    [](const char* message, size_t len) {
      if (g_host != nullptr) g_host->log_error(std::string_view(message, len));
    },
    [](const gf_request* r) { return view(r->request->tls_client_subject); },
    [](gf_response* w, const gf_str* names, const gf_str* values, size_t count) -> int {
      if (w->gone) return -1;
      if (w->started) return 0;
      std::vector<Header> hints;
      hints.reserve(count);
      for (size_t i = 0; i < count; ++i) {
        hints.push_back({std::string(names[i].data, names[i].len),
                         std::string(values[i].data, values[i].len)});
      }
      try {
        const StatusOr<bool> sent = w->writer->send_early_hints(std::move(hints));
        if (!sent.ok()) return -1;
        return *sent ? 1 : 0;
      } catch (const std::exception&) {
        w->gone = true;
        return -1;
      }
    },
};

using InitFn = int (*)(const gf_api*, const char*, gf_app_config*);
using HandleFn = int (*)(void*, gf_request*, gf_response*);
using ShutdownFn = void (*)(void*);

class NativeApplication final : public Application {
 public:
  NativeApplication(void* library, std::string args, HandleFn handle_fn, ShutdownFn shutdown_fn)
      : library_(library), args_(std::move(args)), handle_(handle_fn), shutdown_(shutdown_fn) {}
  ~NativeApplication() override {
    // The library stays loaded: threads or atexit handlers may still use it.
    (void)library_;
  }

  Status init(InitFn init_fn, const std::string& path) {
    gf_app_config config{};
    const int rc = init_fn(&kApi, args_.c_str(), &config);
    if (rc != 0) {
      config.error[sizeof config.error - 1] = '\0';
      return Status::error("native:" + path + ": init failed: " +
                           (config.error[0] ? config.error : "returned " + std::to_string(rc)));
    }
    ctx_ = config.ctx;
    inline_ = (config.flags & GF_APP_INLINE) != 0;
    return {};
  }

  void handle(Request& request, ResponseWriter& response) override {
    gf_request req{&request};
    gf_response res{&response, 200, response.header_buffer(), false, false};
    const int rc = handle_(ctx_, &req, &res);
    if (res.gone) throw ClientGone("the client went away");
    if (rc != 0) {
      throw std::runtime_error("native handler returned " + std::to_string(rc));
    }
    if (ensure_started(&res) != 0) throw std::runtime_error("native handler: invalid headers");
    response.finish();
  }

  bool runs_inline() const override { return inline_; }

  void shutdown() override {
    if (shutdown_ != nullptr) shutdown_(ctx_);
  }

 private:
  void* library_;
  std::string args_;  // kept alive: apps may keep pointers into it
  HandleFn handle_;
  ShutdownFn shutdown_;
  void* ctx_ = nullptr;
  bool inline_ = false;
};

}  // namespace

StatusOr<std::unique_ptr<Application>> load_native_application(const std::string& spec,
                                                                WorkerHost& host) {
  g_host = &host;
  const size_t q = spec.find('?');
  const std::string path = spec.substr(0, q);
  const std::string args = q == std::string::npos ? "" : spec.substr(q + 1);
  if (path.empty()) return Status::error("native: missing library path (native:/path/libapp.so)");
  void* library = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (library == nullptr) {
    const char* why = dlerror();
    return Status::error("native:" + path + ": cannot load: " + (why ? why : "unknown error"));
  }
  auto symbol = [&](const char* name) { return dlsym(library, name); };
  void* init = symbol("gf_app_init");
  if (init == nullptr) return Status::error("native:" + path + ": missing symbol gf_app_init");
  void* handle = symbol("gf_app_handle");
  if (handle == nullptr) return Status::error("native:" + path + ": missing symbol gf_app_handle");
  void* shutdown = symbol("gf_app_shutdown");
  auto app = std::make_unique<NativeApplication>(library, args, reinterpret_cast<HandleFn>(handle),
                                                 reinterpret_cast<ShutdownFn>(shutdown));
  if (Status s = app->init(reinterpret_cast<InitFn>(init), path); !s.ok()) return s;
  return std::unique_ptr<Application>(std::move(app));
}

}  // namespace greenfork::worker
