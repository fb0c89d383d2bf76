// The small toolbox every file that touches CPython uses: an owning
// reference, and scopes that hold or release the GIL on the calling
// thread's own PyThreadState.
//
// Include this first: Python.h must come before the standard headers.
#pragma once

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <utility>

namespace greenfork::wsgi {

// An owned (strong) reference; must be destroyed with the GIL held.
class PyRef {
 public:
  PyRef() = default;
  explicit PyRef(PyObject* steal) : o_(steal) {}
  static PyRef borrow(PyObject* o) {
    Py_XINCREF(o);
    return PyRef(o);
  }
  PyRef(const PyRef&) = delete;
  PyRef& operator=(const PyRef&) = delete;
  PyRef(PyRef&& other) noexcept : o_(std::exchange(other.o_, nullptr)) {}
  PyRef& operator=(PyRef&& other) noexcept {
    if (this != &other) {
      Py_XDECREF(o_);
      o_ = std::exchange(other.o_, nullptr);
    }
    return *this;
  }
  ~PyRef() { Py_XDECREF(o_); }

  PyObject* get() const { return o_; }
  PyObject* release() { return std::exchange(o_, nullptr); }
  explicit operator bool() const { return o_ != nullptr; }

 private:
  PyObject* o_ = nullptr;
};

// Takes the GIL with `tstate` (this thread's own) for a scope.
class GilHold {
 public:
  explicit GilHold(PyThreadState* tstate) { PyEval_RestoreThread(tstate); }
  ~GilHold() { PyEval_SaveThread(); }
  GilHold(const GilHold&) = delete;
  GilHold& operator=(const GilHold&) = delete;
};

// Gives the GIL up for a scope (blocking I/O), taking it back at the end,
// also when the I/O throws.
class GilRelease {
 public:
  GilRelease() : tstate_(PyEval_SaveThread()) {}
  ~GilRelease() { PyEval_RestoreThread(tstate_); }
  GilRelease(const GilRelease&) = delete;
  GilRelease& operator=(const GilRelease&) = delete;

 private:
  PyThreadState* tstate_;
};

// PyMethodDef wants a PyCFunction whatever the real signature is.
template <typename F>
PyCFunction as_method(F* f) {
  return reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(f));
}

}  // namespace greenfork::wsgi
