// IndexOptions <-> Python keyword arguments, through the one list in vidx/options.hpp.
#pragma once
#include <pybind11/pybind11.h>

#include <string>

#include "vidx/options.hpp"

namespace vidx::bindings {

// The options given as keywords for an index of `kind`: TypeError for an unknown name or a
// value of the wrong type, ValueError for an option of another kind; limits are checked by
// the index itself (validate_options).
IndexOptions options_from_kwargs(const std::string& kind, const pybind11::dict& kwargs);

// The options that apply to `kind`, as a dict (head_ratio 0 reads None: automatic).
pybind11::dict options_to_dict(const std::string& kind, const IndexOptions& options);

}  // namespace vidx::bindings
