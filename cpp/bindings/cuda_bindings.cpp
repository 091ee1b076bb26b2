// vidx._core: _cuda_available, _cuda_device_info, CudaFlatIndex and _kmeans. Long calls release
// the GIL. vidx::DeviceOutOfMemory becomes MemoryError, any other vidx::DeviceError RuntimeError.
#include "cuda_bindings.hpp"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "numpy_input.hpp"
#include "vidx/cluster/kmeans.hpp"
#include "initialised_self.hpp"
#include "vidx/common/error.hpp"
#include "vidx/common/metric.hpp"
#include "vidx/cuda/device_error.hpp"
#if defined(VIDX_WITH_CUDA)
#include "vidx/cuda/cuda.hpp"
#include "vidx/cuda/kmeans.hpp"
#endif

namespace py = pybind11;

namespace {

using vidx::bindings::as_ids;
using vidx::bindings::as_matrix;
using vidx::bindings::as_positive_int;
using vidx::bindings::FloatArray;

[[maybe_unused]] const char* kNotBuilt =
    "vidx was built without CUDA support (no CUDA compiler was found at build time, its probe failed, or "
    "VIDX_CUDA=OFF)";

std::pair<bool, std::string> cuda_status() {
#if defined(VIDX_WITH_CUDA)
  std::string why;
  const bool ok = vidx::gpu::cuda_available(&why);
  return {ok, why};
#else
  return {false, kNotBuilt};
#endif
}

[[noreturn, maybe_unused]] void throw_unavailable(const std::string& why) {
  throw vidx::DeviceError("CUDA is not available: " + why);
}

// "cpu" -> -1, "cuda" -> 0, "cuda:N" -> N.
int parse_device(const std::string& device) {
  if (device == "cpu") return -1;
  if (device == "cuda" || device == "gpu") return 0;
  if (device.rfind("cuda:", 0) == 0 && device.size() > 5) {
    size_t used = 0;
    int n = -1;
    try {
      n = std::stoi(device.substr(5), &used);
    } catch (...) {
      used = 0;
    }
    if (used == device.size() - 5 && n >= 0) return n;
  }
  throw vidx::InvalidArgument("unknown device '" + device + "' (expected 'cpu', 'cuda' or 'cuda:N')");
}

#if defined(VIDX_WITH_CUDA)

vidx::gpu::Storage parse_storage(const std::string& dtype) {
  if (dtype == "float32" || dtype == "f32" || dtype == "fp32") return vidx::gpu::Storage::Float32;
  if (dtype == "float16" || dtype == "f16" || dtype == "fp16" || dtype == "half") return vidx::gpu::Storage::Float16;
  throw vidx::InvalidArgument("unknown dtype '" + dtype + "' (expected 'float32' or 'float16')");
}

class PyCudaFlatIndex {
 public:
  PyCudaFlatIndex(size_t dim, const std::string& metric, const std::string& dtype, int device, size_t chunk_rows,
                  size_t max_device_rows, bool exact) {
    vidx::gpu::CudaFlatOptions o;
    o.storage = parse_storage(dtype);
    o.device = device;
    o.chunk_rows = chunk_rows;
    o.max_device_rows = max_device_rows;
    o.exact = exact;
    const vidx::Metric m = vidx::parse_metric(metric);
    py::gil_scoped_release no_gil;
    index_ = std::make_unique<vidx::gpu::CudaFlatIndex>(dim, m, o);
  }

  void add(py::handle x, py::handle ids) {
    const auto m = as_matrix(x, index_->dim(), "vectors");
    const auto id_array = as_ids(ids, m.rows);
    const int64_t* id_ptr = id_array ? id_array->data() : nullptr;
    py::gil_scoped_release no_gil;
    index_->add(m.data(), m.rows, id_ptr);
  }

  py::tuple search(py::handle q, py::handle k_obj) const {
    const size_t k = as_positive_int(k_obj, "k", false);
    const auto m = as_matrix(q, index_->dim(), "queries");
    py::array_t<float> distances({m.rows, k});
    py::array_t<int64_t> ids({m.rows, k});
    float* d = distances.mutable_data();
    int64_t* i = ids.mutable_data();
    {
      py::gil_scoped_release no_gil;
      index_->search(m.data(), m.rows, k, d, i);
    }
    return py::make_tuple(std::move(distances), std::move(ids));
  }

  void reset() {
    py::gil_scoped_release no_gil;
    index_->reset();
  }

  size_t size() const { return index_->size(); }
  size_t dim() const { return index_->dim(); }
  std::string metric() const { return vidx::metric_name(index_->metric()); }
  std::string dtype() const { return index_->storage() == vidx::gpu::Storage::Float16 ? "float16" : "float32"; }
  int device() const { return index_->device(); }
  size_t device_rows() const { return index_->device_rows(); }
  size_t memory_usage() const { return index_->memory_usage(); }
  size_t device_memory_usage() const { return index_->device_memory_usage(); }
  py::dict memory_breakdown() const {
    const auto b = index_->memory_breakdown();
    py::dict d;
    d["codes"] = b.vectors_device + b.vectors_host;
    d["ids"] = b.ids;
    d["scratch"] = b.scratch;
    return d;
  }

 private:
  std::unique_ptr<vidx::gpu::CudaFlatIndex> index_;
};

py::dict device_info(int device) {
  vidx::gpu::DeviceInfo info;
  {
    py::gil_scoped_release no_gil;
    info = vidx::gpu::device_info(device);
  }
  py::dict d;
  d["index"] = info.index;
  d["name"] = info.name;
  d["compute_capability"] = py::make_tuple(info.major, info.minor);
  d["multiprocessors"] = info.multiprocessors;
  d["clock_ghz"] = info.clock_ghz;
  d["memory_clock_ghz"] = info.memory_clock_ghz;
  d["memory_bus_bits"] = info.memory_bus_bits;
  d["total_memory"] = info.total_memory;
  d["free_memory"] = info.free_memory;
  d["shared_memory_per_block_optin"] = info.shared_memory_per_block_optin;
  d["runtime_version"] = info.runtime_version;
  d["driver_version"] = info.driver_version;
  return d;
}

#else  // no CUDA in this build: the class exists so that code can name it, and says why it cannot work.

class PyCudaFlatIndex {
 public:
  PyCudaFlatIndex(size_t, const std::string&, const std::string&, int, size_t, size_t, bool) {
    throw_unavailable(kNotBuilt);
  }
  void add(py::handle, py::handle) { throw_unavailable(kNotBuilt); }
  py::tuple search(py::handle, py::handle) const { throw_unavailable(kNotBuilt); }
  void reset() { throw_unavailable(kNotBuilt); }
  size_t size() const { return 0; }
  size_t dim() const { return 0; }
  std::string metric() const { return ""; }
  std::string dtype() const { return ""; }
  int device() const { return -1; }
  size_t device_rows() const { return 0; }
  size_t memory_usage() const { return 0; }
  size_t device_memory_usage() const { return 0; }
  py::dict memory_breakdown() const { throw_unavailable(kNotBuilt); }
};

py::dict device_info(int) { throw_unavailable(kNotBuilt); }

#endif

vidx::KMeansInit parse_init(const std::string& init) {
  if (init == "auto") return vidx::KMeansInit::Auto;
  if (init == "kmeans++" || init == "k-means++") return vidx::KMeansInit::KMeansPlusPlus;
  if (init == "random") return vidx::KMeansInit::Random;
  throw vidx::InvalidArgument("unknown init '" + init + "' (expected 'auto', 'kmeans++' or 'random')");
}

py::tuple kmeans(py::handle x_obj, size_t k, size_t iters, uint64_t seed, const std::string& device,
                 const std::string& init, size_t threads) {
  if (x_obj.is_none()) throw py::type_error("X must be a 2-d array of points, got None");
  py::array arr = py::array::ensure(x_obj);
  if (!arr) throw py::error_already_set();
  const char kind = arr.dtype().kind();
  if (kind != 'f' && kind != 'i' && kind != 'u')
    throw py::type_error("X must hold real numbers, got dtype " + py::str(arr.dtype()).cast<std::string>());
  if (arr.ndim() != 2) throw py::value_error("X must be a 2-d array (n, dim), got " + std::to_string(arr.ndim()) + " dimensions");
  FloatArray x = FloatArray::ensure(arr);
  if (!x) throw py::error_already_set();
  const size_t n = static_cast<size_t>(x.shape(0));
  const size_t dim = static_cast<size_t>(x.shape(1));

  vidx::KMeansParams p;
  p.k = k;
  p.iters = iters;
  p.seed = seed;
  p.init = parse_init(init);
  p.threads = threads;
  const int dev = parse_device(device);
  vidx::KMeansResult r;
  {
    py::gil_scoped_release no_gil;
    if (dev < 0) {
      r = vidx::kmeans(x.data(), n, dim, p);
    } else {
#if defined(VIDX_WITH_CUDA)
      r = vidx::gpu::kmeans_cuda(x.data(), n, dim, p, dev);
#else
      throw_unavailable(kNotBuilt);
#endif
    }
  }
  py::array_t<float> centroids({r.k, r.dim});
  std::copy(r.centroids.begin(), r.centroids.end(), centroids.mutable_data());
  py::array_t<int64_t> assignment(static_cast<py::ssize_t>(r.assignment.size()));
  std::copy(r.assignment.begin(), r.assignment.end(), assignment.mutable_data());
  return py::make_tuple(std::move(centroids), std::move(assignment), r.inertia, r.iterations);
}

}  // namespace

VIDX_REQUIRE_INITIALISED(PyCudaFlatIndex)  // a never-initialised object raises, not crashes

void register_cuda(py::module_& m) {
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const vidx::DeviceOutOfMemory& e) {
      PyErr_SetString(PyExc_MemoryError, e.what());
    } catch (const vidx::DeviceError& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
    }
  });

#if defined(VIDX_WITH_CUDA)
  m.attr("_built_with_cuda") = true;
#else
  m.attr("_built_with_cuda") = false;
#endif

  m.def("_cuda_available", &cuda_status,
        "(available, reason): whether a usable CUDA device is present, and why not (or which one is)");
  m.def("_cuda_device_info", &device_info, py::arg("device") = 0, "Properties of a CUDA device (a dict)");

  py::class_<PyCudaFlatIndex>(m, "CudaFlatIndex")
      .def(py::init<size_t, const std::string&, const std::string&, int, size_t, size_t, bool>(), py::arg("dim"),
           py::arg("metric") = "l2", py::arg("dtype") = "float32", py::arg("device") = 0, py::arg("chunk_rows") = 0,
           py::arg("max_device_rows") = 0, py::arg("exact") = true)
      .def("add", &PyCudaFlatIndex::add, py::arg("x"), py::arg("ids") = py::none())
      .def("search", &PyCudaFlatIndex::search, py::arg("q"), py::arg("k") = 10)
      .def("reset", &PyCudaFlatIndex::reset)
      .def("__len__", &PyCudaFlatIndex::size)
      .def_property_readonly("dim", &PyCudaFlatIndex::dim)
      .def_property_readonly("metric", &PyCudaFlatIndex::metric)
      .def_property_readonly("dtype", &PyCudaFlatIndex::dtype)
      .def_property_readonly("device", &PyCudaFlatIndex::device)
      .def_property_readonly("device_rows", &PyCudaFlatIndex::device_rows)
      .def("memory_usage", &PyCudaFlatIndex::memory_usage)
      .def("device_memory_usage", &PyCudaFlatIndex::device_memory_usage)
      .def("memory_breakdown", &PyCudaFlatIndex::memory_breakdown);

  m.def("_kmeans", &kmeans, py::arg("x"), py::arg("k"), py::arg("iters") = 25, py::arg("seed") = 0,
        py::arg("device") = "cpu", py::arg("init") = "auto", py::arg("threads") = 0,
        "k-means: returns (centroids (k, d) float32, assignment (n,) int64, inertia, iterations)");
}
