// The pieces of the vidx._core module; module.cpp calls each register_* once.
#pragma once
#include <pybind11/pybind11.h>

namespace vidx::bindings {

void register_errors(pybind11::module_& m);
void register_index(pybind11::module_& m);
void register_simd(pybind11::module_& m);
void register_codec(pybind11::module_& m);
void register_spann(pybind11::module_& m);

}  // namespace vidx::bindings
