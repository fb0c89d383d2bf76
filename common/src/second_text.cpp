#include "greenfork/second_text.hpp"

namespace greenfork {

std::string_view SecondText::now() {
  const time_t now = time(nullptr);
  if (now != second_) {
    struct tm parts {};
    if (format_ == Format::kHttpDate) {
      gmtime_r(&now, &parts);
      length_ = strftime(text_, sizeof text_, "%a, %d %b %Y %H:%M:%S GMT", &parts);
    } else {
      localtime_r(&now, &parts);
      length_ = strftime(text_, sizeof text_, "[%d/%b/%Y:%H:%M:%S %z]", &parts);
    }
    second_ = now;
  }
  return {text_, length_};
}

}  // namespace greenfork
