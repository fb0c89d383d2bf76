// The status page at GET / on the metrics address: one self-contained HTML
// page (inline CSS, no script, no external assets) that reloads itself
// every few seconds. Read-only. Pure: a snapshot and events in, HTML out.
#pragma once

#include <deque>
#include <string>
#include <string_view>

#include "greenfork/arbiter/control_target.hpp"

namespace greenfork::arbiter {

inline constexpr int kStatusPageRefreshSeconds = 2;

std::string render_status_page(const ArbiterSnapshot& s, const std::deque<SupervisorEvent>& events);
std::string escape_html(std::string_view text);
const char* event_kind_name(SupervisorEvent::Kind kind);

}  // namespace greenfork::arbiter
