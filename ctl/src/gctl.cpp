#include "greenfork/ctl/gctl.hpp"

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.hpp"
#include "greenfork/contract.hpp"
#include "greenfork/control_address.hpp"
#include "greenfork/ctl/arguments.hpp"

namespace greenfork::ctl {
namespace {

constexpr int kExitUsage = 2;

int usage_error(const std::string& message) {
  std::cerr << "gctl: " << message << " (see gctl --help)\n";
  return kExitUsage;
}

StatusOr<std::string> read_token(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::from_errno("--token-file " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string token = buffer.str();
  const auto end = token.find_last_not_of(" \t\r\n");
  token.erase(end == std::string::npos ? 0 : end + 1);
  const auto begin = token.find_first_not_of(" \t\r\n");
  token.erase(0, begin == std::string::npos ? token.size() : begin);
  if (token.empty()) return Status::error("--token-file " + path + ": the file is empty");
  return token;
}

}  // namespace

int run_gctl(const std::vector<std::string>& args) {
  auto parsed = parse_arguments(args);
  if (!parsed.ok()) return usage_error(parsed.status().message());
  Invocation inv = std::move(*parsed);
  if (inv.command == Command::kHelp) {
    std::cout << usage_text();
    return 0;
  }
  if (inv.command == Command::kVersion) {
    std::cout << "gctl " << GF_VERSION << "\n";
    return 0;
  }

  std::string socket = inv.socket;
  if (socket.empty()) {
    const char* from_env = std::getenv(contract::kArbiterSocket);
    socket = from_env != nullptr && *from_env != '\0' ? from_env : default_control_socket();
  }
  auto address = parse_control_address(socket);
  if (!address.ok()) return usage_error(address.status().message());
  std::string token;
  if (!inv.token_file.empty()) {
    auto read = read_token(inv.token_file);
    if (!read.ok()) return usage_error(read.status().message());
    token = std::move(*read);
  }
  if (!address->is_unix && token.empty()) {
    return usage_error(address->display + " is a TCP control address: --token-file is required");
  }
  // Ctrl-C ends `watch` cleanly: the signals are taken by a thread (see
  // commands.cpp), so block them before gRPC starts its own threads.
  if (inv.command == Command::kWatch || inv.command == Command::kTop) block_stop_signals();
  return run_command(inv, *address, token);
}

int exit_code_for(const Status& answer) {
  if (answer.ok()) return 0;
  return answer.code() == StatusCode::kUnavailable ? kExitUnreachable : kExitFailed;
}

}  // namespace greenfork::ctl
