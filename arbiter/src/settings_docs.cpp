// docs/gunicorn-settings.md from the settings table.
#include "greenfork/arbiter/settings.hpp"

namespace greenfork::arbiter::settings {
namespace {

std::string cell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

std::string code(const std::string& text) { return text.empty() ? "" : "`" + cell(text) + "`"; }

std::string flags_cell(const Setting& s) {
  std::string flags = s.flags, out;
  std::size_t start = 0;
  while (start < flags.size()) {
    std::size_t comma = flags.find(',', start);
    if (comma == std::string::npos) comma = flags.size();
    out += (out.empty() ? "" : " ") + code(flags.substr(start, comma - start));
    start = comma + 1;
  }
  return out.empty() ? "(file only)" : out;
}

void rows(std::string& out, bool gunicorn) {
  out += "| Setting | Flags | Type | Default | Used by | Status | Note |\n";
  out += "|---|---|---|---|---|---|---|\n";
  for (const Setting& s : all()) {
    if (s.gunicorn != gunicorn) continue;
    std::string note = s.note;
    if (s.range != nullptr) {
      note += std::string(note.empty() ? "" : "; ") + "range: " +
              worker_settings::range_text(*s.range) + " (gworker's)";
    }
    out += "| `" + std::string(s.name) + "` | " + flags_cell(s) + " | " + to_string(s.type) + " | " +
           code(s.default_text) + " | " + to_string(s.process) + " | " + to_string(s.status) + " | " + cell(note) +
           " |\n";
  }
}

}  // namespace

std::string markdown() {
  std::size_t accepted = 0, noted = 0, refused = 0, total = 0;
  for (const Setting& s : all()) {
    if (!s.gunicorn) continue;
    ++total;
    if (s.status == Status::kAccepted) ++accepted;
    if (s.status == Status::kNote) ++noted;
    if (s.status == Status::kRefused) ++refused;
  }
  std::string out =
      "# Gunicorn's settings in greenfork\n\n"
      "<!-- Generated from arbiter/src/settings.cpp by settings::markdown(); the test\n"
      "     arbiter_settings_test fails when this file differs (GF_WRITE_DOCS=1 rewrites it). -->\n\n"
      "Every setting of Gunicorn 26.1 (`gunicorn/config.py`, kept in\n"
      "`tests/data/gunicorn-26.1-settings.tsv`) is either accepted with Gunicorn's meaning, as a\n"
      "flag and as a `gunicorn.conf.py` name, or refused with one line that says why and what to\n"
      "use instead. Nothing is silently ignored: a refused setting stops arbiterd (exit 2) before\n"
      "anything starts, unless it is given Gunicorn's own default (`--http-protocols h1`).\n\n"
      "Settings come from, lowest first: the config file (`-c FILE`, `-c python:MODULE`, or\n"
      "`./gunicorn.conf.py` when present and no `-c` is given), then `GUNICORN_CMD_ARGS`, then the\n"
      "command line. A `.toml` file is greenfork's several-pool format instead (README).\n"
      "`arbiterd --print-config` shows the result.\n\n"
      "Some notes:\n\n"
      "- `--worker-tmp-dir` is where gworker spills request bodies past `--body-buffer-size`\n"
      "  (it reads a whole body before the app runs, as nginx does in front of Gunicorn). Gunicorn's\n"
      "  workers prove they are alive by touching a file there; gworker beats over arbiterd's\n"
      "  notify socket instead.\n"
      "- `--preload` is accepted and has no effect: each gworker embeds its own interpreter and\n"
      "  loads the app after it starts, so there is no master copy of the app to share. An app that\n"
      "  fails to load still stops arbiterd at start (a pool failure).\n"
      "- `-D/--daemon` detaches as Gunicorn does (two forks, a new session, stdio to /dev/null\n"
      "  unless `-R`); use `--pid` to find the master.\n"
      "- `--capture-output` needs a file `--error-logfile`: arbiterd points its stdout and stderr\n"
      "  at it, and its workers inherit them.\n\n"
      "Gunicorn settings: " + std::to_string(total) + " — " + std::to_string(accepted) + " accepted, " +
      std::to_string(noted) + " accepted with a note, " + std::to_string(refused) + " refused.\n\n";
  rows(out, true);
  out += "\n## greenfork's own settings\n\nFlags and config-file names too.\n\n";
  rows(out, false);
  return out;
}

}  // namespace greenfork::arbiter::settings
