// CPU features and direct access to each kernel level, so tests can check every SIMD level
// against the scalar reference on the same inputs.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "vidx/codec/lvq_kernels.hpp"
#include "vidx/common/error.hpp"
#include "vidx/simd/cpu_features.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx::bindings {
namespace py = pybind11;
namespace {

using Floats = py::array_t<float, py::array::c_style | py::array::forcecast>;

const simd::KernelTable& table_for(const std::string& level_name) {
  return *simd::kernels_for(runnable_level(level_name));
}

py::dict cpu_features() {
  const simd::CpuFeatures& f = simd::cpu_features();
  const std::pair<const char*, bool> named_flags[] = {
      {"sse4_2", f.sse42},     {"avx", f.avx},           {"avx2", f.avx2},         {"fma", f.fma},
      {"f16c", f.f16c},        {"popcnt", f.popcnt},     {"avx512f", f.avx512f},   {"avx512bw", f.avx512bw},
      {"avx512dq", f.avx512dq}, {"avx512vl", f.avx512vl}, {"avx512vpopcntdq", f.avx512vpopcntdq},
      {"avx512bf16", f.avx512bf16}, {"neon", f.neon}};
  py::dict flags;
  for (const auto& [name, on] : named_flags) flags[name] = on;
  py::list available;
  for (simd::Level l : simd::kLevelsBestFirst)  // listed worst first, as before
    if (simd::kernels_for(l)) available.insert(0, simd::level_name(l));
  py::dict d;
  d["arch"] = f.arch;
  d["vendor"] = f.vendor;
  d["flags"] = flags;
  d["available"] = available;
  d["best"] = simd::level_name(simd::best_level());
  d["active"] = simd::level_name(simd::kernels().level);
  // The LVQ codecs' level: AVX2's on Intel CPUs whose active level is AVX-512 (lvq::kernels).
  d["lvq_active"] = simd::level_name(lvq::kernels().level);
  d["reason"] = simd::dispatch_note();
  return d;
}

// Distances of query q to each row of x with the kernels of one level (pair and batch forms).
py::tuple kernel_distances(const std::string& level, const std::string& op, Floats q, Floats x) {
  const simd::KernelTable& t = table_for(level);
  if (q.ndim() != 1 || x.ndim() != 2 || x.shape(1) != q.shape(0)) throw InvalidArgument("shapes do not match");
  const size_t dim = q.shape(0), n = x.shape(0);
  const bool l2 = op == "l2";
  if (!l2 && op != "ip") throw InvalidArgument("op must be 'l2' or 'ip'");
  py::array_t<float> pair(n), batch(n);
  std::vector<const float*> rows(n);
  for (size_t i = 0; i < n; ++i) {
    rows[i] = x.data() + i * dim;
    pair.mutable_data()[i] = (l2 ? t.l2sq : t.dot)(q.data(), rows[i], dim);
  }
  (l2 ? t.l2sq_batch : t.dot_batch)(q.data(), rows.data(), n, dim, batch.mutable_data());
  return py::make_tuple(pair, batch);
}

// The bounded L2 batch kernel of one level: exact below `bound`, any value >= bound above;
// with `check_scales` (None, or one per whole kBoundCheckDims block) the scaled checks.
py::array_t<float> kernel_l2_bounded(const std::string& level, Floats q, Floats x, float bound,
                                     std::optional<Floats> check_scales) {
  const simd::KernelTable& t = table_for(level);
  if (q.ndim() != 1 || x.ndim() != 2 || x.shape(1) != q.shape(0)) throw InvalidArgument("shapes do not match");
  const size_t dim = q.shape(0), n = x.shape(0);
  const size_t checks = dim / simd::kBoundCheckDims;
  if (check_scales && (check_scales->ndim() != 1 || static_cast<size_t>(check_scales->shape(0)) < checks))
    throw InvalidArgument("check_scales needs one scale per whole block of " + std::to_string(simd::kBoundCheckDims));
  std::vector<const float*> rows(n);
  for (size_t i = 0; i < n; ++i) rows[i] = x.data() + i * dim;
  py::array_t<float> out(n);
  t.l2sq_batch_bounded(q.data(), rows.data(), n, dim, bound, check_scales ? check_scales->data() : nullptr,
                       out.mutable_data());
  return out;
}

// One Householder reflection of y by v with the kernels of one level (returns the new y).
py::array_t<float> kernel_reflect(const std::string& level, Floats v, Floats y, float scale) {
  const simd::KernelTable& t = table_for(level);
  if (v.ndim() != 1 || y.ndim() != 1 || v.shape(0) != y.shape(0)) throw InvalidArgument("shapes do not match");
  py::array_t<float> out(y.shape(0));
  std::copy(y.data(), y.data() + y.shape(0), out.mutable_data());
  t.reflect(v.data(), out.mutable_data(), static_cast<size_t>(y.shape(0)), scale);
  return out;
}

}  // namespace

simd::Level runnable_level(const std::string& name) {
  simd::Level level;
  if (!simd::parse_level(name, &level)) throw InvalidArgument("unknown SIMD level '" + name + "'");
  if (!simd::kernels_for(level)) throw InvalidArgument("SIMD level '" + name + "' is not available on this CPU/build");
  return level;
}

void register_simd(py::module_& m) {
  m.def("cpu_features", &cpu_features);
  m.def("_kernel_distances", &kernel_distances, py::arg("level"), py::arg("op"), py::arg("q"), py::arg("x"));
  m.def("_kernel_l2_bounded", &kernel_l2_bounded, py::arg("level"), py::arg("q"), py::arg("x"), py::arg("bound"),
        py::arg("check_scales") = py::none());
  m.def("_kernel_reflect", &kernel_reflect, py::arg("level"), py::arg("v"), py::arg("y"), py::arg("scale"));
}

}  // namespace vidx::bindings
