// Test hooks for codecs: encode and decode rows, read per-vector constants, and distances
// with the kernels of one SIMD level (LVQ, Hamming), so tests check error bounds and every
// level against scalar on the same codes.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <memory>
#include <vector>

#include "bindings.hpp"
#include "vidx/codec/binary_kernels.hpp"
#include "vidx/codec/lvq.hpp"
#include "vidx/common/error.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx::bindings {
namespace py = pybind11;
namespace {

using Floats = py::array_t<float, py::array::c_style | py::array::forcecast>;

std::unique_ptr<LvqCodec> lvq_codec(const std::string& name, size_t dim, const std::string& metric,
                                    const std::string& level) {
  auto codec = LvqCodec::from_name(name, dim, parse_metric(metric) == Metric::L2 ? Metric::L2 : Metric::IP);
  if (!codec) throw InvalidArgument("unknown LVQ variant '" + name + "'");
  simd::Level l;
  if (!simd::parse_level(level, &l)) throw InvalidArgument("unknown SIMD level '" + level + "'");
  const lvq::KernelTable* table = lvq::kernels_for(l);
  if (!table) throw InvalidArgument("SIMD level '" + level + "' is not available on this CPU/build");
  codec->use_kernels(*table);
  return codec;
}

void check_rows(const Floats& x, size_t dim, const char* what) {
  if (x.ndim() != 2 || static_cast<size_t>(x.shape(1)) != dim)
    throw InvalidArgument(std::string(what) + " must be a 2-d array with " + std::to_string(dim) + " columns");
}

// Trains an LVQ codec on `data`, encodes it and returns, per row: the full decode, the
// primary-only decode, delta and bias; and, per (query, row): the primary distance, the
// precise distance and distance_between(row 0, row).
py::dict lvq_probe(const std::string& name, const std::string& metric, const std::string& level, Floats data,
                   Floats queries) {
  if (data.ndim() != 2 || data.shape(0) == 0) throw InvalidArgument("data must be a non-empty 2-d array");
  const size_t n = data.shape(0), dim = data.shape(1);
  check_rows(queries, dim, "queries");
  const size_t nq = queries.shape(0);
  auto codec = lvq_codec(name, dim, metric, level);
  codec->train(data.data(), n);
  const size_t cs = codec->code_size();
  std::vector<uint8_t> codes(n * cs);
  for (size_t i = 0; i < n; ++i) codec->encode(data.data() + i * dim, codes.data() + i * cs);

  py::array_t<float> full({n, dim}), primary({n, dim}), delta(n), bias(n);
  py::array_t<float> fast({nq, n}), precise({nq, n}), between(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* c = codes.data() + i * cs;
    codec->decode(c, full.mutable_data() + i * dim);
    codec->decode_primary(c, primary.mutable_data() + i * dim);
    delta.mutable_data()[i] = codec->delta(c);
    bias.mutable_data()[i] = codec->bias(c);
    between.mutable_data()[i] = codec->distance_between(codes.data(), c);
  }
  std::vector<const uint8_t*> ptrs(n);
  for (size_t i = 0; i < n; ++i) ptrs[i] = codes.data() + i * cs;
  for (size_t j = 0; j < nq; ++j) {
    codec->prepare(queries.data() + j * dim)->batch(ptrs.data(), n, fast.mutable_data() + j * n);
    codec->prepare_precise(queries.data() + j * dim)->batch(ptrs.data(), n, precise.mutable_data() + j * n);
  }
  py::dict out;
  out["code_size"] = cs;
  out["full"] = full;
  out["primary"] = primary;
  out["delta"] = delta;
  out["bias"] = bias;
  out["fast"] = fast;
  out["precise"] = precise;
  out["between"] = between;
  return out;
}

// Hamming distance of row 0 of `bits` to every row, with the kernel of one level.
py::array_t<uint32_t> hamming(const std::string& level, py::array_t<uint64_t, py::array::c_style> bits) {
  simd::Level l;
  if (!simd::parse_level(level, &l)) throw InvalidArgument("unknown SIMD level '" + level + "'");
  const binary::HammingFn fn = binary::hamming_for(l);
  if (!fn) throw InvalidArgument("SIMD level '" + level + "' is not available on this CPU/build");
  if (bits.ndim() != 2 || bits.shape(0) == 0) throw InvalidArgument("bits must be a non-empty 2-d array");
  const size_t n = bits.shape(0), words = bits.shape(1);
  py::array_t<uint32_t> out(n);
  for (size_t i = 0; i < n; ++i) out.mutable_data()[i] = fn(bits.data(), bits.data() + i * words, words);
  return out;
}

}  // namespace

void register_codec(py::module_& m) {
  m.def("_lvq_probe", &lvq_probe, py::arg("name"), py::arg("metric"), py::arg("level"), py::arg("data"),
        py::arg("queries"));
  m.def("_hamming", &hamming, py::arg("level"), py::arg("bits"));
}

}  // namespace vidx::bindings
