// SPANN is an ordinary vidx._core.Index (index_bindings.cpp); this adds what Python asks of
// the kind before an index exists.
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "vidx/spann/spann_index.hpp"

namespace vidx::bindings {

void register_spann(pybind11::module_& m) {
  m.def("spann_auto_head_ratio", &spann::auto_head_ratio, pybind11::arg("dim"), pybind11::arg("M") = 16,
        "The head ratio a SPANN index uses when head_ratio is not given.");
}

}  // namespace vidx::bindings
