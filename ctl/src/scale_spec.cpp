#include "greenfork/ctl/scale_spec.hpp"

#include <string>

namespace greenfork::ctl {
namespace {

Status bad(std::string_view text, const std::string& why = "") {
  std::string message = "scale: '" + std::string(text) + "' is not +N, -N, =N or N";
  if (!why.empty()) message += " (" + why + ")";
  return Status::error(message);
}

}  // namespace

StatusOr<ScaleSpec> parse_scale_spec(std::string_view text) {
  ScaleSpec spec;
  std::string_view digits = text;
  int sign = 0;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) {
    sign = digits.front() == '+' ? 1 : -1;
    digits.remove_prefix(1);
  } else if (!digits.empty() && digits.front() == '=') {
    digits.remove_prefix(1);
  }
  if (digits.empty()) return bad(text);
  unsigned value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return bad(text);
    value = value * 10 + static_cast<unsigned>(c - '0');
    if (value > kMaxScaleNumber) {
      return bad(text, "at most " + std::to_string(kMaxScaleNumber));
    }
  }
  if (sign == 0) {
    spec.mode = ScaleSpec::Mode::kAbsolute;
    spec.count = value;
  } else {
    spec.mode = ScaleSpec::Mode::kRelative;
    spec.delta = sign * static_cast<int>(value);
  }
  return spec;
}

}  // namespace greenfork::ctl
