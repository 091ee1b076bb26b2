#include "filter_input.hpp"

#include <limits>
#include <string>

namespace vidx::bindings {
namespace {

const int64_t kNoIds[1] = {0};  // where an empty allow-list points: non-null, so "allow nothing"

std::string dtype_name(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

// vidx.IdSet: ids already checked, sorted and deduplicated in Python, maybe with a bitset.
bool is_id_set(py::handle obj) {
  static py::object* id_set = new py::object(py::module_::import("vidx._id_set").attr("IdSet"));
  return py::isinstance(obj, *id_set);
}

// A list or tuple whose entries are themselves filters (arrays, lists, None): one per query.
// A list of plain ints is an allow-list.
bool is_per_query_list(py::handle obj) {
  if (!py::isinstance<py::list>(obj) && !py::isinstance<py::tuple>(obj)) return false;
  for (py::handle item : obj)
    if (item.is_none() || py::isinstance<py::array>(item) || py::isinstance<py::list>(item) ||
        py::isinstance<py::tuple>(item) || is_id_set(item))
      return true;
  return false;
}

}  // namespace

FilterInput::FilterInput(py::handle filter, size_t nq) {
  if (filter.is_none()) return;
  if (!is_per_query_list(filter)) {
    filters_.push_back(convert(filter, "filter"));
    return;
  }
  const size_t count = py::len(filter);
  if (count != nq)
    throw py::value_error("filter is a list of " + std::to_string(count) + " filters for " + std::to_string(nq) +
                          " queries: pass one per query, or one array for all");
  filters_.reserve(count);
  size_t q = 0;
  for (py::handle item : filter) {
    filters_.push_back(item.is_none() ? IdFilter{} : convert(item, "filter[" + std::to_string(q) + "]"));
    ++q;
  }
}

IdFilter FilterInput::convert(py::handle one, const std::string& what) {
  static py::object* asarray = new py::object(py::module_::import("numpy").attr("asarray"));
  if (is_id_set(one)) return prepared(one);
  py::array arr = py::isinstance<py::array>(one) ? py::reinterpret_borrow<py::array>(one) : (*asarray)(one);
  const char kind = arr.dtype().kind();
  if (arr.ndim() == 0 && (kind == 'O' || kind == 'U' || kind == 'S'))  // a set, a string, a function...
    throw py::type_error(what + " must be an array of allowed ids, a boolean mask indexed by id, a vidx.IdSet or a "
                         "list of those (one per query), got " + py::str(py::type::handle_of(one).attr("__name__")).cast<std::string>());
  if (arr.ndim() != 1)
    throw py::value_error(what + " must be 1-d (allowed ids, or a boolean mask indexed by id), got " +
                          std::to_string(arr.ndim()) + " dimensions; for one filter per query pass a list");
  IdFilter f;
  if (arr.size() == 0) {  // allows nothing, whatever its dtype (np.asarray([]) is float64)
    f.allowed = kNoIds;
    return f;
  }
  if (kind == 'b') {
    auto mask = py::array_t<bool, py::array::c_style | py::array::forcecast>::ensure(arr);
    if (!mask) throw py::error_already_set();
    static_assert(sizeof(bool) == 1, "a numpy bool mask is read as bytes");
    f.mask = reinterpret_cast<const uint8_t*>(mask.data());
    f.mask_size = static_cast<size_t>(mask.size());
    keep_alive_.push_back(std::move(mask));
    return f;
  }
  if (kind != 'i' && kind != 'u')
    throw py::type_error(what + " must hold integer ids or booleans (a mask), got dtype " + dtype_name(arr));
  if (kind == 'u' && arr.itemsize() == 8) {
    auto u = py::array_t<uint64_t, py::array::c_style | py::array::forcecast>::ensure(arr);
    for (py::ssize_t i = 0; i < u.size(); ++i)
      if (u.data()[i] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        throw py::value_error(what + ": id " + std::to_string(u.data()[i]) + " does not fit in int64");
  }
  auto ids = py::array_t<int64_t, py::array::c_style | py::array::forcecast>::ensure(arr);
  if (!ids) throw py::error_already_set();
  // Negative ids are refused by the core (ValueError), in the one pass it makes over the list.
  f.allowed = ids.data();
  f.allowed_count = static_cast<size_t>(ids.size());
  keep_alive_.push_back(std::move(ids));
  return f;
}

IdFilter FilterInput::prepared(py::handle id_set) {
  // IdSet made these: int64 ids strictly increasing and >= 0, the bitset's words uint64.
  IdFilter f;
  auto ids = py::reinterpret_borrow<py::array>(id_set.attr("_ids"));
  f.allowed = ids.size() ? static_cast<const int64_t*>(ids.data()) : kNoIds;
  f.allowed_count = static_cast<size_t>(ids.size());
  f.allowed_sorted = true;
  keep_alive_.push_back(ids);
  py::object bits = id_set.attr("_bits");
  if (!bits.is_none()) {
    auto words = py::reinterpret_borrow<py::array>(bits);
    f.allowed_bits = static_cast<const uint64_t*>(words.data());
    f.allowed_bits_size = id_set.attr("_bits_size").cast<size_t>();
    keep_alive_.push_back(words);
  }
  return f;
}

}  // namespace vidx::bindings
