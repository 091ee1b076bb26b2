#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "cuda_bindings.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "vidx C++ core";
  vidx::bindings::register_errors(m);
  vidx::bindings::register_simd(m);
  vidx::bindings::register_codec(m);
  vidx::bindings::register_index(m);
  vidx::bindings::register_living(m);
  vidx::bindings::register_spann(m);
  vidx::bindings::register_persistence(m);
  vidx::bindings::register_fork(m);
  register_cuda(m);
}
