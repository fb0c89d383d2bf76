// One frame of `gctl top`, from a Status reply (and the previous frame's,
// for CPU percentages) and the latest Watch events. Pure: no I/O.
//
//   TopSample prev = top_sample(reply1, t1);
//   std::string frame = render_top(reply2, &prev, t2, "cpu", events, 0);
#pragma once

#include <deque>
#include <map>
#include <string>

#include "greenfork/v1/greenfork.pb.h"

namespace greenfork::ctl {

// CPU time per worker pid at a moment (seconds on any monotonic clock).
struct TopSample {
  std::map<int, double> cpu_seconds;
  double at = 0;
};
TopSample top_sample(const v1::StatusReply& reply, double now);

// sort: cpu rss rps inflight served pid slot (descending for quantities,
// ascending for pid and slot). max_worker_rows 0: all.
std::string render_top(const v1::StatusReply& reply, const TopSample* previous, double now, const std::string& sort,
                       const std::deque<std::string>& events, unsigned max_worker_rows);

}  // namespace greenfork::ctl
