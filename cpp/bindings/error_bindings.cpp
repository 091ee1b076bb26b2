// C++ errors become the Python exceptions a user expects (see common/error.hpp).
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "vidx/common/error.hpp"

namespace vidx::bindings {

void register_errors(pybind11::module_& m) {
  pybind11::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const FileNotFound& e) {
      PyErr_SetString(PyExc_FileNotFoundError, e.what());
    } catch (const IoError& e) {  // FileFormatError included
      PyErr_SetString(PyExc_OSError, e.what());
    } catch (const InvalidArgument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const TypeMismatch& e) {
      PyErr_SetString(PyExc_TypeError, e.what());
    }
  });
}

}  // namespace vidx::bindings
