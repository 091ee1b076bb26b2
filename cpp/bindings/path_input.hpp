// Every path argument of the bindings passes through checked_path: a NUL byte would cut the
// name the operating system sees ("out/a\0.b" would write "out/a"), so it is refused.
#pragma once
#include <pybind11/pybind11.h>

#include <string>

#include "vidx/common/error.hpp"

namespace vidx::bindings {

// Returns `path` unchanged; ValueError naming the argument if it is empty or holds a NUL byte
// (vidx::require_path's InvalidArgument, which the bindings raise as ValueError).
inline const std::string& checked_path(const std::string& path, const char* what = "path") {
  require_path(path, what);
  return path;
}

// A path argument (str, bytes or os.PathLike) as the file system's bytes (os.fsencode): any name
// os.listdir gives, UTF-8 or not.
inline std::string file_system_path(pybind11::handle path) {
  return pybind11::bytes(pybind11::module_::import("os").attr("fsencode")(path));
}

// A file name as Python gives them (os.fsdecode): bytes that are not UTF-8 come back as the str
// that names the same file, not as a UnicodeDecodeError.
inline pybind11::object file_name_object(const std::string& name) {
  return pybind11::module_::import("os").attr("fsdecode")(pybind11::bytes(name));
}

}  // namespace vidx::bindings
