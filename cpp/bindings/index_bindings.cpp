// vidx._core.Index: the Python face of vidx::VectorIndex. Every long call releases the GIL.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "initialised_self.hpp"
#include "numpy_input.hpp"
#include "path_input.hpp"
#include "vidx/common/search_limits.hpp"
#include "vidx/index.hpp"

namespace vidx::bindings {
namespace {

class PyIndex {
 public:
  explicit PyIndex(std::unique_ptr<VectorIndex> index) : index_(std::move(index)) {}

  void add(py::handle x, py::handle ids) {
    const Matrix m = as_matrix(x, index_->dim(), "vectors");
    const auto id_array = as_ids(ids, m.rows);
    const int64_t* id_ptr = id_array ? id_array->data() : nullptr;
    py::gil_scoped_release no_gil;
    index_->add(m.data(), m.rows, id_ptr);
  }

  py::tuple search(py::handle q, py::handle k_obj, py::handle ef_obj, py::handle rerank_obj) const {
    const size_t k = as_positive_int(k_obj, "k", false);
    SearchParams params;
    params.ef = as_positive_int(ef_obj, "ef", true);
    params.rerank = as_positive_int(rerank_obj, "rerank", true);
    const Matrix m = as_matrix(q, index_->dim(), "queries");
    check_k(k, index_->size());  // before the (q, k) outputs are allocated
    py::array_t<float> distances({m.rows, k});
    py::array_t<int64_t> ids({m.rows, k});
    float* d = distances.mutable_data();
    int64_t* i = ids.mutable_data();
    {
      py::gil_scoped_release no_gil;
      index_->search(m.data(), m.rows, k, params, d, i);
    }
    return py::make_tuple(std::move(distances), std::move(ids));
  }

  void save(const std::string& path) const {
    checked_path(path);
    py::gil_scoped_release no_gil;
    index_->save(path);
  }

  size_t size() const { return index_->size(); }
  size_t dim() const { return index_->dim(); }
  std::string metric() const { return metric_name(index_->metric()); }
  std::string kind() const { return index_->kind(); }
  size_t memory_usage() const { return index_->memory_usage(); }
  std::map<std::string, size_t> memory_breakdown() const { return index_->memory_breakdown(); }
  size_t threads() const { return index_->threads(); }
  void set_threads(size_t t) {
    py::gil_scoped_release no_gil;
    index_->set_threads(t);
  }
  py::dict params() const {
    const IndexOptions& o = index_->options();
    py::dict d;
    d["M"] = o.M;
    d["ef_construction"] = o.ef_construction;
    d["ef_search"] = o.ef_search;
    d["seed"] = o.seed;
    d["threads"] = o.threads;
    d["quant"] = o.quantization;
    d["rerank"] = o.rerank;
    d["keep_vectors"] = o.keep_vectors;
    return d;
  }

 private:
  std::unique_ptr<VectorIndex> index_;
};

}  // namespace
}  // namespace vidx::bindings
VIDX_REQUIRE_INITIALISED(vidx::bindings::PyIndex)  // a never-initialised object raises, not crashes
namespace vidx::bindings {
namespace {

PyIndex make(const std::string& kind, size_t dim, const std::string& metric, size_t M, size_t ef_construction,
             size_t ef_search, uint64_t seed, size_t threads, const std::string& quant, size_t rerank,
             bool keep_vectors) {
  IndexOptions o;
  o.M = M;
  o.ef_construction = ef_construction;
  o.ef_search = ef_search;
  o.seed = seed;
  o.threads = threads;
  o.quantization = quant;
  o.rerank = rerank;
  o.keep_vectors = keep_vectors;
  return PyIndex(make_index(kind, dim, parse_metric(metric), o));
}

PyIndex load(const std::string& path) {
  checked_path(path);
  std::unique_ptr<VectorIndex> index;
  {
    py::gil_scoped_release no_gil;
    index = load_index(path);
  }
  return PyIndex(std::move(index));
}

}  // namespace

void register_index(py::module_& m) {
  py::class_<PyIndex>(m, "Index")
      .def(py::init(&make), py::arg("kind"), py::arg("dim"), py::arg("metric"), py::arg("M"),
           py::arg("ef_construction"), py::arg("ef_search"), py::arg("seed"), py::arg("threads"), py::arg("quant"),
           py::arg("rerank"), py::arg("keep_vectors"))
      .def("add", &PyIndex::add, py::arg("x"), py::arg("ids") = py::none())
      .def("search", &PyIndex::search, py::arg("q"), py::arg("k") = 10, py::arg("ef") = py::none(),
           py::arg("rerank") = py::none())
      .def("save", &PyIndex::save, py::arg("path"))
      .def("__len__", &PyIndex::size)
      .def_property_readonly("dim", &PyIndex::dim)
      .def_property_readonly("metric", &PyIndex::metric)
      .def_property_readonly("kind", &PyIndex::kind)
      .def_property("threads", &PyIndex::threads, &PyIndex::set_threads)
      .def_property_readonly("params", &PyIndex::params)
      .def("memory_usage", &PyIndex::memory_usage)
      .def("memory_breakdown", &PyIndex::memory_breakdown);
  m.def("load", &load, py::arg("path"));
}

}  // namespace vidx::bindings
