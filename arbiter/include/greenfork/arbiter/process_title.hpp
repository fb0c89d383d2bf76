// Process titles like Gunicorn's ("arbiterd: master [name]"), shown by ps
// and top, by rewriting the argv area (the comm name stays "arbiterd").
//
//   ProcessTitle::init(argc, argv);   // first thing in main: saves argv
//   ProcessTitle::set("arbiterd: master [api]");
#pragma once

#include <string>
#include <vector>

namespace greenfork::arbiter {

class ProcessTitle {
 public:
  // Copies argv and environ elsewhere (so getenv keeps working) and takes
  // over the contiguous area they used. Returns the original argv.
  static std::vector<std::string> init(int argc, char** argv);
  static void set(const std::string& title);
};

}  // namespace greenfork::arbiter
