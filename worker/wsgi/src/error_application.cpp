#include "greenfork/wsgi/error_application.hpp"

namespace greenfork::wsgi {

ErrorApplication::ErrorApplication(std::string traceback, std::unique_ptr<Reloader> reloader)
    : page_("The application failed to load (gworker --reload; fix the file and it reloads):\n\n" +
            traceback + "\n"),
      reloader_(std::move(reloader)) {}

ErrorApplication::~ErrorApplication() {
  if (reloader_) reloader_->stop();
}

void ErrorApplication::handle(worker::Request&, worker::ResponseWriter& response) {
  Status st = response.start(500, "Internal Server Error",
                             {{"Content-Type", "text/plain; charset=utf-8"},
                              {"Content-Length", std::to_string(page_.size())}});
  if (!st.ok()) {
    response.abort();
    return;
  }
  response.write(page_.data(), page_.size());
  response.finish();
}

void ErrorApplication::shutdown() {
  if (reloader_) reloader_->stop();
}

}  // namespace greenfork::wsgi
