// The living index on vidx._core.Index (issue 10): remove, upsert, get, __contains__, ids,
// compact. Every call that takes an index lock releases the GIL first (a writer in another
// thread may hold the lock and want the GIL for a progress report).
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "gil.hpp"
#include "numpy_input.hpp"

namespace vidx::bindings {
namespace {

// A 1-d sequence of ids (or one id) of any length; ids must be integers >= 0.
IdArray as_id_list(py::handle obj) {
  if (obj.is_none()) throw py::type_error("ids must be an array of integers, got None");
  py::array arr = py::module_::import("numpy").attr("asarray")(obj);
  if (arr.ndim() == 0) arr = arr.attr("reshape")(1);
  if (arr.ndim() != 1) throw py::value_error("ids must be a 1-d array");
  if (arr.size() == 0) return IdArray(0);
  return *as_ids(arr, static_cast<size_t>(arr.shape(0)));
}

size_t remove(py::handle self, py::handle ids, bool ignore_missing) {
  VectorIndex& index = index_of(self);
  const IdArray a = as_id_list(ids);
  const int64_t* p = a.data();
  const size_t n = static_cast<size_t>(a.size());
  GilReleased no_gil;
  return index.remove(p, n, ignore_missing);
}

void upsert(py::handle self, py::handle x, py::handle ids) {
  VectorIndex& index = index_of(self);
  if (ids.is_none()) throw py::type_error("upsert needs ids (the ids whose vectors it adds or replaces)");
  const Matrix m = as_matrix(x, index.dim(), "vectors");
  const IdArray a = *as_ids(ids, m.rows);
  GilReleased no_gil;
  index.upsert(m.data(), m.rows, a.data());
}

py::tuple get(py::handle self, py::handle ids) {
  VectorIndex& index = index_of(self);
  const IdArray a = as_id_list(ids);
  const size_t n = static_cast<size_t>(a.size());
  py::array_t<float> out({n, index.dim()});
  float* o = out.mutable_data();
  bool exact;
  {
    GilReleased no_gil;
    exact = index.get(a.data(), n, o);
  }
  return py::make_tuple(std::move(out), exact);
}

bool contains(py::handle self, py::handle id) {
  VectorIndex& index = index_of(self);
  if (PyBool_Check(id.ptr()) || !py::hasattr(id, "__index__"))
    throw py::type_error("ids are integers, got " + py::str(py::type::handle_of(id).attr("__name__")).cast<std::string>());
  const py::int_ value(py::reinterpret_steal<py::object>(PyNumber_Index(id.ptr())));
  int overflow = 0;
  const long long v = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
  if (overflow != 0 || v < 0) return false;  // beyond int64 or negative: never stored
  GilReleased no_gil;
  return index.contains(v);
}

py::array_t<int64_t> ids(py::handle self) {
  VectorIndex& index = index_of(self);
  std::vector<int64_t> all;
  {
    GilReleased no_gil;
    all = index.ids();
  }
  py::array_t<int64_t> out(all.size());
  std::copy(all.begin(), all.end(), out.mutable_data());
  return out;
}

void compact(py::handle self) {
  VectorIndex& index = index_of(self);
  GilReleased no_gil;
  index.compact();
}

// Adds a method to the class register_index made (pybind11's class_::def, from another file).
template <class Fn, class... Extra>
void def(py::object& cls, const char* name, Fn&& fn, const char* doc, Extra&&... extra) {
  cls.attr(name) = py::cpp_function(std::forward<Fn>(fn), py::name(name), py::is_method(cls),
                                    py::sibling(py::getattr(cls, name, py::none())), doc,
                                    std::forward<Extra>(extra)...);
}

}  // namespace

void register_living(py::module_& m) {
  py::object cls = m.attr("Index");
  def(cls, "remove", &remove,
      "Removes the vectors with these ids; returns how many went. An id not in the index raises "
      "ValueError (nothing removed) unless ignore_missing.",
      py::arg("ids"), py::kw_only(), py::arg("ignore_missing") = false);
  def(cls, "upsert", &upsert, "Adds the vectors, replacing those whose ids are present.", py::arg("x"),
      py::arg("ids"));
  def(cls, "get", &get, "(vectors, exact): the stored vectors of ids, float32 (n, dim).", py::arg("ids"));
  def(cls, "__contains__", &contains, "Whether an id is stored.", py::arg("id"));
  def(cls, "ids", &ids, "Every stored id (int64).");
  def(cls, "compact", &compact, "Gives back the memory of removed rows.");
}

}  // namespace vidx::bindings
