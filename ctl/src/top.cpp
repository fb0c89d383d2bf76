#include "top.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "greenfork/ctl/gctl.hpp"
#include "interrupt.hpp"
#include "render.hpp"
#include "top_view.hpp"

namespace greenfork::ctl {
namespace {

constexpr size_t kEventLines = 6;
constexpr double kCallTimeout = 5.0;

// Raw keys and the alternate screen while it lives; everything put back
// in the destructor.
class TerminalMode {
 public:
  TerminalMode(bool keys, bool alternate) : alternate_(alternate) {
    if (keys && ::tcgetattr(STDIN_FILENO, &saved_) == 0) {
      termios raw = saved_;
      raw.c_lflag &= ~static_cast<tcflag_t>(ICANON | ECHO);
      raw.c_cc[VMIN] = 0;
      raw.c_cc[VTIME] = 0;
      keys_ = ::tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
    }
    if (alternate_) std::cout << "\x1b[?1049h\x1b[?25l" << std::flush;
  }
  ~TerminalMode() {
    if (alternate_) std::cout << "\x1b[?25h\x1b[?1049l" << std::flush;
    if (keys_) ::tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }
  TerminalMode(const TerminalMode&) = delete;
  TerminalMode& operator=(const TerminalMode&) = delete;
  bool keys() const { return keys_; }

 private:
  bool alternate_;
  bool keys_ = false;
  termios saved_{};
};

// The last Watch events, rendered, shared with the watch thread.
class EventTail {
 public:
  void add(std::string line) {
    const std::lock_guard<std::mutex> lock(mu_);
    lines_.push_back(std::move(line));
    while (lines_.size() > kEventLines) lines_.pop_front();
  }
  std::deque<std::string> lines() const {
    const std::lock_guard<std::mutex> lock(mu_);
    return lines_;
  }

 private:
  mutable std::mutex mu_;
  std::deque<std::string> lines_;
};

int stop_pipe[2] = {-1, -1};

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

unsigned terminal_rows() {
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_row == 0) return 0;
  return ws.ws_row;
}

// Waits up to `seconds` for a key or a stop signal; true: stop.
bool wait_or_stop(double seconds, bool keys) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fds[2] = {{stop_pipe[0], POLLIN, 0}, {STDIN_FILENO, POLLIN, 0}};
    const int n = ::poll(fds, keys ? 2 : 1, static_cast<int>(left.count()));
    if (n <= 0) continue;
    if (fds[0].revents != 0) return true;
    if (keys && (fds[1].revents & POLLIN) != 0) {
      char c = 0;
      if (::read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q')) return true;
    }
  }
}

}  // namespace

int top(const Invocation& inv, const ControlChannel& conn) {
  if (::pipe2(stop_pipe, O_CLOEXEC) != 0) {
    std::cerr << "gctl: top: pipe failed\n";
    return kExitFailed;
  }
  // SIGINT/SIGTERM end the loop through a pipe the frame wait polls.
  on_interrupt([] {
    const char c = 's';
    (void)!::write(stop_pipe[1], &c, 1);
  });
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  const bool live = tty && !inv.top.frames;  // -n: frames stay on the screen

  EventTail events;
  std::unique_ptr<grpc::ClientContext> watch_context = conn.context(0);
  std::thread watcher([&] {
    v1::WatchRequest request;
    auto reader = conn.stub().Watch(watch_context.get(), request);
    v1::Event event;
    while (reader->Read(&event)) events.add(render_event(event));
    (void)reader->Finish();
  });

  int code = 0;
  {
    std::optional<TerminalMode> terminal;
    terminal.emplace(live && ::isatty(STDIN_FILENO) == 1, live);
    std::optional<TopSample> previous;
    for (unsigned frame = 0; !inv.top.frames || frame < *inv.top.frames; ++frame) {
      v1::StatusReply reply;
      auto context = conn.context(kCallTimeout);
      const grpc::Status status = conn.stub().Status(context.get(), v1::StatusRequest(), &reply);
      if (!status.ok()) {
        code = exit_code_for(from_grpc_status(status));
        terminal.reset();  // the message must land on the normal screen
        std::cerr << "gctl: top: " << from_grpc_status(status).message() << " (arbiterd at "
                  << conn.address().display << ")\n";
        break;
      }
      const double t = now_seconds();
      const unsigned rows = live ? terminal_rows() : 0;
      // What fits under the header, the pools and the events (0: no limit).
      const unsigned fixed_lines = 8 + static_cast<unsigned>(reply.pools_size() + kEventLines);
      const unsigned worker_rows = rows == 0 ? 0 : (rows > fixed_lines + 1 ? rows - fixed_lines : 1);
      std::string text = render_top(reply, previous ? &*previous : nullptr, t, inv.top.sort, events.lines(),
                                    worker_rows);
      if (live) std::cout << "\x1b[H\x1b[2J" << text << "\n(q quits)" << std::flush;
      else std::cout << (frame > 0 ? "\n" : "") << text << std::flush;
      previous = top_sample(reply, t);
      if (inv.top.frames && frame + 1 >= *inv.top.frames) break;
      if (wait_or_stop(inv.top.delay_seconds, terminal->keys())) break;
    }
  }
  watch_context->TryCancel();
  watcher.join();
  return code;
}

}  // namespace greenfork::ctl
