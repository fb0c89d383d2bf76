// arbiterd's state as Prometheus metrics: the text exposition format 0.0.4
// or OpenMetrics 1.0 (what `Accept` asks for). Pure: a snapshot in, text out.
//
//   ExpositionFormat f = negotiate_format(accept_header);
//   std::string body = render_metrics(supervisor.status(), f);
//   // Content-Type: content_type(f)
#pragma once

#include <string>
#include <string_view>

#include "greenfork/arbiter/control_target.hpp"

namespace greenfork::arbiter {

enum class ExpositionFormat { kPrometheusText, kOpenMetrics };

// OpenMetrics when the Accept header lists application/openmetrics-text
// (with a q above 0), else the Prometheus text format.
ExpositionFormat negotiate_format(std::string_view accept);
const char* content_type(ExpositionFormat format);
std::string render_metrics(const ArbiterSnapshot& snapshot, ExpositionFormat format);

// Label values escaped for the exposition: \ " and newline.
std::string escape_label_value(std::string_view value);
// The names of the snapshot's enums as label values.
const char* state_label(WorkerState s);
const char* state_label(PoolState s);

}  // namespace greenfork::arbiter
