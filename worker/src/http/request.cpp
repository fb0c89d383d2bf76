// Request's helpers (app.hpp), in gf_http so every loader can link them.
#include "greenfork/worker/app.hpp"

#include "greenfork/http_token.hpp"

namespace greenfork::worker {

const Header* Request::find_header(std::string_view name) const {
  for (const Header& h : headers) {
    if (http_token::iequals(h.name, name)) return &h;
  }
  return nullptr;
}

}  // namespace greenfork::worker
