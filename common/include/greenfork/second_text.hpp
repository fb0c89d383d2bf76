// The current second as text, formatted at most once a second: what the
// Date header and the access log's %(t)s need on every request. Keep one
// per thread (thread_local) so no lock is needed:
//
//   std::string_view http_date() {
//     thread_local SecondText text(SecondText::Format::kHttpDate);
//     return text.now();   // "Mon, 30 Nov 2026 19:20:00 GMT"
//   }
#pragma once

#include <ctime>
#include <string_view>

namespace greenfork {

class SecondText {
 public:
  enum class Format {
    kHttpDate,   // RFC 9110 IMF-fixdate, UTC: "Mon, 30 Nov 2026 19:20:00 GMT"
    kCommonLog,  // Gunicorn's %(t)s, local time: "[30/Nov/2026:19:20:00 +0000]"
  };

  explicit SecondText(Format format) : format_(format) {}

  // The text for the current second; valid until the next call.
  std::string_view now();

 private:
  Format format_;
  time_t second_ = -1;
  char text_[64] = {};
  size_t length_ = 0;
};

}  // namespace greenfork
