// C++ errors become the Python exceptions a user expects (see common/error.hpp).
#include <pybind11/pybind11.h>

#include <cstring>

#include "bindings.hpp"
#include "vidx/common/error.hpp"

namespace vidx::bindings {
namespace {

// Messages name files, and a file name need not be UTF-8: its bytes come back as os.fsdecode
// gives them (surrogate escapes) instead of the message turning into a UnicodeDecodeError.
void set_error(PyObject* type, const char* message) {
  PyObject* text = PyUnicode_DecodeUTF8(message, static_cast<Py_ssize_t>(std::strlen(message)), "surrogateescape");
  if (!text) return;  // the decode's own error stands
  PyErr_SetObject(type, text);
  Py_DECREF(text);
}

}  // namespace

void register_errors(pybind11::module_& m) {
  pybind11::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const FileNotFound& e) {
      set_error(PyExc_FileNotFoundError, e.what());
    } catch (const IoError& e) {  // FileFormatError included
      set_error(PyExc_OSError, e.what());
    } catch (const InvalidArgument& e) {
      set_error(PyExc_ValueError, e.what());
    } catch (const TypeMismatch& e) {
      set_error(PyExc_TypeError, e.what());
    }
  });
}

}  // namespace vidx::bindings
