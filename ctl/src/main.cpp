// gctl: the command-line client of arbiterd's control socket.
#include <string>
#include <vector>

#include "greenfork/ctl/gctl.hpp"

int main(int argc, char** argv) {
  return greenfork::ctl::run_gctl(std::vector<std::string>(argv + 1, argv + argc));
}
