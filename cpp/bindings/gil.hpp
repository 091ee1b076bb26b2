// The GIL released around a long call and taken back, in a way that survives interpreter exit.
//
// Why not pybind11's gil_scoped_release / gil_scoped_acquire: a daemon thread that asks for the
// GIL after Python's finalisation has begun is ended by CPython (before 3.14) with pthread_exit.
// On glibc that unwinds the thread's stack, the unwind meets the noexcept destructor of
// gil_scoped_release, and the whole process aborts ("terminate called without an active
// exception", exit status 134): any script that ended with a daemon thread searching crashed.
//
// Here the unwind is caught where the GIL was asked for, and the thread sleeps for good instead:
// what CPython 3.14 does itself with such threads. The interpreter is finalising, so nothing will
// ever run on the thread again, and the process then ends normally. Nothing changes before
// finalisation (atexit handlers may still wait for daemon threads that return from vidx calls).
#pragma once
#include <pybind11/pybind11.h>

#include <exception>
#include <functional>

namespace vidx::bindings {

// PyEval_SaveThread on construction, PyEval_RestoreThread on destruction.
class GilReleased {
 public:
  GilReleased();
  ~GilReleased();
  GilReleased(const GilReleased&) = delete;
  GilReleased& operator=(const GilReleased&) = delete;

 private:
  PyThreadState* state_;
};

// Thrown by with_gil once the interpreter is finalising.
struct InterpreterExiting : std::exception {
  const char* what() const noexcept override { return "the Python interpreter is exiting"; }
};

// Runs `fn` with the GIL taken (PyGILState_Ensure, any thread): a callback from inside a C++ call.
// Once the interpreter is finalising it throws InterpreterExiting instead: the call may hold
// index locks, so it unwinds (an add is undone) and its binding's GilReleased then ends the
// thread's work with nothing held. A thread that CPython ends inside `fn` (finalisation began
// while the callback's Python code had let the GIL go) sleeps for good there.
void with_gil(const std::function<void()>& fn);

}  // namespace vidx::bindings
