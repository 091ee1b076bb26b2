#include "gil.hpp"

#include <chrono>
#include <thread>

// glibc's pthread_exit unwinds the thread with this exception (libstdc++ names it); elsewhere
// pthread_exit does not unwind, or the C++ library cannot name it.
#if defined(__GLIBCXX__) && defined(__linux__)
#include <cxxabi.h>
#define VIDX_FORCED_UNWIND 1
#else
#define VIDX_FORCED_UNWIND 0
#endif

namespace vidx::bindings {
namespace {

bool interpreter_finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing() != 0;
#else
  return _Py_IsFinalizing() != 0;
#endif
}

// Where CPython ends a thread that asks for the GIL during finalisation: its unwind is caught
// and never finished (finishing a caught forced unwind without rethrowing it aborts too).
[[noreturn]] void sleep_for_good() {
  for (;;) std::this_thread::sleep_for(std::chrono::hours(24));
}

}  // namespace

GilReleased::GilReleased() : state_(PyEval_SaveThread()) {}

GilReleased::~GilReleased() {
  try {
    PyEval_RestoreThread(state_);
  } catch (...) {  // a C function: only pthread_exit's forced unwind comes out of it
    sleep_for_good();
  }
}

void with_gil(const std::function<void()>& fn) {
  if (interpreter_finalizing()) throw InterpreterExiting();
  PyGILState_STATE state;
  try {
    state = PyGILState_Ensure();
  } catch (...) {  // finalisation began while this thread waited: see GilReleased
    sleep_for_good();
  }
  try {
    fn();
  }
#if VIDX_FORCED_UNWIND
  catch (abi::__forced_unwind&) {  // ended inside the callback: no GIL held, nothing runs here again
    sleep_for_good();
  }
#endif
  catch (...) {
    PyGILState_Release(state);
    throw;
  }
  PyGILState_Release(state);
}

}  // namespace vidx::bindings
