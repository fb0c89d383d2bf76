#include "bearer_check.hpp"

namespace greenfork::arbiter {
namespace {

bool matches(const grpc::CallbackServerContext& context, const std::string& token) {
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return false;
  const std::string expected = "Bearer " + token;
  const grpc::string_ref& got = it->second;
  if (got.size() != expected.size()) return false;
  // Constant time: a remote caller learns nothing from how long it took.
  unsigned char diff = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    diff |= static_cast<unsigned char>(got.data()[i] ^ expected[i]);
  }
  return diff == 0;
}

}  // namespace

BearerCheck::BearerCheck(std::string token, PeerName peer_name)
    : token_(std::move(token)),
      peer_name_(std::move(peer_name)),
      refusals_(std::make_shared<RateLimitedLog>("control: refused a call with a bad or missing bearer token")) {}

bool BearerCheck::allows(const grpc::CallbackServerContext& context) const {
  if (token_.empty() || matches(context, token_)) return true;
  std::string peer = context.peer();
  if (peer_name_) {
    std::string name = peer_name_(peer);
    if (!name.empty()) peer = std::move(name);
  }
  refusals_->record("from " + peer);
  return false;
}

}  // namespace greenfork::arbiter
