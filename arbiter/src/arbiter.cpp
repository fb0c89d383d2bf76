#include "greenfork/arbiter/arbiter.hpp"

#include <asio/io_context.hpp>
#include <asio/post.hpp>

namespace greenfork::arbiter {

void AsioLoopExecutor::post(std::function<void()> fn) { asio::post(io_, std::move(fn)); }

}  // namespace greenfork::arbiter
