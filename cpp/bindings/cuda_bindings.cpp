// vidx._core: _cuda_available, _cuda_device_info, _make_cuda_flat, _load_cuda_flat and _kmeans. Long calls release
// the GIL. vidx::DeviceOutOfMemory becomes MemoryError, any other vidx::DeviceError RuntimeError.
#include "cuda_bindings.hpp"

#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include "bindings.hpp"
#include "gil.hpp"
#include "numpy_input.hpp"
#include "options_bindings.hpp"
#include "vidx/cluster/kmeans.hpp"
#include "vidx/common/error.hpp"
#include "vidx/common/metric.hpp"
#include "vidx/cuda/cuda.hpp"
#include "vidx/cuda/device_error.hpp"
#include "vidx/index.hpp"
#if defined(VIDX_WITH_CUDA)
#include "vidx/cuda/kmeans.hpp"
#endif

namespace py = pybind11;

namespace {

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

vidx::gpu::FlatDeviceOptions device_options(int device, size_t chunk_rows, size_t max_device_rows, bool exact) {
  vidx::gpu::FlatDeviceOptions d;
  d.device = device;
  d.chunk_rows = chunk_rows;
  d.max_device_rows = max_device_rows;
  d.exact = exact;
  return d;
}

// vidx._core._make_cuda_flat: the CUDA flat index as a vidx._core.Index. Arguments are checked
// (check_flat_options) before any device is touched, in builds with and without CUDA alike.
py::object make_cuda_flat(size_t dim, const std::string& metric, const py::dict& options, int device,
                          size_t chunk_rows, size_t max_device_rows, bool exact) {
  const vidx::IndexOptions o = vidx::bindings::options_from_kwargs("flat", options);
  const vidx::gpu::FlatDeviceOptions d = device_options(device, chunk_rows, max_device_rows, exact);
  const vidx::Metric m = vidx::parse_metric(metric);
  vidx::gpu::check_flat_options(dim, o, d);
#if defined(VIDX_WITH_CUDA)
  std::unique_ptr<vidx::VectorIndex> index;
  {
    vidx::bindings::GilReleased no_gil;
    index = vidx::gpu::make_flat_index(dim, m, o, d);
  }
  return vidx::bindings::wrap_index(std::move(index));
#else
  (void)m;
  throw_unavailable(kNotBuilt);
#endif
}

// vidx._core._load_cuda_flat: a saved flat index loaded onto a GPU, as a vidx._core.Index.
py::object load_cuda_flat(const std::string& path, int device, size_t chunk_rows, size_t max_device_rows,
                          bool exact) {
  const vidx::gpu::FlatDeviceOptions d = device_options(device, chunk_rows, max_device_rows, exact);
#if defined(VIDX_WITH_CUDA)
  std::unique_ptr<vidx::VectorIndex> index;
  {
    vidx::bindings::GilReleased no_gil;
    index = vidx::gpu::load_flat_index(path, d);
  }
  return vidx::bindings::wrap_index(std::move(index));
#else
  (void)d;
  throw_unavailable(kNotBuilt);
#endif
}

#if defined(VIDX_WITH_CUDA)

py::dict device_info(int device) {
  vidx::gpu::DeviceInfo info;
  {
    vidx::bindings::GilReleased no_gil;
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

#else  // no CUDA in this build: say why it cannot work.

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
    vidx::bindings::GilReleased no_gil;
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

  const vidx::gpu::FlatDeviceOptions device_defaults;
  m.def("_make_cuda_flat", &make_cuda_flat, py::arg("dim"), py::arg("metric"), py::arg("options"),
        py::arg("device") = device_defaults.device, py::arg("chunk_rows") = device_defaults.chunk_rows,
        py::arg("max_device_rows") = device_defaults.max_device_rows, py::arg("exact") = device_defaults.exact,
        "The exact flat index on CUDA device `device`, as a vidx._core.Index; options: vidx.Index's "
        "(quant, threads; see vidx/cuda/cuda.hpp for those it refuses)");
  m.def("_load_cuda_flat", &load_cuda_flat, py::arg("path"), py::arg("device") = device_defaults.device,
        py::arg("chunk_rows") = device_defaults.chunk_rows, py::arg("max_device_rows") = device_defaults.max_device_rows,
        py::arg("exact") = device_defaults.exact,
        "A saved flat index loaded onto CUDA device `device`, as a vidx._core.Index");

  m.def("_kmeans", &kmeans, py::arg("x"), py::arg("k"), py::arg("iters") = 25, py::arg("seed") = 0,
        py::arg("device") = "cpu", py::arg("init") = "auto", py::arg("threads") = 0,
        "k-means: returns (centroids (k, d) float32, assignment (n,) int64, inertia, iterations)");
}
