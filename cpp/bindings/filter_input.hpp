// search(filter=...) and range_search(filter=...): a Python filter turned into the core's
// IdFilters, read in place where the numpy array allows it.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <vector>

#include "vidx/index.hpp"

namespace vidx::bindings {

namespace py = pybind11;

// The IdFilters of one call and the arrays they point into (kept alive for the call).
class FilterInput {
 public:
  // filter: None; a 1-d integer array-like of allowed ids; a vidx.IdSet; a 1-d boolean numpy
  // array indexed by id (mask[id] True: allowed; ids past its end are not); or a list of nq of
  // those (None entries: that query is unfiltered). TypeError for the wrong dtype, ValueError for the
  // wrong shape, a list of the wrong length, negative ids.
  FilterInput(py::handle filter, size_t nq);
  // Points params at the filters (params must not outlive this object).
  void apply(SearchParams& params) const {
    params.filters = filters_.empty() ? nullptr : filters_.data();
    params.filter_count = filters_.size();
  }

 private:
  IdFilter convert(py::handle one, const std::string& what);
  // A vidx.IdSet, read in place with no pass over its ids.
  IdFilter prepared(py::handle id_set);

  std::vector<py::object> keep_alive_;
  std::vector<IdFilter> filters_;
};

}  // namespace vidx::bindings
