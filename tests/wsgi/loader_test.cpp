// App loading: Gunicorn's spec rules and its failure messages.
#include "gateway_fixture.hpp"

namespace greenfork::wsgi::testing {
namespace {

std::string failure_of(const std::string& spec) {
  auto app = load(spec);
  EXPECT_FALSE(app.ok()) << spec;
  return app.ok() ? "" : app.status().message();
}

TEST(Loader, VariableFactoryAndDottedAttribute) {
  for (const char* spec : {"gateway_app:app", "gateway_app:validated", "gateway_app:create_app()",
                           "gateway_app:create_app('plain', validate=True)",
                           "gateway_app:Holder.inner"}) {
    auto app = load(spec);
    ASSERT_TRUE(app.ok()) << spec << ": " << app.status().message();
    Exchanged r = run(**app, make_request("GET", "/hello"));
    EXPECT_EQ(r.out.status, 200) << spec;
    EXPECT_EQ(r.out.body, "hello\n") << spec;
  }
}

TEST(Loader, ModuleAloneLooksForApplication) {
  EXPECT_NE(failure_of("gateway_app").find("Failed to find application object 'application' in "
                                           "'gateway_app'"),
            std::string::npos);
}

TEST(Loader, GunicornMessages) {
  EXPECT_NE(failure_of("gateway_app:nope").find("Failed to find application object 'nope' in "
                                                "'gateway_app'"),
            std::string::npos);
  EXPECT_EQ(failure_of("gateway_app:not_callable"), "Application object must be callable.");
  EXPECT_NE(failure_of("gateway_app:app(").find("Failed to parse"), std::string::npos);
  EXPECT_NE(failure_of("gateway_app:create_app(os.getcwd())").find("literal values"),
            std::string::npos);
  EXPECT_NE(failure_of("gateway_app:app[0]").find("must be a simple name"), std::string::npos);
  std::string missing = failure_of("no_such_module_here:app");
  EXPECT_NE(missing.find("ModuleNotFoundError"), std::string::npos) << missing;
  EXPECT_NE(missing.find("no_such_module_here"), std::string::npos) << missing;
  std::string factory = failure_of("gateway_app:create_app('other')");
  EXPECT_NE(factory.find("unknown kind 'other'"), std::string::npos) << factory;
  EXPECT_NE(failure_of("bad spec:app").find("invalid application spec"), std::string::npos);
}

}  // namespace
}  // namespace greenfork::wsgi::testing
