// Gunicorn's application spec: "module:expression".
//
//   "app"                   -> module "app", expression "application"
//   "mysite.wsgi:application"
//   "pkg.mod:create_app()"  /  "pkg.mod:create_app('prod', debug=False)"
//   "pkg.mod:holder.app"    (dotted attributes)
//
// split_app_spec() only separates and checks the module part; the expression
// is checked with Python's `ast` when the app is loaded (see helper_module),
// which accepts only a name, an attribute chain, or a call of one with
// literal arguments.
#pragma once

#include <string>
#include <string_view>

#include "greenfork/status.hpp"

namespace greenfork::wsgi {

struct AppSpec {
  std::string module;      // "pkg.mod"
  std::string expression;  // "create_app()"; "application" when omitted
};

StatusOr<AppSpec> split_app_spec(std::string_view spec);

}  // namespace greenfork::wsgi
