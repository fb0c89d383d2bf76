// --reload only: the app failed to import (a syntax error while editing).
// Every request gets a 500 page with the traceback, and the reloader
// restarts the worker once the broken file (or any imported one) changes.
#pragma once

#include <memory>
#include <string>

#include "greenfork/wsgi/reloader.hpp"
#include "greenfork/worker/app.hpp"

namespace greenfork::wsgi {

class ErrorApplication final : public worker::Application {
 public:
  ErrorApplication(std::string traceback, std::unique_ptr<Reloader> reloader);
  ~ErrorApplication() override;
  void handle(worker::Request& request, worker::ResponseWriter& response) override;
  void shutdown() override;

 private:
  std::string page_;
  std::unique_ptr<Reloader> reloader_;
};

}  // namespace greenfork::wsgi
