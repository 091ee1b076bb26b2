// vidx._core.Index: the Python face of vidx::VectorIndex, every kind. Every long call releases
// the GIL; no C++ lock is held while the GIL is taken (progress callbacks run between blocks,
// with no index lock held).
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <type_traits>
#include <vector>

#include "bindings.hpp"
#include "gil.hpp"
#include "filter_input.hpp"
#include "initialised_self.hpp"
#include "numpy_input.hpp"
#include "options_bindings.hpp"
#include "path_input.hpp"
#include "vidx/common/fork_gate.hpp"
#include "vidx/common/search_limits.hpp"
#include "vidx/index.hpp"
#include "vidx/spann/spann_index.hpp"

namespace vidx::bindings {
namespace {

// A Python progress callback (or none: then only Ctrl-C is checked), called at most ten
// times a second and at the end of each phase, with the GIL taken only for the call.
ProgressFn wrap_progress(py::object progress) {
  if (!progress.is_none() && !PyCallable_Check(progress.ptr()))
    throw py::type_error("progress must be None or a callable(phase, done, total)");
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();
  return [progress, last](const std::string& phase, size_t done, size_t total) {
    const auto now = std::chrono::steady_clock::now();
    if (done < total && now - *last < std::chrono::milliseconds(100)) return;
    // While os.fork() waits for this call to end, other fork hooks may hold locks a callback
    // takes (logging's): the report is skipped rather than keep the call, and the fork, waiting.
    if (ForkGate::get().closing()) return;
    *last = now;
    with_gil([&] {
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      if (!progress.is_none()) progress(phase, done, total);
    });
  };
}

// The rows of a 2-d numpy array read in place (any supported dtype, contiguous rows);
// nullopt when the array must be converted first.
std::optional<io::ElementType> element_type_of(const py::array& a) {
  const char kind = a.dtype().kind();
  const auto size = a.itemsize();
  if (a.dtype().byteorder() == '>') return std::nullopt;
  if (kind == 'f' && size == 4) return io::ElementType::Float32;
  if (kind == 'f' && size == 8) return io::ElementType::Float64;
  if (kind == 'f' && size == 2) return io::ElementType::Float16;
  if (kind == 'u' && size == 1) return io::ElementType::UInt8;
  if (kind == 'i' && size == 1) return io::ElementType::Int8;
  return std::nullopt;
}

bool rows_in_place(const py::array& a, size_t dim) {
  return a.ndim() == 2 && static_cast<size_t>(a.shape(1)) == dim && a.shape(0) > 0 && element_type_of(a) &&
         a.strides(1) == a.itemsize() && a.strides(0) >= static_cast<ssize_t>(dim * a.itemsize());
}

// A real number: a Python or numpy scalar (a 0-d array too), not a bool, a string or an array
// of one element (whose float() numpy deprecates). TypeError naming `what` otherwise.
double as_real(py::handle obj, const char* what) {
  const bool array = py::isinstance<py::array>(obj) && py::reinterpret_borrow<py::array>(obj).ndim() != 0;
  if (array || PyBool_Check(obj.ptr()) || py::isinstance<py::str>(obj) ||
      !(PyFloat_Check(obj.ptr()) || PyLong_Check(obj.ptr()) || py::hasattr(obj, "__float__")))
    throw py::type_error(std::string(what) + " must be a number");
  const double value = PyFloat_AsDouble(obj.ptr());
  if (value == -1.0 && PyErr_Occurred()) {
    PyErr_Clear();
    throw py::type_error(std::string(what) + " must be a number");
  }
  return value;
}

double as_eps(py::handle obj) {
  if (obj.is_none()) return -1;
  const double eps = as_real(obj, "eps");
  if (!(eps >= 0)) throw py::value_error("eps must be >= 0 (inf turns pruning off)");
  return eps;
}

class PyIndex {
 public:
  explicit PyIndex(std::unique_ptr<VectorIndex> index) : index_(std::move(index)) {}

  // x: an array-like, a numpy array or memmap (read in place, streamed), or a path to an
  // .fvecs/.bvecs/.npy file (read by C++). release_pages: drop a shared memmap's pages as read.
  void add(py::handle x, py::handle ids, py::object progress, bool release_pages) {
    const ProgressFn fn = wrap_progress(progress);
    if (py::isinstance<py::str>(x) || py::hasattr(x, "__fspath__")) {
      const std::string path = file_system_path(x);  // bytes, so a name that is not UTF-8 opens too
      checked_path(path);
      std::unique_ptr<io::VectorSource> src;
      {
        GilReleased no_gil;
        src = io::open_vector_file(path, index_->dim());
      }
      return add_source(*src, ids, fn);
    }
    if (!index_->builds_once()) {  // in memory anyway: one conversion, one atomic add
      const Matrix m = as_matrix(x, index_->dim(), "vectors");
      const auto id_array = as_ids(ids, m.rows);
      const int64_t* id_ptr = id_array ? id_array->data() : nullptr;
      GilReleased no_gil;
      return index_->add(m.data(), m.rows, id_ptr, fn);
    }
    if (py::isinstance<py::array>(x) && rows_in_place(py::reinterpret_borrow<py::array>(x), index_->dim())) {
      const auto a = py::reinterpret_borrow<py::array>(x);
      io::MemorySource src(a.data(), static_cast<size_t>(a.shape(0)), index_->dim(), static_cast<size_t>(a.strides(0)),
                           0, *element_type_of(a), release_pages);
      return add_source(src, ids, fn);
    }
    const Matrix m = as_matrix(x, index_->dim(), "vectors");
    io::MemorySource src(m.data(), m.rows, m.cols, m.cols * sizeof(float), 0, io::ElementType::Float32, false);
    add_source(src, ids, fn);
  }

  // Rows of a file at a byte offset (a contiguous HDF5 dataset): read by C++ with pread.
  void add_region(py::handle path_obj, uint64_t offset, size_t rows, size_t row_stride, const std::string& dtype,
                  py::handle ids, py::object progress) {
    const std::string path = file_system_path(path_obj);
    checked_path(path);
    if (rows == 0) throw InvalidArgument(path + " holds no vectors");  // translated with the name's bytes kept
    io::FileSource src(path, offset, rows, index_->dim(), row_stride, 0, io::parse_element_type(dtype));
    add_source(src, ids, wrap_progress(progress));
  }

  py::tuple search(py::handle q, py::handle k_obj, py::handle ef, py::handle rerank, py::handle nprobe,
                   py::handle eps, py::handle filter) const {
    return search_into<float>(q, k_obj, ef, rerank, nprobe, eps, filter);
  }
  // search() with float64 distances, as exactly as the index compared them (VectorIndex::search's
  // `precise`): what the sharded index merges its shards' answers by.
  py::tuple search_precise(py::handle q, py::handle k_obj, py::handle ef, py::handle rerank, py::handle nprobe,
                           py::handle eps, py::handle filter) const {
    return search_into<double>(q, k_obj, ef, rerank, nprobe, eps, filter);
  }
  template <typename Distance>
  py::tuple search_into(py::handle q, py::handle k_obj, py::handle ef, py::handle rerank, py::handle nprobe,
                        py::handle eps, py::handle filter) const {
    const size_t k = as_positive_int(k_obj, "k", false);
    SearchParams params;
    params.ef = as_positive_int(ef, "ef", true);
    params.rerank = as_positive_int(rerank, "rerank", true);
    params.nprobe = as_positive_int(nprobe, "nprobe", true);
    params.eps = as_eps(eps);
    const Matrix m = as_matrix(q, index_->dim(), "queries");
    const FilterInput filters(filter, m.rows);
    filters.apply(params);
    size_t stored;
    {
      GilReleased no_gil;  // size() takes the index lock (see unlocked())
      stored = index_->size();
    }
    check_k(k, stored);  // before the (q, k) outputs are allocated
    py::array_t<Distance> distances({m.rows, k});
    py::array_t<int64_t> ids({m.rows, k});
    Distance* d = distances.mutable_data();
    int64_t* i = ids.mutable_data();
    if constexpr (std::is_same_v<Distance, float>) {
      GilReleased no_gil;
      index_->search(m.data(), m.rows, k, params, d, i);
    } else {
      GilReleased no_gil;
      std::vector<float> rounded(m.rows * k);
      index_->search(m.data(), m.rows, k, params, rounded.data(), i, d);
    }
    return py::make_tuple(std::move(distances), std::move(ids));
  }

  // (lims, D, I): the results of query i are D[lims[i]:lims[i+1]], I[same], nearest first.
  py::tuple range_search(py::handle q, py::handle radius_obj, py::handle ef, py::handle filter) const {
    return range_search_into(q, radius_obj, ef, filter, false);
  }
  // range_search() with float64 distances (VectorIndex::range_search's `precise`): what the sharded
  // index orders its shards' results by.
  py::tuple range_search_precise(py::handle q, py::handle radius_obj, py::handle ef, py::handle filter) const {
    return range_search_into(q, radius_obj, ef, filter, true);
  }
  py::tuple range_search_into(py::handle q, py::handle radius_obj, py::handle ef, py::handle filter,
                              bool precise) const {
    const float radius = static_cast<float>(as_real(radius_obj, "radius"));
    if (std::isnan(radius)) throw py::value_error("radius must be a number, got nan");
    SearchParams params;
    params.ef = as_positive_int(ef, "ef", true);
    const Matrix m = as_matrix(q, index_->dim(), "queries");
    const FilterInput filters(filter, m.rows);
    filters.apply(params);
    RangeResult result;
    {
      GilReleased no_gil;
      index_->range_search(m.data(), m.rows, radius, params, result, precise);
    }
    py::array_t<int64_t> lims(result.lims.size());
    std::copy(result.lims.begin(), result.lims.end(), lims.mutable_data());
    py::array_t<int64_t> ids(result.ids.size());
    std::copy(result.ids.begin(), result.ids.end(), ids.mutable_data());
    if (precise) {
      py::array_t<double> distances(result.precise.size());
      std::copy(result.precise.begin(), result.precise.end(), distances.mutable_data());
      return py::make_tuple(std::move(lims), std::move(distances), std::move(ids));
    }
    py::array_t<float> distances(result.distances.size());
    std::copy(result.distances.begin(), result.distances.end(), distances.mutable_data());
    return py::make_tuple(std::move(lims), std::move(distances), std::move(ids));
  }

  void save(const std::string& path) const {
    checked_path(path);
    GilReleased no_gil;
    index_->save(path);
  }

  // Calls that take the index lock release the GIL first: a build or add in another thread
  // may hold the lock and want the GIL for a progress report.
  template <class Fn>
  auto unlocked(Fn&& fn) const {
    GilReleased no_gil;
    return fn(*index_);
  }

  VectorIndex& index() const { return *index_; }
  const spann::SpannIndex* spann() const { return dynamic_cast<const spann::SpannIndex*>(index_.get()); }

  // SPANN's rebuild(); path None: the index chooses (spann_index.hpp). Returns the new path.
  py::object rebuild(py::object path, py::object progress) {
    auto* sp = dynamic_cast<spann::SpannIndex*>(index_.get());
    if (!sp) throw py::value_error("rebuild() applies to kind='spann' (this index is '" + index_->kind() + "')");
    std::string target;
    if (!path.is_none()) {
      target = file_system_path(path);
      checked_path(target);
    }
    const ProgressFn fn = wrap_progress(progress);
    std::string made;
    {
      GilReleased no_gil;
      made = sp->rebuild(target, fn);
    }
    return file_name_object(made);
  }

 private:
  void add_source(io::VectorSource& src, py::handle ids, const ProgressFn& fn) {
    const auto id_array = as_ids(ids, src.rows());
    const int64_t* id_ptr = id_array ? id_array->data() : nullptr;
    GilReleased no_gil;
    index_->add(src, id_ptr, fn);
  }

  std::unique_ptr<VectorIndex> index_;
};

}  // namespace
}  // namespace vidx::bindings
VIDX_REQUIRE_INITIALISED(vidx::bindings::PyIndex)  // a never-initialised object raises, not crashes
namespace vidx::bindings {
namespace {

PyIndex make(const std::string& kind, size_t dim, const std::string& metric, py::dict options) {
  const IndexOptions o = options_from_kwargs(kind, options);
  return PyIndex(make_index(kind, dim, parse_metric(metric), o));
}

// mmap, verify: see LoadOptions (a mapped, read-only index; verify checksums all of it).
PyIndex load(const std::string& path, const std::string& posting_path, int direct_io, bool mmap, bool verify) {
  checked_path(path);
  if (!posting_path.empty()) checked_path(posting_path);
  LoadOptions lo;
  lo.posting_path = posting_path;
  lo.direct_io = direct_io;
  lo.mmap = mmap;
  lo.verify = verify;
  std::unique_ptr<VectorIndex> index;
  {
    GilReleased no_gil;
    index = load_index(path, lo);
  }
  return PyIndex(std::move(index));
}

// A SPANN index's value (None for other kinds), read without the GIL: it takes the index lock.
template <class Get>
py::object spann_property(const PyIndex& s, Get get) {
  const spann::SpannIndex* sp = s.spann();
  if (!sp) return py::none();
  decltype(get(*sp)) value{};
  {
    GilReleased no_gil;
    value = get(*sp);
  }
  return py::cast(value);
}

}  // namespace

py::object wrap_index(std::unique_ptr<VectorIndex> index) { return py::cast(PyIndex(std::move(index))); }
VectorIndex& index_of(py::handle self) { return self.cast<PyIndex&>().index(); }

void register_index(py::module_& m) {
  py::class_<PyIndex>(m, "Index")
      .def(py::init(&make), py::arg("kind"), py::arg("dim"), py::arg("metric"), py::arg("options"))
      .def("add", &PyIndex::add, py::arg("x"), py::arg("ids") = py::none(), py::arg("progress") = py::none(),
           py::arg("release_pages") = false)
      .def("add_region", &PyIndex::add_region, py::arg("path"), py::arg("offset"), py::arg("rows"),
           py::arg("row_stride"), py::arg("dtype"), py::arg("ids") = py::none(), py::arg("progress") = py::none())
      .def("search", &PyIndex::search, py::arg("q"), py::arg("k") = 10, py::arg("ef") = py::none(),
           py::arg("rerank") = py::none(), py::arg("nprobe") = py::none(), py::arg("eps") = py::none(),
           py::arg("filter") = py::none())
      .def("_search_precise", &PyIndex::search_precise, py::arg("q"), py::arg("k") = 10, py::arg("ef") = py::none(),
           py::arg("rerank") = py::none(), py::arg("nprobe") = py::none(), py::arg("eps") = py::none(),
           py::arg("filter") = py::none())
      .def("range_search", &PyIndex::range_search, py::arg("q"), py::arg("radius"), py::arg("ef") = py::none(),
           py::arg("filter") = py::none())
      .def("_range_search_precise", &PyIndex::range_search_precise, py::arg("q"), py::arg("radius"),
           py::arg("ef") = py::none(), py::arg("filter") = py::none())
      .def("save", &PyIndex::save, py::arg("path"))
      .def("rebuild", &PyIndex::rebuild, py::arg("path") = py::none(), py::arg("progress") = py::none())
      .def("__len__", [](const PyIndex& s) { return s.unlocked([](VectorIndex& i) { return i.size(); }); })
      .def_property_readonly("dim", [](const PyIndex& s) { return s.index().dim(); })
      .def_property_readonly("metric", [](const PyIndex& s) { return std::string(metric_name(s.index().metric())); })
      .def_property_readonly("kind", [](const PyIndex& s) { return s.index().kind(); })
      .def_property_readonly("_row_scale", [](const PyIndex& s) { return s.index().row_scale(); })
      .def_property_readonly("device", [](const PyIndex& s) { return s.index().device(); })
      .def_property(
          "threads", [](const PyIndex& s) { return s.index().options_snapshot().threads; },
          [](PyIndex& s, size_t t) { s.unlocked([t](VectorIndex& i) { i.set_threads(t); }); })
      .def_property_readonly("params",
                             [](const PyIndex& s) {
                               // The options in use, which vidx.Index(dim, metric, kind, **params) takes
                               // back (what they lead to, such as SPANN's effective head ratio, is in
                               // stats()); SPANN's direct_io as the posting file was opened (a load
                               // may override the saved one).
                               py::dict d = options_to_dict(s.index().kind(), s.index().options_snapshot());
                               if (const auto* sp = s.spann()) d["direct_io"] = sp->direct_io();
                               return d;
                             })
      .def("memory_usage", [](const PyIndex& s) { return s.unlocked([](VectorIndex& i) { return i.memory_usage(); }); })
      .def("memory_breakdown",
           [](const PyIndex& s) { return s.unlocked([](VectorIndex& i) { return i.memory_breakdown(); }); })
      .def("stats", [](const PyIndex& s) { return s.unlocked([](VectorIndex& i) { return i.stats(); }); })
      .def("reset_stats", [](PyIndex& s) { s.unlocked([](VectorIndex& i) { i.reset_stats(); }); })
      .def_property_readonly("posting_path",
                             [](const PyIndex& s) {
                               const spann::SpannIndex* sp = s.spann();
                               if (!sp) return py::object(py::none());
                               std::string path;
                               {
                                 GilReleased no_gil;  // posting_path() takes the index lock
                                 path = sp->posting_path();
                               }
                               return file_name_object(path);
                             })
      .def_property_readonly(
          "_posting_file_in_place",
          [](const PyIndex& s) {
            return spann_property(s, [](const spann::SpannIndex& i) { return i.posting_file_in_place(); });
          },
          "SPANN: whether posting_path still names the file this index has open (None for other kinds).")
      .def_property_readonly("heads",
                             [](const PyIndex& s) {
                               return spann_property(s, [](const spann::SpannIndex& i) { return i.heads(); });
                             })
      .def_property_readonly("direct_io", [](const PyIndex& s) {
        return spann_property(s, [](const spann::SpannIndex& i) { return i.direct_io(); });
      });
  m.def("load", &load, py::arg("path"), py::arg("posting_path") = "", py::arg("direct_io") = -1,
        py::arg("mmap") = false, py::arg("verify") = false);
  m.def("option_names", [](py::object kind) {
        return kind.is_none() ? option_names() : option_names(kind.cast<std::string>());
      }, py::arg("kind") = py::none(), "Every option name, or those index kind `kind` takes");
}

}  // namespace vidx::bindings
