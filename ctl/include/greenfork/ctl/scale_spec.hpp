// `gctl scale` targets: "+N" (add), "-N" (remove), "=N" or "N" (exactly N).
// Pure parsing, no I/O.
//
//   parse_scale_spec("+2")  -> {kRelative, delta 2}
//   parse_scale_spec("=0")  -> {kAbsolute, count 0}
//   parse_scale_spec("+")   -> error "scale: '+' is not +N, -N, =N or N"
#pragma once

#include <string_view>

#include "greenfork/status.hpp"

namespace greenfork::ctl {

struct ScaleSpec {
  enum class Mode { kRelative, kAbsolute };
  Mode mode = Mode::kRelative;
  int delta = 0;       // kRelative
  unsigned count = 0;  // kAbsolute
  bool operator==(const ScaleSpec&) const = default;
};

// The largest N accepted; arbiterd then checks the pool's max_workers.
inline constexpr unsigned kMaxScaleNumber = 100000;

StatusOr<ScaleSpec> parse_scale_spec(std::string_view text);

}  // namespace greenfork::ctl
