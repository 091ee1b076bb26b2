// Test hooks for codecs: encode and decode rows, read per-vector constants, and distances
// with the kernels of one SIMD level (LVQ, Hamming), so tests check error bounds and every
// level against scalar on the same codes.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <limits>
#include <memory>
#include <vector>

#include "bindings.hpp"
#include "vidx/codec/binary.hpp"
#include "vidx/codec/binary_kernels.hpp"
#include "vidx/codec/flat_f16.hpp"
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
  const simd::Level l = runnable_level(level);
  const lvq::KernelTable* table = lvq::kernels_for(l);
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

// Encodes `data` as float16 with the kernels of one level and returns the codes (uint16),
// the decoded rows, per (query, row) the distances of batch(), of batch_bounded() with
// `bound`, and distance_between(row 0, row).
py::dict f16_probe(const std::string& metric, const std::string& level, Floats data, Floats queries, float bound) {
  if (data.ndim() != 2 || data.shape(0) == 0) throw InvalidArgument("data must be a non-empty 2-d array");
  const size_t n = data.shape(0), dim = data.shape(1);
  check_rows(queries, dim, "queries");
  const size_t nq = queries.shape(0);
  const simd::Level l = runnable_level(level);
  const f16k::KernelTable* table = f16k::kernels_for(l);
  FlatF16Codec codec(dim, parse_metric(metric) == Metric::L2 ? Metric::L2 : Metric::IP);
  codec.use_kernels(*table);
  const size_t cs = codec.code_size();
  py::array_t<uint16_t> codes({n, dim});
  auto* bytes = reinterpret_cast<uint8_t*>(codes.mutable_data());
  py::array_t<float> decoded({n, dim}), full({nq, n}), bounded({nq, n}), between(n);
  std::vector<const uint8_t*> ptrs(n);
  for (size_t i = 0; i < n; ++i) {
    codec.encode(data.data() + i * dim, bytes + i * cs);
    codec.decode(bytes + i * cs, decoded.mutable_data() + i * dim);
    ptrs[i] = bytes + i * cs;
  }
  for (size_t i = 0; i < n; ++i) between.mutable_data()[i] = codec.distance_between(bytes, ptrs[i]);
  for (size_t j = 0; j < nq; ++j) {
    const auto qd = codec.prepare(queries.data() + j * dim);
    qd->batch(ptrs.data(), n, full.mutable_data() + j * n);
    qd->batch_bounded(ptrs.data(), n, bound, bounded.mutable_data() + j * n);
  }
  py::dict out;
  out["codes"] = codes;
  out["decoded"] = decoded;
  out["distances"] = full;
  out["bounded"] = bounded;
  out["between"] = between;
  return out;
}

// Trains a binary codec ("binary", "binary_rot", "rabitq") with `seed` on `data` and returns
// the codes' heads (uint8 rows), the rotation (d x d, empty if unrotated), per (query, row)
// the traversal distances, per row distance_between(row 0, row), with the kernels of `level`.
py::dict binary_probe(const std::string& name, const std::string& metric, uint64_t seed, const std::string& level,
                      Floats data, Floats queries) {
  if (data.ndim() != 2 || data.shape(0) == 0) throw InvalidArgument("data must be a non-empty 2-d array");
  const size_t n = data.shape(0), dim = data.shape(1);
  check_rows(queries, dim, "queries");
  const size_t nq = queries.shape(0);
  const simd::Level l = runnable_level(level);
  auto codec = BinaryCodec::from_name(name, dim, parse_metric(metric) == Metric::L2 ? Metric::L2 : Metric::IP, seed);
  if (!codec) throw InvalidArgument("unknown binary variant '" + name + "'");
  codec->use_kernels(binary::hamming_for(l), binary::masked_sum_for(l));
  codec->train(data.data(), n);
  const size_t cs = codec->code_size(), hs = codec->head_size();
  std::vector<uint8_t> codes(n * cs);
  std::vector<const uint8_t*> ptrs(n);
  py::array_t<uint8_t> heads({n, hs});
  for (size_t i = 0; i < n; ++i) {
    ptrs[i] = codes.data() + i * cs;
    codec->encode(data.data() + i * dim, codes.data() + i * cs);
    std::copy(ptrs[i], ptrs[i] + hs, heads.mutable_data() + i * hs);
  }
  py::array_t<float> fast({nq, n}), between(n), rotation(codec->rotation().size());
  std::copy(codec->rotation().begin(), codec->rotation().end(), rotation.mutable_data());
  for (size_t i = 0; i < n; ++i) between.mutable_data()[i] = codec->distance_between(ptrs[0], ptrs[i]);
  for (size_t j = 0; j < nq; ++j) codec->prepare(queries.data() + j * dim)->batch(ptrs.data(), n, fast.mutable_data() + j * n);
  py::dict out;
  out["heads"] = heads;
  out["rotation"] = rotation;
  out["fast"] = fast;
  out["between"] = between;
  out["code_size"] = cs;
  return out;
}

// sum of q over the set bits of each row of `bits`, with the kernel of one level.
py::array_t<float> masked_sum(const std::string& level, Floats q, py::array_t<uint64_t, py::array::c_style> bits) {
  const simd::Level l = runnable_level(level);
  const binary::MaskedSumFn fn = binary::masked_sum_for(l);
  if (bits.ndim() != 2 || q.ndim() != 1 || static_cast<size_t>(q.shape(0)) != 64 * bits.shape(1))
    throw InvalidArgument("q must hold 64 floats per word of bits");
  const size_t n = bits.shape(0), words = bits.shape(1);
  py::array_t<float> out(n);
  for (size_t i = 0; i < n; ++i) out.mutable_data()[i] = fn(q.data(), bits.data() + i * words, words);
  return out;
}

// Hamming distance of row 0 of `bits` to every row, with the kernel of one level.
py::array_t<uint32_t> hamming(const std::string& level, py::array_t<uint64_t, py::array::c_style> bits) {
  const simd::Level l = runnable_level(level);
  const binary::HammingFn fn = binary::hamming_for(l);
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
  m.def("_f16_probe", &f16_probe, py::arg("metric"), py::arg("level"), py::arg("data"), py::arg("queries"),
        py::arg("bound") = std::numeric_limits<float>::infinity());
  m.def("_binary_probe", &binary_probe, py::arg("name"), py::arg("metric"), py::arg("seed"), py::arg("level"),
        py::arg("data"), py::arg("queries"));
  m.def("_masked_sum", &masked_sum, py::arg("level"), py::arg("q"), py::arg("bits"));
  m.def("_hamming", &hamming, py::arg("level"), py::arg("bits"));
}

}  // namespace vidx::bindings
