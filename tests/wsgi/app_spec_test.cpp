#include "greenfork/wsgi/app_spec.hpp"

#include <gtest/gtest.h>

namespace greenfork::wsgi {
namespace {

TEST(AppSpec, ModuleAndVariable) {
  auto s = split_app_spec("myproject.wsgi:application");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->module, "myproject.wsgi");
  EXPECT_EQ(s->expression, "application");
}

TEST(AppSpec, ModuleAloneMeansApplication) {
  auto s = split_app_spec("hello");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->module, "hello");
  EXPECT_EQ(s->expression, "application");
}

TEST(AppSpec, FactoryCallKeepsItsArguments) {
  auto s = split_app_spec("pkg.app:create_app('prod', debug=False)");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->module, "pkg.app");
  EXPECT_EQ(s->expression, "create_app('prod', debug=False)");
}

TEST(AppSpec, ColonsInsideTheExpressionStayThere) {
  auto s = split_app_spec("app:make({'a': 1})");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->module, "app");
  EXPECT_EQ(s->expression, "make({'a': 1})");
}

TEST(AppSpec, RejectsBadModules) {
  for (const char* bad : {"", ":app", "a..b:app", ".a:app", "a.:app", "1abc:app", "a b:app",
                          "a/b:app", "app:", "app:  "}) {
    auto s = split_app_spec(bad);
    EXPECT_FALSE(s.ok()) << bad;
    if (!s.ok()) {
      EXPECT_NE(s.status().message().find("invalid application spec"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace greenfork::wsgi
