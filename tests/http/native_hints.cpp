// native_hints: a native test app for api->early_hints (test_early_hints.py).
// "/" sends a 103 with two Link headers, then 200 "final rc=<rc>"; "/bad"
// tries a value with CR LF and answers with the rc it got.
#include <cstddef>
#include <string>
#include <string_view>

#include "greenfork/worker/native_app.h"

namespace {

const gf_api* api = nullptr;

gf_str str(std::string_view s) { return gf_str{s.data(), s.size()}; }

}  // namespace

extern "C" int gf_app_init(const gf_api* host, const char* args, gf_app_config* config) {
  (void)args;
  api = host;
  if (api->size < offsetof(gf_api, early_hints) + sizeof api->early_hints) {
    std::string("this gworker has no early_hints").copy(config->error, sizeof config->error - 1);
    return 1;
  }
  return 0;
}

extern "C" int gf_app_handle(void* ctx, gf_request* req, gf_response* res) {
  (void)ctx;
  const gf_str path = api->path(req);
  const bool bad = std::string_view(path.data, path.len) == "/bad";
  const gf_str names[] = {str("Link"), str("Link")};
  const gf_str good[] = {str("</style.css>; rel=preload; as=style"),
                         str("</app.js>; rel=preload; as=script")};
  const gf_str evil[] = {str("</a.css>\r\nSet-Cookie: stolen=1"), str("x")};
  const int rc = api->early_hints(res, names, bad ? evil : good, 2);
  const std::string body = "final rc=" + std::to_string(rc);
  return api->write(res, body.data(), body.size());
}
