// gctl's output: aligned tables for people, JSON for scripts. No I/O.
#pragma once

#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "greenfork/v1/greenfork.pb.h"

namespace greenfork::ctl {

// "3m12s", "2h05m", "1d04h"; "-" for negative (never).
std::string format_duration(double seconds);
// "812K", "23.4M", "1.2G".
std::string format_bytes(uint64_t bytes);

// Columns aligned, two spaces apart, one line per row.
std::string format_table(const std::vector<std::vector<std::string>>& rows);
// WORKER_STATE_READY with prefix "WORKER_STATE_" -> "ready".
std::string enum_name_word(const std::string& name, const std::string& prefix);

// The `gctl status` tables: a header line, pools, then workers.
std::string render_status(const v1::StatusReply& reply);
// One line per event: "09:41:02.153  worker_exited  main  slot=2 pid=4711  killed by SIGKILL".
std::string render_event(const v1::Event& event);
// One line of JSON with the proto field names, every field present,
// 64-bit integers as numbers (json_output.cpp).
std::string to_json(const google::protobuf::Message& message);

}  // namespace greenfork::ctl
