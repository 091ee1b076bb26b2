// Turning Python arguments into what the core expects, with the errors a user should see.
// Arrays that are already float32 and C-contiguous are used in place (no copy): a search
// of one query from Python must cost little beyond the graph walk.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <string>

namespace vidx::bindings {

namespace py = pybind11;

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using IdArray = py::array_t<int64_t, py::array::c_style | py::array::forcecast>;

struct Matrix {
  FloatArray array;  // keeps the data alive
  size_t rows = 0;
  size_t cols = 0;
  const float* data() const { return array.data(); }
};

// A (n, dim) or (dim,) numeric array-like. Raises TypeError for non-numeric data and
// ValueError for the wrong shape, the wrong dimension or no rows. `what` names the argument.
Matrix as_matrix(py::handle obj, size_t expected_dim, const char* what);

// Optional (n,) integer ids.
std::optional<IdArray> as_ids(py::handle obj, size_t rows);

// A positive int (not a bool, not a float) or, if allowed, None -> 0.
size_t as_positive_int(py::handle obj, const char* what, bool none_allowed);

}  // namespace vidx::bindings
