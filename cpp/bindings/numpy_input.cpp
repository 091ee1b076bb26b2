#include "numpy_input.hpp"

#include <limits>
#include <string>

#include "vidx/common/error.hpp"

namespace vidx::bindings {
namespace {

py::array to_ndarray(py::handle obj) {
  if (py::isinstance<py::array>(obj)) return py::reinterpret_borrow<py::array>(obj);
  // Leaked on purpose: a static py::object would be released after the interpreter is gone.
  static py::object* asarray = new py::object(py::module_::import("numpy").attr("asarray"));
  return (*asarray)(obj);
}

bool is_numeric_kind(char kind) { return kind == 'f' || kind == 'i' || kind == 'u'; }

// Finite values of a float64 (or wider) array beyond float32's range: numpy's cast would make
// them infinite, with a RuntimeWarning, and add() would then call them "NaN or infinite".
// Costs a pass over such arrays only (float32 input is read in place).
void refuse_beyond_float32(const py::array& arr, size_t cols, const char* what) {
  if (arr.dtype().kind() != 'f' || arr.itemsize() <= 4) return;
  static py::object* np = new py::object(py::module_::import("numpy"));  // leaked: see to_ndarray
  const py::object magnitude = np->attr("abs")(arr);
  const double largest = py::float_(np->attr("max")(magnitude));
  if (largest <= std::numeric_limits<float>::max()) return;  // false for NaN: looked at below
  const py::object beyond = np->attr("logical_and")(np->attr("isfinite")(arr),
                                                    np->attr("greater")(magnitude, std::numeric_limits<float>::max()))
                                .attr("ravel")();
  if (!py::bool_(np->attr("any")(beyond))) return;  // NaN or inf only: check_vectors names them
  const size_t at = py::int_(np->attr("argmax")(beyond));
  const double value = py::float_(arr.attr("ravel")().attr("__getitem__")(at));
  const std::string row = std::string(what) == "queries" ? "query" : "vector";
  throw py::value_error(row + " row " + std::to_string(at / cols) + " column " + std::to_string(at % cols) + " is " +
                        value_text(value) + ": beyond float32's range (+-3.4e38), in which vidx stores and "
                        "compares vectors");
}

}  // namespace

Matrix as_matrix(py::handle obj, size_t expected_dim, const char* what) {
  if (obj.is_none()) throw py::type_error(std::string(what) + " must be an array of vectors, got None");
  py::array arr = to_ndarray(obj);
  const char kind = arr.dtype().kind();
  if (!is_numeric_kind(kind))
    throw py::type_error(std::string(what) + " must hold real numbers, got dtype " +
                         py::str(arr.dtype()).cast<std::string>());
  Matrix m;
  if (arr.ndim() == 1) {
    m.rows = 1;
    m.cols = static_cast<size_t>(arr.shape(0));
  } else if (arr.ndim() == 2) {
    m.rows = static_cast<size_t>(arr.shape(0));
    m.cols = static_cast<size_t>(arr.shape(1));
  } else {
    throw py::value_error(std::string(what) + " must be a 1-d vector or a 2-d array of vectors, got " +
                          std::to_string(arr.ndim()) + " dimensions");
  }
  if (m.rows == 0 || (arr.ndim() == 1 && m.cols == 0)) throw py::value_error(std::string(what) + " is empty");
  if (m.cols != expected_dim)
    throw py::value_error(std::string(what) + " has dimension " + std::to_string(m.cols) + ", the index has " +
                          std::to_string(expected_dim));
  refuse_beyond_float32(arr, m.cols, what);
  m.array = FloatArray::ensure(arr);
  if (!m.array) throw py::error_already_set();
  return m;
}

std::optional<IdArray> as_ids(py::handle obj, size_t rows) {
  if (obj.is_none()) return std::nullopt;
  py::array arr = to_ndarray(obj);
  const char kind = arr.dtype().kind();
  if (kind != 'i' && kind != 'u') {
    // numpy turns a list of Python ints that do not all fit in int64 into floats or objects:
    // name the id that does not fit, not the dtype numpy chose.
    if (py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj))
      for (py::handle v : obj)
        if (PyLong_Check(v.ptr()) && !PyBool_Check(v.ptr()) &&
            (v > py::int_(std::numeric_limits<int64_t>::max()) || v < py::int_(0)))
          throw py::value_error("id " + py::str(v).cast<std::string>() + " does not fit: ids must be >= 0 and below 2**63");
    throw py::type_error("ids must be integers, got dtype " + py::str(arr.dtype()).cast<std::string>());
  }
  // One id for one vector (add(x, ids=7) beside remove(7) and get(7)): read as [7].
  if (arr.ndim() == 0 && rows == 1 && !PyBool_Check(obj.ptr())) arr = arr.attr("reshape")(1);
  if (arr.ndim() != 1)
    throw py::value_error(arr.ndim() == 0 ? "ids must be a 1-d array (a single id only for a single vector), got one id for " +
                                                std::to_string(rows) + " vectors"
                                          : std::string("ids must be a 1-d array"));
  if (static_cast<size_t>(arr.shape(0)) != rows)
    throw py::value_error("got " + std::to_string(arr.shape(0)) + " ids for " + std::to_string(rows) + " vectors");
  if (kind == 'u' && arr.itemsize() == 8) {
    auto u = py::array_t<uint64_t, py::array::c_style | py::array::forcecast>::ensure(arr);
    for (size_t i = 0; i < rows; ++i)
      if (u.data()[i] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        throw py::value_error("id " + std::to_string(u.data()[i]) + " does not fit in int64");
  }
  IdArray ids = IdArray::ensure(arr);
  if (!ids) throw py::error_already_set();
  // -1 marks "no result" in search outputs: no kind (hnsw, flat, spann, cuda) may store it.
  for (size_t i = 0; i < rows; ++i)
    if (ids.data()[i] < 0)
      throw py::value_error("ids must be >= 0, got " + std::to_string(ids.data()[i]) + " (row " + std::to_string(i) + ")");
  return ids;
}

size_t as_positive_int(py::handle obj, const char* what, bool none_allowed) {
  if (obj.is_none()) {
    if (none_allowed) return 0;
    throw py::type_error(std::string(what) + " must be an int, got None");
  }
  if (PyBool_Check(obj.ptr()) || !PyLong_Check(obj.ptr())) {
    // numpy integers are fine too
    if (!py::hasattr(obj, "__index__") || PyBool_Check(obj.ptr()) || PyFloat_Check(obj.ptr()))
      throw py::type_error(std::string(what) + " must be an int, got " +
                           py::str(py::type::handle_of(obj).attr("__name__")).cast<std::string>());
  }
  PyObject* as_int = PyNumber_Index(obj.ptr());
  if (!as_int) throw py::error_already_set();
  const long long v = PyLong_AsLongLong(as_int);
  Py_DECREF(as_int);
  if (v == -1 && PyErr_Occurred()) {
    PyErr_Clear();  // beyond int64: a value error like any other out-of-range count
    throw py::value_error(std::string(what) + " is too large");
  }
  if (v <= 0) throw py::value_error(std::string(what) + " must be at least 1, got " + std::to_string(v));
  return static_cast<size_t>(v);
}

}  // namespace vidx::bindings
