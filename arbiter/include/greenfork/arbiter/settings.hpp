// Every setting arbiterd knows, declared once (Gunicorn's config.py
// `Setting` classes): Gunicorn 26.1's 119 settings and greenfork's own.
// Each is accepted (as a flag and as a gunicorn.conf.py name, with
// Gunicorn's meaning), accepted with a note (what it means here), or
// refused with one line that says why and what to use instead.
//
//   const Setting* s = settings::by_flag("--certfile");
//   if (s->status == settings::Status::kRefused) fail(settings::refusal(*s));
//
// The command-line reader, the gunicorn.conf.py reader, --print-config and
// docs/gunicorn-settings.md (checked by a test) all come from this table.
// gworker's numeric ranges come from common/worker_settings.
#pragma once

#include <string>
#include <vector>

#include "greenfork/worker_settings.hpp"

namespace greenfork::arbiter::settings {

enum class Type { kBool, kInt, kNumber, kString, kList, kDict, kCallable };
enum class Process { kArbiter, kWorker, kBoth, kNone };
enum class Status { kAccepted, kNote, kRefused };

struct Setting {
  const char* name;     // the gunicorn.conf.py name
  const char* flags;    // "-w,--workers"; "" when the file is the only way
  Type type;
  const char* default_text;
  Process process;      // which process uses it
  Status status;
  const char* note;     // kNote: what it means here; kRefused: why, what instead
  const worker_settings::NumericRange* range;  // gworker's range, or nullptr
  bool gunicorn;        // false: greenfork's own setting
};

const std::vector<Setting>& all();
const Setting* by_name(const std::string& name);
// "-w", "--workers" (a flag's exact spelling).
const Setting* by_flag(const std::string& flag);
// The long flag to give a setting on the command line ("--workers"), or "".
std::string long_flag(const Setting& s);
// "-w/--workers" or the name when it has no flag.
std::string display(const Setting& s);
// The one line a refused setting gets: "--certfile (certfile): TLS is ...".
std::string refusal(const Setting& s);

const char* to_string(Type t);
const char* to_string(Process p);
const char* to_string(Status s);

}  // namespace greenfork::arbiter::settings

namespace greenfork::arbiter::settings {

// docs/gunicorn-settings.md, from the table (a test keeps the file equal).
std::string markdown();

}  // namespace greenfork::arbiter::settings
