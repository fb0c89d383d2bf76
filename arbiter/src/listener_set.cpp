#include "greenfork/arbiter/listener_set.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <set>
#include <utility>

#include "greenfork/contract.hpp"
#include "greenfork/listen_fds.hpp"

namespace greenfork::arbiter {
namespace {

struct InheritedFd {
  int fd = -1;
  std::string name;  // LISTEN_FDNAMES entry, or the upgrade spec
  bool used = false;
};

// What systemd passed to this very process, read once: the environment is
// cleaned by ListenerSet::open, but a config reload still needs the answer.
// Malformed variables are an error that ListenerSet::open reports.
struct SystemdFds {
  Status status;
  std::vector<InheritedFd> fds;
};

const SystemdFds& systemd_fds() {
  static const SystemdFds fds = [] {
    SystemdFds out;
    StatusOr<ListenFds> given = read_listen_fds(static_cast<long>(::getpid()));
    if (!given.ok()) {
      out.status = given.status();
      return out;
    }
    if (given->kind != ListenFds::kOurs) return out;
    for (int i = 0; i < given->count; ++i) {
      InheritedFd f;
      f.fd = contract::kListenFdsStart + i;
      if (static_cast<std::size_t>(i) < given->names.size()) {
        f.name = given->names[static_cast<std::size_t>(i)];
      }
      out.fds.push_back(f);
    }
    return out;
  }();
  return fds;
}

// GREENFORK_UPGRADE_FDS="SPEC=FD;SPEC=FD" (a spec may contain '=', the fd
// never does: split at the last one).
std::vector<InheritedFd> upgrade_fds() {
  std::vector<InheritedFd> out;
  const char* raw = std::getenv(contract::kUpgradeFds);
  if (raw == nullptr) return out;
  std::string all = raw;
  std::size_t start = 0;
  while (start < all.size()) {
    std::size_t semi = std::min(all.find(';', start), all.size());
    std::string item = all.substr(start, semi - start);
    start = semi + 1;
    std::size_t eq = item.rfind('=');
    if (eq == std::string::npos) continue;
    char* end = nullptr;
    long fd = std::strtol(item.c_str() + eq + 1, &end, 10);
    if (*end != '\0' || fd < 0) continue;
    out.push_back({static_cast<int>(fd), item.substr(0, eq), false});
  }
  return out;
}

void set_cloexec(int fd) {
  int flags = ::fcntl(fd, F_GETFD);
  if (flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

// Takes an inherited listening socket as `spec`.
StatusOr<ListenerSet::Listener> adopt(const std::string& spec, int fd, std::string fd_name,
                                      bool owns_unix_file) {
  auto bound = inspect_listener(fd);
  if (!bound.ok()) return Status::error(spec + ": " + bound.status().message());
  set_cloexec(fd);
  ListenerSet::Listener l;
  l.spec = spec;
  l.socket.reset(fd);
  l.address = *bound;
  l.fd_name = fd_name.empty() ? bound->fd_name() : std::move(fd_name);
  if (owns_unix_file && bound->kind == ListenAddress::kUnix) l.unix_path = bound->path;
  return l;
}

struct Inherited {
  std::vector<InheritedFd> upgrade = upgrade_fds();
  std::vector<InheritedFd> systemd = systemd_fds().fds;
};

StatusOr<ListenerSet::Listener> open_one(const ListenAddress& a, Inherited& in, int backlog,
                                         mode_t socket_umask, bool* adopted, bool reuse_port = false) {
  const std::string spec = a.to_string();
  *adopted = true;
  for (InheritedFd& f : in.upgrade) {
    if (!f.used && f.name == spec) {
      f.used = true;
      return adopt(spec, f.fd, "", /*owns_unix_file=*/true);
    }
  }
  if (a.kind == ListenAddress::kFd) {
    std::string name;
    for (InheritedFd& f : in.systemd) {
      if (f.fd == a.fd) {
        f.used = true;
        name = f.name;
      }
    }
    return adopt(spec, a.fd, name, false);
  }
  for (InheritedFd& f : in.systemd) {
    if (f.used) continue;
    bool match = !f.name.empty() && (f.name == spec || f.name == a.fd_name());
    if (!match) {
      auto bound = inspect_listener(f.fd);
      match = bound.ok() && same_endpoint(*bound, a);
    }
    if (match) {
      f.used = true;
      return adopt(spec, f.fd, f.name, false);
    }
  }
  *adopted = false;
  auto fd = bind_listener(a, backlog, socket_umask, reuse_port);
  if (!fd.ok()) return fd.status();
  ListenerSet::Listener l;
  l.spec = spec;
  l.socket.reset(*fd);
  l.address = a;
  l.fd_name = a.fd_name();
  if (a.kind == ListenAddress::kUnix) l.unix_path = a.path;
  return l;
}

void close_listener(ListenerSet::Listener& l, bool unlink_unix_file) {
  l.socket.reset();
  if (unlink_unix_file && !l.unix_path.empty()) ::unlink(l.unix_path.c_str());
}

std::string canonical(const std::string& spec) {
  auto a = parse_listen_address(spec);
  return a.ok() ? a->to_string() : spec;
}

}  // namespace

std::vector<std::string> systemd_listen_specs() {
  std::vector<std::string> out;
  for (const InheritedFd& f : systemd_fds().fds) out.push_back("fd://" + std::to_string(f.fd));
  return out;
}

StatusOr<ListenerSet> ListenerSet::open(const std::vector<std::string>& specs, int backlog,
                                        mode_t socket_umask, bool reuse_port) {
  if (!systemd_fds().status.ok()) return systemd_fds().status;
  Inherited in;
  ListenerSet set;
  Status failed;
  std::vector<bool> bound_here;  // per listener: bound by this call, not adopted
  for (const std::string& text : specs) {
    auto a = parse_listen_address(text);
    if (!a.ok()) {
      failed = a.status();
      break;
    }
    if (set.find(a->to_string()) != nullptr) continue;
    bool adopted = false;
    auto l = open_one(*a, in, backlog, socket_umask, &adopted, reuse_port);
    if (!l.ok()) {
      failed = l.status();
      break;
    }
    bound_here.push_back(!adopted);
    set.listeners_.push_back(std::move(*l));
  }
  // Inherited sockets nobody asked for must not reach the workers.
  for (const auto* group : {&in.upgrade, &in.systemd}) {
    for (const InheritedFd& f : *group) {
      bool kept = std::any_of(set.listeners_.begin(), set.listeners_.end(),
                              [&](const Listener& l) { return l.fd() == f.fd; });
      if (!kept) UniqueFd(f.fd).reset();
    }
  }
  for (const char* var : {contract::kListenFds, contract::kListenPid, contract::kListenFdNames,
                          contract::kUpgradeFds}) {
    ::unsetenv(var);
  }
  if (!failed.ok()) {
    // Sockets bound by this call go away with their files; adopted ones
    // (an old master's during an upgrade) keep theirs.
    for (std::size_t i = 0; i < set.listeners_.size(); ++i) {
      close_listener(set.listeners_[i], bound_here[i]);
    }
    set.listeners_.clear();
    return failed;
  }
  return set;
}

ListenerSet::ListenerSet(ListenerSet&& other) noexcept
    : listeners_(std::exchange(other.listeners_, {})),
      remove_files_when_destroyed_(other.remove_files_when_destroyed_) {}

ListenerSet& ListenerSet::operator=(ListenerSet&& other) noexcept {
  if (this != &other) {
    close_all(remove_files_when_destroyed_);
    listeners_ = std::exchange(other.listeners_, {});
    remove_files_when_destroyed_ = other.remove_files_when_destroyed_;
  }
  return *this;
}

ListenerSet::~ListenerSet() { close_all(remove_files_when_destroyed_); }

const ListenerSet::Listener* ListenerSet::find(const std::string& spec) const {
  const std::string key = canonical(spec);
  for (const Listener& l : listeners_) {
    if (l.spec == key) return &l;
  }
  return nullptr;
}

Status ListenerSet::add(const std::vector<std::string>& specs, int backlog, mode_t socket_umask) {
  std::vector<Listener> fresh;
  Inherited none{{}, {}};
  Status failed;
  for (const std::string& text : specs) {
    auto a = parse_listen_address(text);
    if (!a.ok()) {
      failed = a.status();
      break;
    }
    const std::string key = a->to_string();
    if (find(key) != nullptr ||
        std::any_of(fresh.begin(), fresh.end(), [&](const Listener& l) { return l.spec == key; })) {
      continue;
    }
    bool adopted = false;
    auto l = open_one(*a, none, backlog, socket_umask, &adopted);
    if (!l.ok()) {
      failed = l.status();
      break;
    }
    fresh.push_back(std::move(*l));
  }
  if (!failed.ok()) {
    for (Listener& l : fresh) close_listener(l, true);
    return failed;
  }
  for (Listener& l : fresh) listeners_.push_back(std::move(l));
  return {};
}

void ListenerSet::close_except(const std::vector<std::string>& keep, bool unlink_unix_files) {
  std::set<std::string> wanted;
  for (const std::string& s : keep) wanted.insert(canonical(s));
  std::vector<Listener> remaining;
  for (Listener& l : listeners_) {
    if (wanted.count(l.spec)) {
      remaining.push_back(std::move(l));
    } else {
      close_listener(l, unlink_unix_files);
    }
  }
  listeners_ = std::move(remaining);
}

std::string ListenerSet::upgrade_env_value() const {
  std::string out;
  for (const Listener& l : listeners_) {
    if (!out.empty()) out += ';';
    out += l.spec + "=" + std::to_string(l.fd());
  }
  return out;
}

void ListenerSet::close_all(bool unlink_unix_files) {
  for (Listener& l : listeners_) close_listener(l, unlink_unix_files);
  listeners_.clear();
}

}  // namespace greenfork::arbiter
