#include "websocket/frame.hpp"

namespace greenfork::worker::websocket {

bool close_code_valid_on_wire(uint16_t code) {
  if (code >= 3000 && code <= 4999) return true;
  if (code < 1000 || code > 1014) return false;
  return code != 1004 && code != close_code::kNoStatus && code != close_code::kAbnormal;
}

}  // namespace greenfork::worker::websocket
