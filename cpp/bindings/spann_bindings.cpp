// vidx._core.SpannIndex: the Python face of vidx::spann::SpannIndex. Builds and searches
// release the GIL; the build's progress callback takes it back briefly.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cmath>
#include <limits>

#include "bindings.hpp"
#include "initialised_self.hpp"
#include "numpy_input.hpp"
#include "path_input.hpp"
#include "vidx/common/search_limits.hpp"
#include "vidx/spann/spann_index.hpp"

namespace vidx::bindings {
namespace {

using spann::ElementType;
using spann::SpannIndex;
using spann::SpannOptions;

ElementType element_type_of(const py::dtype& dt) {
  const char kind = dt.kind();
  const auto size = dt.itemsize();
  if (kind == 'f' && size == 4) return ElementType::Float32;
  if (kind == 'f' && size == 8) return ElementType::Float64;
  if (kind == 'f' && size == 2) return ElementType::Float16;
  if (kind == 'u' && size == 1) return ElementType::UInt8;
  if (kind == 'i' && size == 1) return ElementType::Int8;
  throw py::type_error("vectors must be float16, float32, float64, uint8 or int8, got dtype " +
                       py::str(dt).cast<std::string>());
}

// Rows handed out by a Python function f(begin, count) -> (count, dim) array, called with
// the GIL held (h5py datasets that are chunked or compressed, anything else array-like).
class CallbackSource final : public spann::VectorSource {
 public:
  CallbackSource(py::function fn, size_t rows, size_t dim) : fn_(std::move(fn)), rows_(rows), dim_(dim) {}
  size_t rows() const override { return rows_; }
  size_t dim() const override { return dim_; }
  std::string describe() const override { return "callback"; }
  void read(size_t begin, size_t count, float* out) override {
    py::gil_scoped_acquire gil;
    py::object got = fn_(begin, count);
    auto arr = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(got);
    if (!arr) throw py::error_already_set();
    if (arr.ndim() != 2 || static_cast<size_t>(arr.shape(0)) != count || static_cast<size_t>(arr.shape(1)) != dim_)
      throw py::value_error("the row reader returned an array of the wrong shape for rows " + std::to_string(begin) +
                            ".." + std::to_string(begin + count));
    std::memcpy(out, arr.data(), count * dim_ * sizeof(float));
  }

 private:
  py::function fn_;
  size_t rows_, dim_;
};

spann::ProgressFn wrap_progress(py::object progress) {
  if (progress.is_none()) {
    // Still let Ctrl-C stop a long build.
    return [](const std::string&, size_t, size_t) {
      py::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    };
  }
  return [progress](const std::string& phase, size_t done, size_t total) {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    progress(phase, done, total);
  };
}

class PySpann {
 public:
  explicit PySpann(std::unique_ptr<SpannIndex> index) : index_(std::move(index)) {}

  // A 2-d array (in memory or a numpy memmap) whose rows are contiguous.
  void add_array(py::array x, py::object ids, bool release_pages, py::object progress) {
    if (x.ndim() != 2) throw py::value_error("vectors must be a 2-d array, got " + std::to_string(x.ndim()) + " dimensions");
    const size_t rows = static_cast<size_t>(x.shape(0)), cols = static_cast<size_t>(x.shape(1));
    if (rows == 0) throw py::value_error("vectors is empty");
    if (cols != index_->dim())
      throw py::value_error("vectors have dimension " + std::to_string(cols) + ", the index has " +
                            std::to_string(index_->dim()));
    const ElementType type = element_type_of(x.dtype());
    if (x.strides(1) != x.itemsize() || x.strides(0) < 0 ||
        static_cast<size_t>(x.strides(0)) < cols * static_cast<size_t>(x.itemsize()))
      throw py::value_error("vectors must have contiguous rows (use numpy.ascontiguousarray)");
    spann::MemorySource src(x.data(), rows, cols, static_cast<size_t>(x.strides(0)), 0, type, release_pages);
    build(src, ids, progress);
  }

  void add_file(const std::string& path, uint64_t offset, size_t rows, size_t row_stride, size_t row_prefix,
                const std::string& dtype, py::object ids, py::object progress) {
    checked_path(path);
    if (rows == 0) throw py::value_error(path + " holds no vectors");
    spann::FileSource src(path, offset, rows, index_->dim(), row_stride, row_prefix, spann::parse_element_type(dtype));
    build(src, ids, progress);
  }

  void add_callback(py::function reader, size_t rows, py::object ids, py::object progress) {
    if (rows == 0) throw py::value_error("no vectors to add");
    CallbackSource src(std::move(reader), rows, index_->dim());
    build(src, ids, progress);
  }

  py::tuple search(py::handle q, py::handle k_obj, py::handle nprobe_obj, py::handle eps_obj) const {
    const size_t k = as_positive_int(k_obj, "k", false);
    const size_t nprobe = as_positive_int(nprobe_obj, "nprobe", true);
    double eps = -1;
    if (!eps_obj.is_none()) {
      if (PyBool_Check(eps_obj.ptr()) || !(PyFloat_Check(eps_obj.ptr()) || PyLong_Check(eps_obj.ptr()) ||
                                           py::hasattr(eps_obj, "__float__")))
        throw py::type_error("eps must be a number");
      eps = eps_obj.cast<double>();
      if (!(eps >= 0)) throw py::value_error("eps must be >= 0 (inf turns pruning off)");
    }
    const Matrix m = as_matrix(q, index_->dim(), "queries");
    check_k(k, index_->size());  // before the (q, k) outputs are allocated
    py::array_t<float> distances({m.rows, k});
    py::array_t<int64_t> ids({m.rows, k});
    float* d = distances.mutable_data();
    int64_t* i = ids.mutable_data();
    {
      py::gil_scoped_release no_gil;
      index_->search(m.data(), m.rows, k, nprobe, eps, d, i);
    }
    return py::make_tuple(std::move(distances), std::move(ids));
  }

  void save(const std::string& path) const {
    checked_path(path);
    py::gil_scoped_release no_gil;
    index_->save(path);
  }

  SpannIndex& index() { return *index_; }
  const SpannIndex& index() const { return *index_; }

  py::dict params() const {
    const SpannOptions& o = index_->options();
    py::dict d;
    d["head_ratio"] = o.head_ratio;
    d["effective_head_ratio"] = index_->effective_head_ratio();
    d["codec"] = o.codec;
    d["replicas"] = o.replicas;
    d["candidates"] = o.candidates;
    d["rng_factor"] = o.rng_factor;
    d["posting_limit"] = o.posting_limit;
    d["branch"] = o.branch;
    d["kmeans_iters"] = o.kmeans_iters;
    d["head_M"] = o.head_M;
    d["head_ef_construction"] = o.head_ef_construction;
    d["head_ef_search"] = o.head_ef_search;
    d["nprobe"] = o.nprobe;
    d["eps"] = o.eps;
    d["direct_io"] = o.direct_io;
    d["io_threads"] = o.io_threads;
    d["threads"] = o.threads;
    d["seed"] = o.seed;
    d["memory_budget"] = o.memory_budget;
    d["sample"] = o.sample;
    return d;
  }

  py::dict build_stats() const {
    const spann::BuildStats b = index_->build_stats();
    py::dict d;
    d["vectors"] = b.vectors;
    d["heads"] = b.heads;
    d["entries"] = b.entries;
    d["dropped_replicas"] = b.dropped_replicas;
    d["posting_limit"] = b.posting_limit;
    d["sample"] = b.sample;
    d["write_passes"] = b.write_passes;
    d["posting_file_bytes"] = b.posting_file_bytes;
    d["peak_tracked_bytes"] = b.peak_tracked_bytes;
    return d;
  }

  py::dict io_stats() const {
    const spann::IoStats s = index_->io_stats();
    py::dict d;
    d["queries"] = s.queries;
    d["lists"] = s.lists;
    d["bytes"] = s.bytes;
    d["entries"] = s.entries;
    return d;
  }

 private:
  void build(spann::VectorSource& src, py::object ids_obj, py::object progress) {
    const auto ids = as_ids(ids_obj, src.rows());
    const int64_t* id_ptr = ids ? ids->data() : nullptr;
    const spann::ProgressFn fn = wrap_progress(progress);
    py::gil_scoped_release no_gil;
    index_->build(src, id_ptr, fn);
  }

  std::unique_ptr<SpannIndex> index_;
};

}  // namespace
}  // namespace vidx::bindings
VIDX_REQUIRE_INITIALISED(vidx::bindings::PySpann)  // a never-initialised object raises, not crashes
namespace vidx::bindings {
namespace {

PySpann make(size_t dim, const std::string& metric, const std::string& path, py::dict kw) {
  checked_path(path);
  SpannOptions o;
  auto get_size = [&](const char* name, size_t& field) {
    if (kw.contains(name)) field = kw[name].cast<size_t>();
  };
  auto get_double = [&](const char* name, double& field) {
    if (kw.contains(name)) field = kw[name].cast<double>();
  };
  get_double("head_ratio", o.head_ratio);
  get_size("replicas", o.replicas);
  get_size("candidates", o.candidates);
  get_double("rng_factor", o.rng_factor);
  get_size("posting_limit", o.posting_limit);
  get_size("branch", o.branch);
  get_size("kmeans_iters", o.kmeans_iters);
  get_size("head_M", o.head_M);
  get_size("head_ef_construction", o.head_ef_construction);
  get_size("head_ef_search", o.head_ef_search);
  get_size("nprobe", o.nprobe);
  get_double("eps", o.eps);
  if (kw.contains("direct_io")) o.direct_io = kw["direct_io"].cast<bool>();
  get_size("io_threads", o.io_threads);
  get_size("threads", o.threads);
  if (kw.contains("seed")) o.seed = kw["seed"].cast<uint64_t>();
  if (kw.contains("memory_budget")) o.memory_budget = kw["memory_budget"].cast<uint64_t>();
  get_size("sample", o.sample);
  if (kw.contains("codec")) o.codec = kw["codec"].cast<std::string>();
  return PySpann(std::make_unique<SpannIndex>(dim, parse_metric(metric), path, o));
}

PySpann load(const std::string& path, const std::string& posting_path, int direct_io) {
  checked_path(path);
  if (!posting_path.empty()) checked_path(posting_path, "posting_path");  // "" = the path stored in the file
  std::unique_ptr<SpannIndex> index;
  {
    py::gil_scoped_release no_gil;
    index = SpannIndex::load(path, posting_path, direct_io);
  }
  return PySpann(std::move(index));
}

}  // namespace

void register_spann(py::module_& m) {
  py::class_<PySpann>(m, "SpannIndex")
      .def(py::init(&make), py::arg("dim"), py::arg("metric"), py::arg("path"), py::arg("options"))
      .def("add_array", &PySpann::add_array, py::arg("x"), py::arg("ids"), py::arg("release_pages"),
           py::arg("progress"))
      .def("add_file", &PySpann::add_file, py::arg("path"), py::arg("offset"), py::arg("rows"), py::arg("row_stride"),
           py::arg("row_prefix"), py::arg("dtype"), py::arg("ids"), py::arg("progress"))
      .def("add_callback", &PySpann::add_callback, py::arg("reader"), py::arg("rows"), py::arg("ids"),
           py::arg("progress"))
      .def("search", &PySpann::search, py::arg("q"), py::arg("k") = 10, py::arg("nprobe") = py::none(),
           py::arg("eps") = py::none())
      .def("save", &PySpann::save, py::arg("path"))
      .def("__len__", [](const PySpann& s) { return s.index().size(); })
      .def_property_readonly("dim", [](const PySpann& s) { return s.index().dim(); })
      .def_property_readonly("metric", [](const PySpann& s) { return std::string(metric_name(s.index().metric())); })
      .def_property_readonly("heads", [](const PySpann& s) { return s.index().heads(); })
      .def_property_readonly("built", [](const PySpann& s) { return s.index().built(); })
      .def_property_readonly("direct_io", [](const PySpann& s) { return s.index().direct_io(); })
      .def_property_readonly("codec", [](const PySpann& s) { return s.index().codec(); })
      .def_property_readonly("posting_path", [](const PySpann& s) { return s.index().posting_path(); })
      .def_property_readonly("params", &PySpann::params)
      .def("build_stats", &PySpann::build_stats)
      .def("io_stats", &PySpann::io_stats)
      .def("reset_io_stats", [](PySpann& s) { s.index().reset_io_stats(); })
      .def("memory_usage", [](const PySpann& s) { return s.index().memory_usage(); });
  m.def("load_spann", &load, py::arg("path"), py::arg("posting_path") = "", py::arg("direct_io") = -1);
}

}  // namespace vidx::bindings
