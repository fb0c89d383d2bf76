// `gctl top`: a live view in the manner of top and pm2 monit. Each frame is
// a Status call; a Watch stream on its own thread feeds the last events.
// On a terminal: the alternate screen, keys without Enter ('q' quits), the
// terminal restored however it ends (q, Ctrl-C, TERM, an error); with -n N,
// N frames on the normal screen. Not a terminal: plain frames separated by
// a blank line.
#pragma once

#include "control_channel.hpp"
#include "greenfork/ctl/arguments.hpp"

namespace greenfork::ctl {

int top(const Invocation& inv, const ControlChannel& conn);

}  // namespace greenfork::ctl
