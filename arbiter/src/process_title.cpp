#include "greenfork/arbiter/process_title.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstring>

extern char** environ;

namespace greenfork::arbiter {
namespace {

char* g_area = nullptr;
size_t g_area_size = 0;

}  // namespace

std::vector<std::string> ProcessTitle::init(int argc, char** argv) {
  std::vector<std::string> original(argv, argv + argc);
  if (argc == 0 || argv[0] == nullptr) return original;
  // The area is argv[0] .. the end of the last contiguous environment string.
  char* end = argv[0] + std::strlen(argv[0]) + 1;
  for (int i = 1; i < argc; ++i) {
    if (argv[i] == end) end = argv[i] + std::strlen(argv[i]) + 1;
  }
  size_t env_count = 0;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) ++env_count;
  for (size_t i = 0; i < env_count; ++i) {
    if (environ[i] == end) end = environ[i] + std::strlen(environ[i]) + 1;
  }
  // Move the environment out of the area (intentionally leaked: lives as
  // long as the process).
  auto** new_env = new char*[env_count + 1];
  for (size_t i = 0; i < env_count; ++i) new_env[i] = ::strdup(environ[i]);
  new_env[env_count] = nullptr;
  environ = new_env;
  char* start = argv[0];
  for (int i = 0; i < argc; ++i) argv[i] = ::strdup(argv[i]);
  g_area = start;
  g_area_size = static_cast<size_t>(end - start);
  return original;
}

void ProcessTitle::set(const std::string& title) {
  if (g_area == nullptr || g_area_size == 0) return;
  size_t n = std::min(title.size(), g_area_size - 1);
  std::memcpy(g_area, title.data(), n);
  std::memset(g_area + n, 0, g_area_size - n);
}

}  // namespace greenfork::arbiter
