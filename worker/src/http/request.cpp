// Request's helpers (app.hpp), in gf_http so every loader can link them.
#include "greenfork/worker/app.hpp"

namespace greenfork::worker {

const Header* Request::find_header(std::string_view name) const {
  for (const Header& h : headers) {
    if (h.name.size() != name.size()) continue;
    bool same = true;
    for (size_t i = 0; i < name.size() && same; ++i) {
      char a = h.name[i], b = name[i];
      if (a >= 'A' && a <= 'Z') a = static_cast<char>(a + 32);
      if (b >= 'A' && b <= 'Z') b = static_cast<char>(b + 32);
      same = a == b;
    }
    if (same) return &h;
  }
  return nullptr;
}

}  // namespace greenfork::worker
