#include "websocket/permessage_deflate.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "greenfork/http_token.hpp"

namespace greenfork::worker::websocket {

namespace {

constexpr std::string_view kTail("\x00\x00\xff\xff", 4);

struct Param {
  std::string name;
  std::optional<std::string> value;
};

struct Extension {
  std::string name;
  std::vector<Param> params;
};

// Splits on `sep` outside quoted-strings. False on an unterminated quote.
bool split_outside_quotes(std::string_view s, char sep, std::vector<std::string_view>& parts) {
  bool quoted = false;
  size_t start = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (quoted && s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      quoted = !quoted;
    } else if (!quoted && s[i] == sep) {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  if (quoted) return false;
  parts.push_back(s.substr(start));
  return true;
}

// token or quoted-string whose content is a token (RFC 6455 9.1).
std::optional<std::string> param_value(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    std::string out;
    for (size_t i = 1; i + 1 < v.size(); ++i) {
      if (v[i] == '\\' && i + 2 < v.size()) ++i;
      out.push_back(v[i]);
    }
    if (!http_token::is_token(out)) return std::nullopt;
    return out;
  }
  if (!http_token::is_token(v)) return std::nullopt;
  return std::string(v);
}

// The offers in order; nullopt when the header is malformed.
std::optional<std::vector<Extension>> parse_extensions(std::string_view header) {
  std::vector<std::string_view> items;
  if (!split_outside_quotes(header, ',', items)) return std::nullopt;
  std::vector<Extension> out;
  for (std::string_view item : items) {
    item = http_token::trim(item);
    if (item.empty()) continue;  // "a, , b" (RFC 9110 5.6.1 empty list elements)
    std::vector<std::string_view> parts;
    split_outside_quotes(item, ';', parts);
    Extension ext;
    ext.name = std::string(http_token::trim(parts[0]));
    if (!http_token::is_token(ext.name)) return std::nullopt;
    for (size_t i = 1; i < parts.size(); ++i) {
      std::string_view p = http_token::trim(parts[i]);
      Param param;
      const size_t eq = p.find('=');
      param.name = std::string(http_token::trim(p.substr(0, eq)));
      if (!http_token::is_token(param.name)) return std::nullopt;
      if (eq != std::string_view::npos) {
        param.value = param_value(http_token::trim(p.substr(eq + 1)));
        if (!param.value) return std::nullopt;
      }
      ext.params.push_back(std::move(param));
    }
    out.push_back(std::move(ext));
  }
  return out;
}

// "8".."15" without sign, leading zero or anything else.
std::optional<int> window_bits(const std::string& v) {
  if (v.empty() || v.size() > 2 || v[0] == '0') return std::nullopt;
  int n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n < 8 || n > 15) return std::nullopt;
  return n;
}

std::optional<DeflateAgreement> accept_offer(const Extension& offer, const DeflateConfig& config) {
  DeflateAgreement a;
  bool seen[4] = {false, false, false, false};
  bool client_bits_offered = false;
  for (const Param& p : offer.params) {
    const std::string name(p.name);
    int slot = name == "server_no_context_takeover"   ? 0
               : name == "client_no_context_takeover" ? 1
               : name == "server_max_window_bits"     ? 2
               : name == "client_max_window_bits"     ? 3
                                                      : -1;
    if (slot < 0 || seen[slot]) return std::nullopt;  // unknown or repeated
    seen[slot] = true;
    if (slot == 0 || slot == 1) {
      if (p.value) return std::nullopt;
      (slot == 0 ? a.params.server_no_context_takeover : a.params.client_no_context_takeover) = true;
    } else if (slot == 2) {
      std::optional<int> bits = p.value ? window_bits(*p.value) : std::nullopt;
      if (!bits || *bits == 8) return std::nullopt;
      a.params.server_max_window_bits = *bits;
    } else {
      client_bits_offered = true;
      if (p.value) {
        std::optional<int> bits = window_bits(*p.value);
        if (!bits) return std::nullopt;
        a.params.client_max_window_bits = *bits;
      }
    }
  }
  if (config.server_no_context_takeover) a.params.server_no_context_takeover = true;
  const int server_bits = std::clamp(config.server_max_window_bits, 9, 15);
  a.params.server_max_window_bits = std::min(a.params.server_max_window_bits, server_bits);
  if (client_bits_offered) {
    const int client_bits = std::clamp(config.client_max_window_bits, 8, 15);
    a.params.client_max_window_bits = std::min(a.params.client_max_window_bits, client_bits);
  }
  a.response = "permessage-deflate";
  if (a.params.server_no_context_takeover) a.response += "; server_no_context_takeover";
  // Accepting it lets the decompressor drop its window between messages.
  if (a.params.client_no_context_takeover) a.response += "; client_no_context_takeover";
  // A server may announce its window even unasked (RFC 7692 7.1.2.1).
  if (seen[2] || a.params.server_max_window_bits < 15) {
    a.response += "; server_max_window_bits=" + std::to_string(a.params.server_max_window_bits);
  }
  // Only when offered, and never above the offer (7.1.2.2).
  if (client_bits_offered && a.params.client_max_window_bits < 15) {
    a.response += "; client_max_window_bits=" + std::to_string(a.params.client_max_window_bits);
  }
  a.compression_level = config.compression_level;
  a.mem_level = std::clamp(config.mem_level, 1, 9);
  return a;
}

}  // namespace

std::optional<DeflateAgreement> negotiate_permessage_deflate(std::string_view offers,
                                                             const DeflateConfig& config) {
  if (!config.enabled) return std::nullopt;
  std::optional<std::vector<Extension>> parsed = parse_extensions(offers);
  if (!parsed) return std::nullopt;
  for (const Extension& ext : *parsed) {
    if (!http_token::iequals(ext.name, "permessage-deflate")) continue;
    if (std::optional<DeflateAgreement> a = accept_offer(ext, config)) return a;
  }
  return std::nullopt;
}

MessageDeflater::MessageDeflater(const DeflateParams& params, int level, int mem_level)
    : reset_each_message_(params.server_no_context_takeover) {
  // Negative windowBits: raw deflate, no zlib header.
  if (deflateInit2(&z_, level, Z_DEFLATED, -params.server_max_window_bits, mem_level,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
}

MessageDeflater::~MessageDeflater() { deflateEnd(&z_); }

std::string MessageDeflater::deflate(std::string_view message) {
  std::string out;
  z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
  z_.avail_in = static_cast<uInt>(message.size());
  size_t produced = 0;
  do {
    out.resize(produced + message.size() / 2 + 64);
    z_.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    z_.avail_out = static_cast<uInt>(out.size() - produced);
    ::deflate(&z_, Z_SYNC_FLUSH);  // cannot fail on a valid stream with room
    produced = out.size() - z_.avail_out;
  } while (z_.avail_out == 0 || z_.avail_in != 0);
  out.resize(produced);
  // A sync flush ends with an empty stored block: 00 00 ff ff (RFC 7692 7.2.1).
  if (out.size() >= 4 && std::string_view(out).substr(out.size() - 4) == kTail) out.resize(out.size() - 4);
  if (reset_each_message_) deflateReset(&z_);
  return out;
}

MessageInflater::MessageInflater(const DeflateParams& params)
    : reset_each_message_(params.client_no_context_takeover) {
  // The agreed window, but at least 9: zlib compresses with 9 when asked
  // for 8, and clients use zlib.
  if (inflateInit2(&z_, -std::max(params.client_max_window_bits, 9)) != Z_OK) {
    throw std::runtime_error("inflateInit2 failed");
  }
}

MessageInflater::~MessageInflater() { inflateEnd(&z_); }

ProtocolError MessageInflater::inflate(std::string_view payload, uint64_t max_size, std::string& out) {
  const size_t start = out.size();
  constexpr size_t kStep = 16 * 1024;
  for (std::string_view input : {payload, kTail}) {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    z_.avail_in = static_cast<uInt>(input.size());
    // Until the input is used up and zlib had output room left over (a
    // full buffer may hide output still pending inside zlib).
    for (;;) {
      // Room for one byte past the bound, so passing it is seen without
      // inflating further.
      const uint64_t produced = out.size() - start;
      const uint64_t left = max_size - produced;
      const size_t step = left >= kStep ? kStep : static_cast<size_t>(left) + 1;
      const size_t before = out.size();
      out.resize(before + step);
      z_.next_out = reinterpret_cast<Bytef*>(out.data() + before);
      z_.avail_out = static_cast<uInt>(step);
      const int rc = ::inflate(&z_, Z_SYNC_FLUSH);
      const bool room_left = z_.avail_out != 0;
      out.resize(out.size() - z_.avail_out);
      if (out.size() - start > max_size) {
        return {close_code::kMessageTooBig,
                "decompressed message larger than " + std::to_string(max_size) + " bytes"};
      }
      if (rc == Z_STREAM_END) {
        // A final block ends this deflate stream; whatever follows (the
        // tail, a next message) starts a new one.
        inflateReset(&z_);
      } else if (rc == Z_BUF_ERROR) {
        if (z_.avail_in != 0) return {close_code::kInvalidPayload, "compressed message cannot be inflated"};
        break;  // no progress possible: everything was inflated
      } else if (rc != Z_OK) {
        return {close_code::kInvalidPayload, "compressed message cannot be inflated"};
      }
      if (z_.avail_in == 0 && room_left) break;
    }
  }
  if (reset_each_message_) inflateReset(&z_);
  return {};
}

}  // namespace greenfork::worker::websocket
