#include "commands.hpp"

#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <iostream>

#include "control_channel.hpp"
#include "interrupt.hpp"
#include "render.hpp"
#include "top.hpp"

namespace greenfork::ctl {
namespace {

constexpr double kDefaultTimeout = 10.0;
constexpr double kDefaultWaitTimeout = 300.0;

const char* command_word(Command command) {
  switch (command) {
    case Command::kStatus: return "status";
    case Command::kScale: return "scale";
    case Command::kReload: return "reload";
    case Command::kStop: return "stop";
    case Command::kReopenLogs: return "reopen-logs";
    case Command::kSignal: return "signal";
    case Command::kUpgrade: return "upgrade";
    case Command::kWatch: return "watch";
    case Command::kTop: return "top";
    default: return "gctl";
  }
}

double timeout_for(const Invocation& inv) {
  if (inv.timeout_seconds) return *inv.timeout_seconds;
  return inv.wait ? kDefaultWaitTimeout : kDefaultTimeout;
}

// One line on stderr and the exit status for a failed RPC.
int report(const Invocation& inv, const ControlChannel& conn, const grpc::Status& answer,
           double timeout) {
  const Status status = from_grpc_status(answer);
  const std::string at = " (arbiterd at " + conn.address().display + ")";
  switch (status.code()) {
    case StatusCode::kUnavailable:
      std::cerr << "gctl: cannot reach arbiterd at " << conn.address().display << ": "
                << status.message() << "\n";
      break;
    case StatusCode::kDeadlineExceeded:
      std::cerr << "gctl: " << command_word(inv.command) << ": no answer within " << timeout
                << "s" << at << " (--timeout to wait longer)\n";
      break;
    default:
      std::cerr << "gctl: " << command_word(inv.command) << " failed: "
                << status_code_name(status.code()) << ": " << status.message() << at << "\n";
      break;
  }
  return exit_code_for(status);
}

template <typename Reply>
int finish(const Invocation& inv, const ControlChannel& conn, const grpc::Status& status,
           const Reply& reply, double timeout, const std::string& human) {
  if (!status.ok()) return report(inv, conn, status, timeout);
  std::cout << (inv.json ? to_json(reply) + "\n" : human);
  return 0;
}

std::atomic<grpc::ClientContext*> g_watch_context{nullptr};
std::atomic<bool> g_interrupted{false};

int watch(const Invocation& inv, const ControlChannel& conn) {
  v1::WatchRequest request;
  request.set_pool(inv.pool);
  // Never freed: the signal thread may still hold it while the process exits.
  grpc::ClientContext* context = conn.context(inv.timeout_seconds.value_or(0)).release();
  g_watch_context = context;
  on_interrupt([] {
    g_interrupted = true;
    if (auto* watching = g_watch_context.load()) watching->TryCancel();
  });
  auto reader = conn.stub().Watch(context, request);
  reader->WaitForInitialMetadata();
  if (!g_interrupted) {
    std::cerr << "gctl: watching arbiterd at " << conn.address().display
              << (inv.json ? "" : " (Ctrl-C stops)") << std::endl;
  }
  v1::Event event;
  while (reader->Read(&event)) {
    std::cout << (inv.json ? to_json(event) : render_event(event)) << std::endl;
  }
  const grpc::Status status = reader->Finish();
  if (status.ok() || g_interrupted ||
      (inv.timeout_seconds && status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED)) {
    return 0;
  }
  return report(inv, conn, status, inv.timeout_seconds.value_or(0));
}

}  // namespace

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int run_command(const Invocation& inv, const ControlAddress& address, const std::string& token) {
  const double timeout = timeout_for(inv);
  auto opened = ControlChannel::open(address, token, std::min(timeout, 5.0));
  if (!opened.ok()) {
    std::cerr << "gctl: " << opened.status().message() << "\n";
    return exit_code_for(opened.status());
  }
  const ControlChannel& conn = *opened;
  auto context = conn.context(timeout);

  switch (inv.command) {
    case Command::kStatus: {
      v1::StatusReply reply;
      auto status = conn.stub().Status(context.get(), v1::StatusRequest(), &reply);
      return finish(inv, conn, status, reply, timeout, status.ok() ? render_status(reply) : "");
    }
    case Command::kScale: {
      v1::ScaleRequest request;
      request.set_pool(inv.pool);
      if (inv.scale.mode == ScaleSpec::Mode::kAbsolute) {
        request.set_mode(v1::ScaleRequest::MODE_ABSOLUTE);
        request.set_count(inv.scale.count);
      } else {
        request.set_mode(v1::ScaleRequest::MODE_RELATIVE);
        request.set_delta(inv.scale.delta);
      }
      request.set_wait(inv.wait);
      v1::ScaleReply reply;
      auto status = conn.stub().Scale(context.get(), request, &reply);
      return finish(inv, conn, status, reply, timeout,
                    reply.pool() + ": " + std::to_string(reply.previous()) + " -> " +
                        std::to_string(reply.desired()) + " workers" +
                        (inv.wait ? " (done)" : "") + "\n");
    }
    case Command::kReload: {
      v1::ReloadRequest request;
      request.set_pool(inv.pool);
      request.set_wait(inv.wait);
      v1::ReloadReply reply;
      auto status = conn.stub().Reload(context.get(), request, &reply);
      std::string pools;
      for (const auto& p : reply.pools()) pools += (pools.empty() ? "" : ", ") + p;
      return finish(inv, conn, status, reply, timeout,
                    std::string(reply.completed() ? "reloaded " : "reloading ") + pools + "\n");
    }
    case Command::kStop: {
      v1::StopRequest request;
      request.set_graceful(inv.graceful);
      v1::StopReply reply;
      auto status = conn.stub().Stop(context.get(), request, &reply);
      return finish(inv, conn, status, reply, timeout,
                    std::string("arbiterd is stopping (") + (inv.graceful ? "graceful" : "fast") +
                        ")\n");
    }
    case Command::kReopenLogs: {
      v1::ReopenLogsReply reply;
      auto status = conn.stub().ReopenLogs(context.get(), v1::ReopenLogsRequest(), &reply);
      return finish(inv, conn, status, reply, timeout, std::string("log files reopened\n"));
    }
    case Command::kSignal: {
      v1::SignalRequest request;
      request.set_pool(inv.pool);
      request.set_signal(inv.signal);
      v1::SignalReply reply;
      auto status = conn.stub().Signal(context.get(), request, &reply);
      return finish(inv, conn, status, reply, timeout,
                    "sent " + inv.signal + " to " + std::to_string(reply.workers_signalled()) +
                        " workers of " + inv.pool + "\n");
    }
    case Command::kUpgrade: {
      v1::UpgradeRequest request;
      request.set_wait(inv.wait);
      v1::UpgradeReply reply;
      auto status = conn.stub().Upgrade(context.get(), request, &reply);
      return finish(inv, conn, status, reply, timeout,
                    "new master pid " + std::to_string(reply.new_master_pid()) +
                        (inv.wait ? " is serving\n" : " starting\n"));
    }
    case Command::kWatch:
      return watch(inv, conn);
    case Command::kTop:
      return top(inv, conn);
    case Command::kHelp:
    case Command::kVersion:
      break;
  }
  return 0;
}

}  // namespace greenfork::ctl
