#include "greenfork/wsgi/py.hpp"

#include "greenfork/wsgi/reloader.hpp"

#include <sys/stat.h>

#include "greenfork/wsgi/helper_module.hpp"

namespace greenfork::wsgi {
namespace {

int64_t mtime_ns(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

}  // namespace

Reloader::Reloader(worker::WorkerHost& host, std::vector<std::string> extra_files,
                   std::chrono::milliseconds interval)
    : host_(host), extra_files_(std::move(extra_files)), interval_(interval) {}

Reloader::~Reloader() { stop(); }

void Reloader::start() {
  // The baseline is taken now, so an edit right after start is seen.
  PyGILState_STATE g = PyGILState_Ensure();
  std::vector<std::string> files = watched_files();
  PyGILState_Release(g);
  scan(files);
  thread_ = std::thread([this] { run(); });
}

void Reloader::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<std::string> Reloader::watched_files() {
  std::vector<std::string> files = extra_files_;
  for (const std::string& pattern : patterns_) {
    PyRef glob(PyImport_ImportModule("glob"));
    PyRef fn(glob ? PyObject_GetAttrString(glob.get(), "glob") : nullptr);
    PyRef args(Py_BuildValue("(s)", pattern.c_str()));
    PyRef kwargs(Py_BuildValue("{s:O}", "recursive", Py_True));
    PyRef found(fn && args && kwargs ? PyObject_Call(fn.get(), args.get(), kwargs.get()) : nullptr);
    if (!found || !PyList_Check(found.get())) {
      PyErr_Clear();
      continue;
    }
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(found.get()); ++i) {
      const char* s = PyUnicode_AsUTF8(PyList_GET_ITEM(found.get(), i));
      if (s) {
        files.emplace_back(s);
      } else {
        PyErr_Clear();
      }
    }
  }
  PyObject* helper = helper_module();
  PyRef list(helper ? PyObject_CallMethod(helper, "module_files", nullptr) : nullptr);
  if (!list || !PyList_Check(list.get())) {
    PyErr_Clear();
    return files;
  }
  for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list.get()); ++i) {
    const char* s = PyUnicode_AsUTF8(PyList_GET_ITEM(list.get(), i));
    if (s) {
      files.emplace_back(s);
    } else {
      PyErr_Clear();
    }
  }
  return files;
}

std::string Reloader::scan(const std::vector<std::string>& files) {
  std::string changed;
  for (const std::string& f : files) {
    const int64_t m = mtime_ns(f);
    auto [it, inserted] = mtimes_.emplace(f, m);
    if (!inserted && it->second != m && changed.empty()) changed = f;
  }
  return changed;
}

void Reloader::run() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, interval_, [this] { return stopping_; })) return;
    }
    PyGILState_STATE g = PyGILState_Ensure();
    std::vector<std::string> files = watched_files();
    PyGILState_Release(g);
    std::string changed = scan(files);
    if (!changed.empty()) {
      host_.request_restart(changed + " changed, reloading");
      return;
    }
  }
}

}  // namespace greenfork::wsgi
