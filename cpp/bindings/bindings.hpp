// The pieces of the vidx._core module; module.cpp calls each register_* once.
#pragma once
#include <pybind11/pybind11.h>

#include <memory>
#include <string>

#include "vidx/index.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx::bindings {

void register_errors(pybind11::module_& m);
void register_index(pybind11::module_& m);
// A structure as a vidx._core.Index, the one Python class of every kind and device (register_index
// must have run).
pybind11::object wrap_index(std::unique_ptr<VectorIndex> index);
// The VectorIndex behind a vidx._core.Index (TypeError for another object or one never initialised).
VectorIndex& index_of(pybind11::handle self);
// remove, upsert, get, __contains__, ids, compact (living_bindings.cpp; after register_index).
void register_living(pybind11::module_& m);
void register_simd(pybind11::module_& m);

// The SIMD level a test hook names ("scalar", "avx2", "avx512"); ValueError when the name is
// unknown or this CPU/build cannot run it. Every kernel family has a table for a runnable level.
simd::Level runnable_level(const std::string& name);
void register_codec(pybind11::module_& m);
void register_spann(pybind11::module_& m);
void register_persistence(pybind11::module_& m);
// os.fork() hooks: index locks are never copied held into a child (fork_gate.hpp).
void register_fork(pybind11::module_& m);

}  // namespace vidx::bindings
