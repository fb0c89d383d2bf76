// Transfer-Encoding of a request, judged (RFC 9112 6.1, 6.3): the only
// accepted value is a single final "chunked". Codings we do not implement
// (gzip, deflate, identity, anything else) are 501; a list where chunked is
// not last or appears twice, or an empty element, is 400.
#pragma once

#include <string>
#include <string_view>

namespace greenfork::worker::http {

struct TransferCodingVerdict {
  int status = 0;  // 0 = acceptable (exactly "chunked")
  std::string reason;
};

// `value`: every Transfer-Encoding header's value, joined with ','.
TransferCodingVerdict check_transfer_encoding(std::string_view value);

}  // namespace greenfork::worker::http
