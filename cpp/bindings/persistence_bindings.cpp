// Persistence beyond save/load: index bytes in memory (to_bytes / from_bytes, which pickle and
// copy use). Loading a file mapped is load(..., mmap=True) in index_bindings.cpp. Long calls
// release the GIL.
#include <pybind11/pybind11.h>

#include "bindings.hpp"
#include "gil.hpp"
#include "vidx/common/error.hpp"
#include "vidx/index.hpp"

namespace py = pybind11;

namespace vidx::bindings {
namespace {

// Written straight into the bytes object returned, so the index's bytes are not held twice.
py::bytes index_to_bytes(py::handle index) {
  const VectorIndex& i = index_of(index);
  PyObject* bytes = nullptr;
  try {
    GilReleased no_gil;
    i.to_bytes([&bytes](size_t n) {
      with_gil([&] {
        bytes = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(n));
        if (!bytes) {
          PyErr_Clear();
          throw std::bad_alloc();
        }
      });
      return reinterpret_cast<uint8_t*>(PyBytes_AS_STRING(bytes));
    });
  } catch (...) {
    Py_XDECREF(bytes);  // the GIL is held again here
    throw;
  }
  return py::reinterpret_steal<py::bytes>(bytes);
}

// Any buffer of bytes (bytes, bytearray, memoryview, a uint8 numpy array). Bad bytes are a bad
// argument here, not a bad file: FileFormatError becomes ValueError (truncated, checksum,
// version...), while a SPANN posting file that cannot be opened stays an OSError.
py::object index_from_bytes(py::buffer data) {
  const py::buffer_info info = data.request();
  if (info.ndim != 1 || info.strides[0] != info.itemsize)
    throw py::type_error("from_bytes needs a contiguous 1-d buffer of bytes (bytes, bytearray, memoryview)");
  const size_t size = static_cast<size_t>(info.size) * static_cast<size_t>(info.itemsize);
  std::unique_ptr<VectorIndex> index;
  try {
    GilReleased no_gil;
    index = load_index_from_bytes(info.ptr, size);
  } catch (const FileFormatError& e) {
    throw py::value_error(e.what());
  }
  return wrap_index(std::move(index));
}

}  // namespace

void register_persistence(py::module_& m) {
  m.def("index_to_bytes", &index_to_bytes, py::arg("index"),
        "The index as bytes: the file save() writes (SPANN: without its posting file).");
  m.def("index_from_bytes", &index_from_bytes, py::arg("data"),
        "An index from index_to_bytes() output; ValueError when the bytes are not a valid index.");
  m.def("index_read_only", [](py::handle index) { return index_of(index).read_only(); }, py::arg("index"),
        "Whether the index was loaded with mmap=True (every write raises).");
}

}  // namespace vidx::bindings
