// os.fork() hooks (vidx/__init__.py registers them): see vidx/common/fork_gate.hpp.
#include <pybind11/pybind11.h>

#include <chrono>
#include <cstdint>

#include "bindings.hpp"
#include "gil.hpp"
#include "vidx/common/fork_gate.hpp"

namespace py = pybind11;

namespace vidx {
namespace bindings {

void register_fork(py::module_& m) {
  // A thread that reaches the gate holding the GIL (a quick call that takes the index lock
  // without releasing it) waits without it: the forking thread needs the GIL to open the gate.
  ForkGate::get().set_around_wait([](void (*wait)(void*), void* state) {
    if (PyGILState_Check()) {
      GilReleased released;
      wait(state);
    } else {
      wait(state);
    }
  });
  m.def(
      "_fork_prepare",
      [] {
        // The threads close() waits for may need the GIL (an add's progress report) to finish.
        GilReleased released;
        ForkGate::get().close();
      },
      "os.fork() 'before' hook: waits until no other thread holds an index lock");
  m.def("_fork_parent", [] { ForkGate::get().parent(); }, "os.fork() 'after_in_parent' hook");
  m.def("_fork_child", [] { ForkGate::get().child(); }, "os.fork() 'after_in_child' hook");
  m.def(
      "_set_fork_wait", [](double seconds) { ForkGate::get().set_wait(std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000))); },
      "tests: how long a fork waits for other threads' index calls (default 10 s)");
}

}  // namespace bindings
}  // namespace vidx
