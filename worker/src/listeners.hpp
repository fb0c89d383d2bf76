// The sockets gworker serves: inherited from arbiterd or systemd
// (LISTEN_FDS, for this process only: LISTEN_PID must be our pid; the
// variables are then removed from the environment), or bound from -b
// (Gunicorn's default 127.0.0.1:8000 when neither is given).
#pragma once

#include <string>
#include <vector>

#include "engine/server.hpp"
#include "greenfork/status.hpp"

namespace greenfork::worker {

// `warnings` gets lines for the log (e.g. "-b ignored: sockets inherited").
StatusOr<std::vector<Listener>> open_listeners(const std::vector<std::string>& bind,
                                               unsigned backlog,
                                               std::vector<std::string>& warnings);

}  // namespace greenfork::worker
