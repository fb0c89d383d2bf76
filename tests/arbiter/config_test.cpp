// Config from TOML files and from flags: what loads, and the one message
// (file, line, key) each mistake gets.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "greenfork/arbiter/cli.hpp"
#include "greenfork/arbiter/config_loader.hpp"

namespace greenfork::arbiter {
namespace {

class ConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gf-cfg-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    return path;
  }
  // Loads text as a file and returns the error message ("" if it loaded).
  std::string error_of(const std::string& text) {
    auto c = load_config_file(write("bad.toml", text));
    return c.ok() ? "" : c.status().message();
  }
  std::string dir_;
};

TEST_F(ConfigFile, LoadsSeveralPools) {
  std::filesystem::create_directory(dir_ + "/api");
  std::string path = write("ok.toml", R"(
[arbiter]
name = "shop"
pid = "run/arbiterd.pid"
umask = 0o007
log_level = "debug"

[pools.api]
command = ["sh", "-c", "exec sleep 100"]
workers = 3
bind = "127.0.0.1:9100"
env = { MODE = "api" }
cwd = "api"
heartbeat = "notify"
timeout = 2.5

[pools.web]
command = ["/bin/sh", "server.sh"]
bind = ["[::1]:9200", "unix:/tmp/gf-web.sock"]
backoff_initial = 1
)");
  auto c = load_config_file(path);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->config_file, path);
  EXPECT_EQ(c->name, "shop");
  EXPECT_EQ(c->pid_file, dir_ + "/run/arbiterd.pid");
  EXPECT_EQ(c->umask, 07u);
  EXPECT_EQ(c->log_level, "debug");
  ASSERT_EQ(c->pools.size(), 2u);
  const PoolConfig& api = c->pools[0];
  EXPECT_EQ(api.name, "api");
  EXPECT_EQ(api.workers, 3u);
  EXPECT_EQ(api.command.front().front(), '/');  // resolved on PATH
  EXPECT_EQ(api.command[1], "-c");
  EXPECT_EQ(api.binds, std::vector<std::string>{"127.0.0.1:9100"});
  EXPECT_EQ(api.env.at(0), std::make_pair(std::string("MODE"), std::string("api")));
  EXPECT_EQ(api.cwd, dir_ + "/api");
  EXPECT_EQ(api.heartbeat, HeartbeatMode::kNotify);
  EXPECT_DOUBLE_EQ(api.timeout_seconds, 2.5);
  EXPECT_EQ(c->pools[1].binds.size(), 2u);
  EXPECT_DOUBLE_EQ(c->pools[1].backoff.initial_seconds, 1.0);
}

TEST_F(ConfigFile, EveryMistakeNamesFileLineAndKey) {
  const std::string f = dir_ + "/bad.toml";
  EXPECT_EQ(error_of("[pools.web]\ncommand = [\"true\"]\nwrokers = 2\n"),
            f + ":3: pools.web.wrokers: unknown key");
  EXPECT_EQ(error_of("[pools.web]\ncommand = [\"true\"]\nworkers = \"2\"\n"),
            f + ":3: pools.web.workers: expected an integer, got a string");
  EXPECT_EQ(error_of("[arbiter]\nbacklog = 1.5\n[pools.web]\ncommand = [\"true\"]\n"),
            f + ":2: arbiter.backlog: expected an integer, got a number");
  EXPECT_EQ(error_of("[arbiter]\nnmae = \"x\"\n[pools.web]\ncommand = [\"true\"]\n"),
            f + ":2: arbiter.nmae: unknown key");
  EXPECT_EQ(error_of("[pools.web]\ncommand = [\"true\"]\n\nbind = [\"127.0.0.1:http\"]\n"),
            f + ":4: pools.web.bind: bad address '127.0.0.1:http': port 'http' is not a number");
  EXPECT_EQ(error_of("[pools.web]\nworkers = 2\n"),
            f + ":1: pools.web.command: missing command (set command = [\"prog\", ...] or app = "
                "\"module:app\")");
  EXPECT_EQ(error_of("[pools.web]\ncommand = [\"no-such-program-gf\"]\n"),
            f + ":2: pools.web.command: command 'no-such-program-gf' not found on PATH");
  EXPECT_EQ(error_of("[pools.web]\ncommand = [\"true\"]\nworkers = 9\nmax_workers = 4\n"),
            f + ":3: pools.web.workers: 9 is more than max_workers (4)");
  EXPECT_EQ(error_of("[pools.web]\ncommand = [\"true\"]\nheartbeat = \"sometimes\"\n"),
            f + ":3: pools.web.heartbeat: 'sometimes' is not one of auto, grpc, notify, none");
  EXPECT_EQ(error_of("[pools.a]\ncommand = [\"true\"]\nbind = \"127.0.0.1:9000\"\n"
                     "[pools.b]\ncommand = [\"true\"]\nbind = [\"tcp://127.0.0.1:9000\"]\n"),
            f + ":6: pools.b.bind: 127.0.0.1:9000 is already bound by pool 'a'");
  EXPECT_EQ(error_of("[pools.web]\ncommand = [\"true\"]\ncwd = \"nowhere\"\n"),
            f + ":3: pools.web.cwd: " + dir_ + "/nowhere: no such directory");
  EXPECT_EQ(error_of("[server]\nx = 1\n"),
            f + ":1: server: unknown section (expected [arbiter] or [pools.NAME])");
  EXPECT_EQ(error_of("[arbiter]\nname = \"x\"\n"), f + ": no pools: add a [pools.NAME] table with a command");
  EXPECT_EQ(error_of("[pools.web]\ncommand = [\"true\"]\napp = \"x:y\"\n"),
            f + ":3: pools.web.app: give either command or app, not both");
}

TEST_F(ConfigFile, CommandMustBeExecutable) {
  std::string script = write("script.sh", "#!/bin/sh\n");
  ::chmod(script.c_str(), 0644);
  EXPECT_EQ(error_of("[pools.web]\ncommand = [\"./script.sh\"]\n"),
            dir_ + "/bad.toml:2: pools.web.command: " + script + ": not executable");
  ::chmod(script.c_str(), 0755);
  EXPECT_EQ(error_of("[pools.web]\ncommand = [\"./script.sh\"]\n"), "");
}

TEST_F(ConfigFile, SyntaxErrorsAndPythonFiles) {
  std::string msg = error_of("[pools.web\ncommand = 1\n");
  EXPECT_EQ(msg.rfind(dir_ + "/bad.toml:1:", 0), 0u) << msg;
  auto py = load_config_file(write("gunicorn.conf.py", "workers = 2\n"));
  ASSERT_FALSE(py.ok());
  EXPECT_EQ(py.status().message().rfind("greenfork reads TOML config files, not Python: ", 0), 0u);
  auto missing = load_config_file(dir_ + "/none.toml");
  EXPECT_EQ(missing.status().message(), dir_ + "/none.toml: no such config file");
}

StatusOr<Config> from_args(std::vector<std::string> args) { return config_from_args(args); }

TEST(CommandLine, CommandAfterDashDash) {
  auto c = from_args({"-w", "3", "-b", "127.0.0.1:0", "-b", "unix:/tmp/x.sock", "-e", "A=b=c",
                      "--timeout", "5", "--heartbeat", "none", "--", "true", "--flag"});
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->pools.size(), 1u);
  const PoolConfig& p = c->pools[0];
  EXPECT_EQ(p.workers, 3u);
  EXPECT_EQ(p.binds, (std::vector<std::string>{"127.0.0.1:0", "unix:/tmp/x.sock"}));
  EXPECT_EQ(p.env.at(0).second, "b=c");
  EXPECT_DOUBLE_EQ(p.timeout_seconds, 5);
  EXPECT_EQ(p.heartbeat, HeartbeatMode::kNone);
  EXPECT_EQ(p.command.back(), "--flag");
  EXPECT_EQ(p.command.front().front(), '/');
}

TEST(CommandLine, WebConcurrencyIsTheDefaultCount) {
  ::setenv("WEB_CONCURRENCY", "5", 1);
  auto c = from_args({"--", "true"});
  auto explicit_count = from_args({"-w", "2", "--", "true"});
  ::setenv("WEB_CONCURRENCY", "many", 1);
  auto bad = from_args({"--", "true"});
  ::unsetenv("WEB_CONCURRENCY");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->pools[0].workers, 5u);
  EXPECT_EQ(explicit_count->pools[0].workers, 2u);
  EXPECT_EQ(bad.status().message(), "WEB_CONCURRENCY='many' is not a positive whole number");
}

TEST(CommandLine, Mistakes) {
  EXPECT_NE(from_args({"-w", "2"}).status().message().find("nothing to run"), std::string::npos);
  EXPECT_EQ(from_args({"--threads", "4", "--", "true"}).status().message(),
            "--threads is a gworker option: it needs an APP, not a -- COMMAND");
  EXPECT_EQ(from_args({"-b", "1.2.3.4:x", "--", "true"}).status().message(),
            "-b/--bind: bad address '1.2.3.4:x': port 'x' is not a number");
  EXPECT_EQ(from_args({"-e", "NOVALUE", "--", "true"}).status().message(),
            "-e/--env: 'NOVALUE' is not KEY=VALUE");
  EXPECT_EQ(from_args({"--umask", "999", "--", "true"}).status().message(),
            "--umask: umask '999' is not an octal mode between 000 and 777");
  EXPECT_EQ(from_args({"--", "no-such-program-gf"}).status().message(),
            "command: command 'no-such-program-gf' not found on PATH");
  EXPECT_NE(from_args({"node", "server.js"}).status().message().find("put it after '--'"),
            std::string::npos);
  EXPECT_NE(from_args({"-k", "nosuchclass", "app:app"}).status().message().find("--worker-class"),
            std::string::npos);
  // A Python config file is evaluated (its traceback goes to stderr).
  EXPECT_EQ(from_args({"-c", "/nonexistent/x.py"}).status().message(),
            "config file /nonexistent/x.py failed (its traceback is above)");
}

TEST(CommandLine, OneLinerRunsGworkerWithWorkerFlags) {
  auto c = from_args({"-w", "2", "-k", "gthread", "--threads", "4", "--reload", "--timeout", "7",
                      "--limit-request-field_size", "100", "--write-timeout", "2.5", "hello:app"});
  if (::access(gworker_path().c_str(), X_OK) != 0) {
    // Without a built gworker the one-liner must say what is missing.
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.status().message().find(gworker_path()), std::string::npos);
    return;
  }
  ASSERT_TRUE(c.ok()) << c.status().message();
  const PoolConfig& p = c->pools[0];
  EXPECT_EQ(p.binds, std::vector<std::string>{"127.0.0.1:8000"});  // Gunicorn's default
  EXPECT_EQ(p.command, (std::vector<std::string>{gworker_path(), "hello:app", "--worker-class",
                                                 "gthread", "--threads", "4",
                                                 "--limit-request-field_size", "100",
                                                 "--write-timeout", "2.5", "--reload",
                                                 "--timeout", "7"}));
  EXPECT_NE(from_args({"--write-timeout", "0", "hello:app"}).status().message().find(
                "--write-timeout"),
            std::string::npos);
}

// Gunicorn's grammar: a repeatable option takes one value per occurrence,
// so the APP after it stays the positional (issue 14).
TEST(CommandLine, RepeatableOptionsTakeOneValueEach) {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"-w", "4", "-b", "0.0.0.0:8000", "myproject.wsgi:application"},
        std::vector<std::string>{"-b", "127.0.0.1:8000", "-b", "unix:/tmp/gf.sock", "-e", "A=1", "-e",
                                 "B=2", "myproject.wsgi:application"},
        std::vector<std::string>{"--bind=127.0.0.1:8000", "--env", "A=1", "myproject.wsgi:application"}}) {
    auto c = from_args(args);
    if (::access(gworker_path().c_str(), X_OK) != 0) {
      EXPECT_NE(c.status().message().find(gworker_path()), std::string::npos) << c.status().message();
      continue;
    }
    ASSERT_TRUE(c.ok()) << c.status().message();
    const PoolConfig& p = c->pools[0];
    EXPECT_EQ(p.command.at(1), "myproject.wsgi:application");
    const auto dash_b = static_cast<std::size_t>(std::count(args.begin(), args.end(), "-b"));
    ASSERT_EQ(p.binds.size(), std::max<std::size_t>(dash_b, 1));
    EXPECT_NE(p.binds.front().find(":8000"), std::string::npos) << p.binds.front();
  }
  auto two = from_args({"-b", "127.0.0.1:1", "-b", "127.0.0.1:2", "-e", "A=1", "-e", "B=2", "--", "true"});
  ASSERT_TRUE(two.ok()) << two.status().message();
  EXPECT_EQ(two->pools[0].binds, (std::vector<std::string>{"127.0.0.1:1", "127.0.0.1:2"}));
  EXPECT_EQ(two->pools[0].env.size(), 2u);
  // Two values after one -b: the second is the APP, so with -- COMMAND it is an error.
  EXPECT_FALSE(from_args({"-b", "127.0.0.1:1", "127.0.0.1:2", "--", "true"}).ok());
}

// Every gworker option arbiterd forwards is checked against gworker's own
// range before anything is forked.
TEST(CommandLine, WorkerOptionsOutOfGworkersRangeAreRefused) {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"--threads", "0"},
      {"--threads", "1025"},
      {"--threads", "2.5"},
      {"--worker-connections", "0"},
      {"--worker-connections", "1000001"},
      {"--keep-alive", "-1"},
      {"--keep-alive", "3601"},
      {"--max-requests", "-1"},
      {"--max-requests", "18446744073709551616"},
      {"--max-requests-jitter", "x"},
      {"--limit-request-line", "8191"},
      {"--limit-request-fields", "32769"},
      {"--limit-request-field_size", "-5"},
      {"--header-timeout", "0"},
      {"--body-timeout", "3601"},
      {"--write-timeout", "0.05"},
      {"--worker-class", "nosuchclass"},
      {"--timeout", "86401"},
      {"--graceful-timeout", "86401"},
  };
  for (const auto& [flag, value] : bad) {
    auto c = from_args({"-k", "gthread", flag, value, "hello:app"});
    ASSERT_FALSE(c.ok()) << flag << " " << value;
    EXPECT_NE(c.status().message().find(flag), std::string::npos) << c.status().message();
  }
  for (const auto& [flag, value] : std::vector<std::pair<std::string, std::string>>{
           {"--threads", "1024"}, {"--keep-alive", "2.5"}, {"--limit-request-line", "0"},
           {"--header-timeout", "0.1"}, {"--timeout", "86400"}, {"--max-requests", "18446744073709551615"}}) {
    auto c = from_args({"-k", "gthread", flag, value, "hello:app"});
    if (::access(gworker_path().c_str(), X_OK) != 0) continue;
    EXPECT_TRUE(c.ok()) << flag << " " << value << ": " << c.status().message();
  }
  auto trace = from_args({"--log-level", "trace", "hello:app"});
  if (::access(gworker_path().c_str(), X_OK) == 0) {
    ASSERT_TRUE(trace.ok()) << trace.status().message();
    const auto& cmd = trace->pools[0].command;
    auto it = std::find(cmd.begin(), cmd.end(), "--log-level");
    ASSERT_NE(it, cmd.end());
    EXPECT_EQ(*(it + 1), "debug");  // gworker has no "trace"
  }
}

// An app pool's worker_args get gworker's ranges too, from the same table.
TEST_F(ConfigFile, WorkerArgsOutOfGworkersRangeAreRefused) {
  for (const auto& [args, message] : std::vector<std::pair<std::string, std::string>>{
           {R"(["--threads", "0"])", "--threads: '0' is out of range (1 to 1024)"},
           {R"(["-k", "gthread", "--threads=2000"])", "--threads: '2000' is out of range (1 to 1024)"},
           {R"(["--keep-alive", "soon"])", "--keep-alive: 'soon' is out of range (0 to 3600)"},
           {R"(["-k", "nosuchclass"])", "-k: 'nosuchclass' is not one of sync, gthread"},
           {R"(["--limit-request-field-size", "-1"])", "--limit-request-field-size: '-1' is not a whole number"},
           {R"(["--write-timeout", "0"])", "--write-timeout: '0' is out of range (0.1 to 3600)"}}) {
    std::string path = write("w.toml", "[pools.web]\napp = \"hello:app\"\nworker_args = " + args + "\n");
    auto c = load_config_file(path);
    ASSERT_FALSE(c.ok()) << args;
    EXPECT_NE(c.status().message().find(path + ":3: pools.web.worker_args: " + message), std::string::npos)
        << c.status().message();
  }
}

TEST_F(ConfigFile, FlagsOverrideArbiterKeysOnly) {
  std::string path = write("o.toml", "[arbiter]\nlog_level = \"info\"\nname = \"a\"\n"
                                     "[pools.web]\ncommand = [\"true\"]\n");
  auto c = from_args({"-c", path, "--log-level", "WARNING"});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->log_level, "warning");
  EXPECT_EQ(c->name, "a");
  EXPECT_EQ(from_args({"-c", path, "-w", "3"}).status().message(),
            "--workers sets a pool's value: with -c put it in a [pools.NAME] table of " + path);
  EXPECT_EQ(from_args({"-c", path, "--chdir", dir_ + "/missing"}).status().message(),
            "--chdir: " + dir_ + "/missing: no such directory");
}

}  // namespace
}  // namespace greenfork::arbiter

namespace greenfork::arbiter {
namespace {

// GUNICORN_CMD_ARGS sits between the config file and the command line, and
// is split as Gunicorn splits it (shlex).
class GunicornCmdArgs : public ::testing::Test {
 protected:
  void TearDown() override { ::unsetenv("GUNICORN_CMD_ARGS"); }
};

TEST_F(GunicornCmdArgs, CommandLineWinsAndQuotesAreShells) {
  ::setenv("GUNICORN_CMD_ARGS", "-w 3 --timeout 9 -e 'A=x y' -b 127.0.0.1:1", 1);
  auto c = config_from_args({"-w", "2", "-b", "127.0.0.1:2", "--", "true"});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->pools.at(0).workers, 2u);
  EXPECT_EQ(c->pools.at(0).timeout_seconds, 9.0);
  EXPECT_EQ(c->pools.at(0).binds, std::vector<std::string>{"127.0.0.1:2"});
  ASSERT_EQ(c->pools.at(0).env.size(), 1u);
  EXPECT_EQ(c->pools.at(0).env[0].second, "x y");
}

TEST_F(GunicornCmdArgs, RefusedAndBrokenOnesAreNamed) {
  ::setenv("GUNICORN_CMD_ARGS", "--spew", 1);
  EXPECT_EQ(config_from_args({"--", "true"}).status().message(),
            "GUNICORN_CMD_ARGS: --spew (spew): not supported: trace with a debugger or py-spy instead");
  ::setenv("GUNICORN_CMD_ARGS", "--name 'unclosed", 1);
  EXPECT_EQ(config_from_args({"--", "true"}).status().message(), "GUNICORN_CMD_ARGS: no closing quotation");
}

TEST(GunicornFlags, RefusedOnesSayWhyAndAliasesWork) {
  const std::string missing = config_from_args({"--paster", "x.ini"}).status().message();
  EXPECT_EQ(missing.rfind("--paste: '/", 0), 0u) << missing;
  EXPECT_NE(missing.find("/x.ini' not found"), std::string::npos) << missing;
  EXPECT_EQ(config_from_args({"--spew", "app:app"}).status().message(),
            "--spew (spew): not supported: trace with a debugger or py-spy instead");
  auto c = config_from_args({"-m", "0o27", "-p", "/tmp/gf.pid", "--log-file", "/tmp/gf.log", "-w4", "-DR",
                             "--reuse-port", "--capture-output", "--", "true"});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->umask, 027u);
  EXPECT_EQ(c->pid_file, "/tmp/gf.pid");
  EXPECT_EQ(c->error_logfile, "/tmp/gf.log");
  EXPECT_EQ(c->pools.at(0).workers, 4u);
  EXPECT_TRUE(c->daemon && c->enable_stdio_inheritance && c->reuse_port && c->capture_output);
}

}  // namespace
}  // namespace greenfork::arbiter

namespace greenfork::arbiter {
namespace {

TEST_F(ConfigFile, MemoryLimitAndAutoscale) {
  auto c = load_config_file(write("ok.toml",
                                  "[pools.web]\ncommand = [\"true\"]\nmax_worker_memory = \"512M\"\n"
                                  "autoscale = { min = 2, max = 8, cooldown = 5 }\n"
                                  "[pools.raw]\ncommand = [\"true\"]\nmax_worker_memory = 1048576\n"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  const PoolConfig& web = c->pools[0].name == "web" ? c->pools[0] : c->pools[1];
  const PoolConfig& raw = c->pools[0].name == "raw" ? c->pools[0] : c->pools[1];
  EXPECT_EQ(web.max_worker_memory_bytes, 512ull << 20);
  EXPECT_EQ(web.autoscale.min, 2u);
  EXPECT_EQ(web.autoscale.max, 8u);
  EXPECT_DOUBLE_EQ(web.autoscale.cooldown_seconds, 5);
  EXPECT_EQ(raw.max_worker_memory_bytes, 1048576u);
  EXPECT_FALSE(raw.autoscale.enabled());
  const std::string f = dir_ + "/bad.toml";
  EXPECT_EQ(error_of("[pools.web]\ncommand = [\"true\"]\nmax_worker_memory = \"lots\"\n"),
            f + ":3: pools.web.max_worker_memory: 'lots' is not a size (bytes, or a number with K, M, G or T: "
                "512M, 1G)");
  EXPECT_EQ(error_of("[pools.web]\ncommand = [\"true\"]\nautoscale = { min = 4, max = 2 }\n"),
            f + ":3: pools.web.autoscale: max 2 is less than min 4");
  EXPECT_EQ(error_of("[pools.web]\ncommand = [\"true\"]\nautoscale = { min = 1 }\n"),
            f + ":3: pools.web.autoscale: needs max (and min, 1 when left out)");
  EXPECT_EQ(error_of("[pools.web]\ncommand = [\"true\"]\nautoscale = { max = 4, step = 2 }\n"),
            f + ":3: pools.web.autoscale.step: unknown key (expected min, max, cooldown)");
  EXPECT_EQ(error_of("[pools.web]\ncommand = [\"true\"]\nmax_workers = 4\nautoscale = { max = 9 }\n"),
            f + ":4: pools.web.autoscale: max 9 is more than max_workers (4)");
}

TEST(CommandLine, MemoryLimitAndAutoscaleFlags) {
  auto c = from_args({"--max-worker-memory", "1G", "--autoscale", "1:80", "--autoscale-cooldown", "2", "--",
                      "true"});
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->pools[0].max_worker_memory_bytes, 1ull << 30);
  EXPECT_EQ(c->pools[0].autoscale.max, 80u);
  EXPECT_GE(c->pools[0].max_workers, 80u);
  EXPECT_DOUBLE_EQ(c->pools[0].autoscale.cooldown_seconds, 2);
  EXPECT_EQ(from_args({"--max-worker-memory", "12X", "--", "true"}).status().message(),
            "--max-worker-memory: '12X' is not a size (bytes, or a number with K, M, G or T: 512M, 1G)");
  EXPECT_EQ(from_args({"--autoscale", "4", "--", "true"}).status().message(),
            "--autoscale: '4' is not MIN:MAX (worker counts, 1 <= MIN <= MAX: 1:8)");
  EXPECT_EQ(from_args({"--autoscale-cooldown", "3", "--", "true"}).status().message(),
            "--autoscale-cooldown needs --autoscale MIN:MAX");
}

}  // namespace
}  // namespace greenfork::arbiter
