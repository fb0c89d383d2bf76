// arbiterd's check of gworker's TLS arguments (--certfile, --keyfile,
// --ca-certs, --cert-reqs, --ciphers, --ssl-version): the server context
// is built from them as gworker will build it, so that a missing,
// unreadable or non-PEM file, or a key that does not match its
// certificate, stops arbiterd before anything starts (exit 2) with the
// path and OpenSSL's reason, instead of failing the pool at every start.
#pragma once

#include <string>
#include <vector>

#include "greenfork/status.hpp"

namespace greenfork::arbiter::detail {

// `args` as gworker gets them ("--certfile", "c.pem" or "--certfile=c.pem");
// relative paths are made absolute against `cwd` (gworker may --chdir).
Status check_tls_worker_args(std::vector<std::string>& args, const std::string& cwd);

}  // namespace greenfork::arbiter::detail
