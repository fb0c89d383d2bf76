# Every dependency comes from a Debian 12 package (scripts/install-deps.sh).
find_package(Threads REQUIRED)
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_package(spdlog CONFIG REQUIRED)
find_package(fmt CONFIG REQUIRED)
find_package(CLI11 CONFIG REQUIRED)
find_package(tomlplusplus CONFIG REQUIRED)
find_package(GTest CONFIG REQUIRED)
find_package(PkgConfig REQUIRED)

# The embedded interpreter: Debian's CPython, whatever python3 is on PATH.
pkg_check_modules(PYTHON_EMBED REQUIRED IMPORTED_TARGET python3-embed)

find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

# Standalone Asio is header-only (libasio-dev).
find_path(ASIO_INCLUDE_DIR asio.hpp REQUIRED)
add_library(gf_asio INTERFACE)
target_include_directories(gf_asio SYSTEM INTERFACE ${ASIO_INCLUDE_DIR})
# Asio decides ASIO_HAS_STD_ALIGNED_ALLOC from a libstdc++ macro that exists
# only after a standard header was included, so a file that includes Asio
# first would get operator new/delete where the others get aligned_alloc/free
# for the same inline functions (an ODR violation ASan reports as
# alloc-dealloc-mismatch). Decide it once, for every file.
target_compile_definitions(gf_asio INTERFACE ASIO_STANDALONE ASIO_NO_DEPRECATED
  ASIO_HAS_STD_ALIGNED_ALLOC=1)
# ThreadSanitizer does not model atomic_thread_fence (GCC refuses it under
# -Werror=tsan); Asio's handler hand-offs are ordered by its scheduler's
# mutex anyway, which TSan does see, so the TSan build uses Asio's null fence.
if(GF_TSAN)
  target_compile_definitions(gf_asio INTERFACE ASIO_DISABLE_FENCED_BLOCK)
endif()
target_link_libraries(gf_asio INTERFACE Threads::Threads)

# llhttp ships as C sources in node-llhttp; compile them into the project.
set(LLHTTP_SRC_DIR /usr/share/llhttp)
set(LLHTTP_INCLUDE_DIR /usr/share/include/llhttp)
add_library(gf_llhttp STATIC
  ${LLHTTP_SRC_DIR}/api.c ${LLHTTP_SRC_DIR}/http.c ${LLHTTP_SRC_DIR}/llhttp.c)
target_include_directories(gf_llhttp SYSTEM PUBLIC ${LLHTTP_INCLUDE_DIR})
# Strict mode: CRLF required everywhere, stricter header/URL bytes (gworker's
# RequestParser relies on it; see worker/include/greenfork/worker/http/).
target_compile_definitions(gf_llhttp PRIVATE LLHTTP_STRICT_MODE=1)
set_target_properties(gf_llhttp PROPERTIES POSITION_INDEPENDENT_CODE ON)
gf_sanitize(gf_llhttp)
