// native_reply_headers: a native test app that answers 200 "ok\n" with the
// response headers the request asks for: each request header "Reply" whose
// value is "Name: value" becomes the response header Name: value. The WSGI
// twin is in test_http_conformance.py; together they show that native and
// WSGI apps get the same response-header filtering.
#include <string_view>

#include "greenfork/worker/native_app.h"

namespace {

const gf_api* api = nullptr;

}  // namespace

extern "C" int gf_app_init(const gf_api* host, const char* args, gf_app_config* config) {
  (void)args;
  (void)config;
  api = host;
  return 0;
}

extern "C" int gf_app_handle(void* ctx, gf_request* req, gf_response* res) {
  (void)ctx;
  gf_str name, value;
  for (size_t i = 0; api->header_at(req, i, &name, &value) == 0; ++i) {
    if (std::string_view(name.data, name.len) != "Reply") continue;
    const std::string_view v(value.data, value.len);
    const size_t colon = v.find(": ");
    if (colon == std::string_view::npos) return -1;
    const std::string_view n = v.substr(0, colon), hv = v.substr(colon + 2);
    if (api->add_header(res, n.data(), n.size(), hv.data(), hv.size()) != 0) return -1;
  }
  return api->write(res, "ok\n", 3);
}
