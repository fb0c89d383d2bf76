// Loads apps from tests/wsgi/apps into the one embedded interpreter of the
// test process and runs requests through them with the fakes.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "fakes.hpp"
#include "greenfork/worker/app.hpp"

namespace greenfork::wsgi::testing {

inline bool has(const std::string& hay, const std::string& needle) {
  return hay.find(needle) != std::string::npos;
}

inline FakeHost& host() {
  static FakeHost h;
  return h;
}

inline StatusOr<std::unique_ptr<worker::Application>> load(const std::string& spec,
                                                           unsigned threads = 1) {
  worker::AppOptions o;
  o.spec = spec;
  o.chdir = GF_WSGI_TEST_APPS;
  o.threads = threads;
  return worker::load_wsgi_application(o, host());
}

struct Exchanged {
  FakeWriter out;
  bool client_gone = false;
};

inline Exchanged run(worker::Application& app, worker::Request req, const std::string& body = "",
                     size_t step = 7, bool chunked = false) {
  FakeBody reader(body, step);
  req.body = &reader;
  if (chunked) {
    req.chunked = true;
  } else if (!body.empty()) {
    req.content_length = body.size();
  }
  Exchanged ex;
  try {
    app.handle(req, ex.out);
  } catch (const worker::ClientGone&) {
    ex.client_gone = true;
  }
  return ex;
}

}  // namespace greenfork::wsgi::testing
