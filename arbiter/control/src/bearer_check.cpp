#include "bearer_check.hpp"

namespace greenfork::arbiter {

bool BearerCheck::allows(const grpc::CallbackServerContext& context) const {
  if (token_.empty()) return true;
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) return false;
  const std::string expected = "Bearer " + token_;
  const grpc::string_ref& got = it->second;
  if (got.size() != expected.size()) return false;
  // Constant time: a remote caller learns nothing from how long it took.
  unsigned char diff = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    diff |= static_cast<unsigned char>(got.data()[i] ^ expected[i]);
  }
  return diff == 0;
}

}  // namespace greenfork::arbiter
