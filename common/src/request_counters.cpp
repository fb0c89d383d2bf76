#include "greenfork/request_counters.hpp"

#include <charconv>
#include <cstdio>

#include "greenfork/contract.hpp"

namespace greenfork {
namespace {

template <size_t N>
std::optional<std::array<uint64_t, N>> parse_list(std::string_view text) {
  std::array<uint64_t, N> out{};
  for (size_t i = 0; i < N; ++i) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), out[i]);
    if (ec != std::errc() || end != item.data() + item.size() || item.empty()) return std::nullopt;
    const bool last = i + 1 == N;
    if (last != (comma == std::string_view::npos)) return std::nullopt;
    if (!last) text = text.substr(comma + 1);
  }
  return out;
}

template <size_t N>
std::string join(const std::array<uint64_t, N>& values) {
  std::string s;
  for (size_t i = 0; i < N; ++i) {
    if (i > 0) s += ',';
    s += std::to_string(values[i]);
  }
  return s;
}

}  // namespace

void RequestCounters::record(int status, double seconds) {
  // No status sent (0) or a nonsense one: the client got no good answer.
  const int cls = status >= 100 && status <= 599 ? status / 100 : 5;
  ++by_class[static_cast<size_t>(cls - 1)];
  size_t i = 0;
  while (i < kDurationBounds.size() && seconds > kDurationBounds[i]) ++i;
  ++buckets[i];
  duration_sum += seconds < 0 ? 0 : seconds;
}

uint64_t RequestCounters::requests() const {
  uint64_t n = 0;
  for (uint64_t v : by_class) n += v;
  return n;
}

uint64_t RequestCounters::observations() const {
  uint64_t n = 0;
  for (uint64_t v : buckets) n += v;
  return n;
}

void RequestCounters::add(const RequestCounters& other) {
  for (size_t i = 0; i < by_class.size(); ++i) by_class[i] += other.by_class[i];
  for (size_t i = 0; i < buckets.size(); ++i) buckets[i] += other.buckets[i];
  duration_sum += other.duration_sum;
}

std::string RequestCounters::notify_fields() const {
  char sum[48];
  std::snprintf(sum, sizeof sum, "%.6f", duration_sum);
  return std::string(contract::kNotifyRequestsByClass) + "=" + join(by_class) + "\n" +
         contract::kNotifyDurationBuckets + "=" + join(buckets) + "\n" +
         contract::kNotifyDurationSum + "=" + sum;
}

std::optional<std::array<uint64_t, 5>> RequestCounters::parse_classes(std::string_view text) {
  return parse_list<5>(text);
}

std::optional<std::array<uint64_t, kDurationBounds.size() + 1>> RequestCounters::parse_buckets(
    std::string_view text) {
  return parse_list<kDurationBounds.size() + 1>(text);
}

}  // namespace greenfork
