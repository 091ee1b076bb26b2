// vidx._core.codec_names (the codec registry, read by Python), and test hooks for codecs:
// encode and decode rows, read per-vector constants, and distances with the kernels of one SIMD
// level (LVQ, float16, split float32, Hamming), so tests check error bounds and every level
// against scalar on the same codes.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "bindings.hpp"
#include "gil.hpp"
#include "numpy_input.hpp"
#include "vidx/codec/binary.hpp"
#include "vidx/codec/binary_kernels.hpp"
#include "vidx/codec/flat.hpp"
#include "vidx/codec/lvq.hpp"
#include "vidx/codec/registry.hpp"
#include "vidx/codec/sign_sketch.hpp"
#include "vidx/codec/split_f32.hpp"
#include "vidx/codec/split_f32_sketched.hpp"
#include "vidx/common/error.hpp"
#include "vidx/common/search_limits.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx::bindings {
namespace py = pybind11;
namespace {

using Floats = py::array_t<float, py::array::c_style | py::array::forcecast>;
using Bits = py::array_t<uint64_t, py::array::c_style>;

// The codec `name` from the registry, as the concrete class a probe needs.
template <class Concrete>
std::unique_ptr<Concrete> registered(const std::string& name, size_t dim, const std::string& metric, uint64_t seed,
                                     const char* family) {
  const Metric m = parse_metric(metric) == Metric::L2 ? Metric::L2 : Metric::IP;
  std::unique_ptr<Codec> codec = make_codec(name, dim, m, seed);
  auto* concrete = dynamic_cast<Concrete*>(codec.get());
  if (!concrete) throw InvalidArgument("'" + name + "' is not " + family + " codec");
  codec.release();
  return std::unique_ptr<Concrete>(concrete);
}

// Rows to encode and queries to compare them with: 2-d, non-empty, the same number of columns.
struct ProbeInput {
  Floats data, queries;
  size_t n, dim, nq;

  ProbeInput(Floats d, Floats q) : data(std::move(d)), queries(std::move(q)) {
    if (data.ndim() != 2 || data.shape(0) == 0) throw InvalidArgument("data must be a non-empty 2-d array");
    n = data.shape(0);
    dim = data.shape(1);
    if (queries.ndim() != 2 || static_cast<size_t>(queries.shape(1)) != dim)
      throw InvalidArgument("queries must be a 2-d array with " + std::to_string(dim) + " columns");
    nq = queries.shape(0);
  }
  const float* row(size_t i) const { return data.data() + i * dim; }
  const float* query(size_t j) const { return queries.data() + j * dim; }
};

// Every row of the input encoded, and a pointer to each code.
struct Encoded {
  std::vector<uint8_t> codes;
  std::vector<const uint8_t*> ptrs;

  Encoded(const Codec& codec, const ProbeInput& in, uint8_t* into = nullptr) : ptrs(in.n) {
    const size_t cs = codec.code_size();
    if (!into) {
      codes.resize(in.n * cs);
      into = codes.data();
    }
    for (size_t i = 0; i < in.n; ++i) {
      codec.encode(in.row(i), into + i * cs);
      ptrs[i] = into + i * cs;
    }
  }
};

// (nq, n): for each query, distances to every code with the QueryDistance `prepare` gives.
template <class Prepare>
py::array_t<float> distance_matrix(const ProbeInput& in, const Encoded& enc, Prepare prepare) {
  py::array_t<float> out({in.nq, in.n});
  for (size_t j = 0; j < in.nq; ++j) prepare(in.query(j))->batch(enc.ptrs.data(), in.n, out.mutable_data() + j * in.n);
  return out;
}

// distance_between(row 0, row i) for every i.
py::array_t<float> between_first(const Codec& codec, const Encoded& enc) {
  py::array_t<float> out(enc.ptrs.size());
  for (size_t i = 0; i < enc.ptrs.size(); ++i) out.mutable_data()[i] = codec.distance_between(enc.ptrs[0], enc.ptrs[i]);
  return out;
}

// Trains an LVQ codec on `data`, encodes it and returns, per row: the full decode, the
// primary-only decode, delta and bias (and the learnt mean); and, per (query, row): the primary distance (prepare),
// the precise distance, the re-scored walk's distance (prepare_reranked_walk) and
// distance_between(row 0, row).
py::dict lvq_probe(const std::string& name, const std::string& metric, const std::string& level, Floats data,
                   Floats queries) {
  const ProbeInput in(std::move(data), std::move(queries));
  auto codec = registered<LvqCodec>(name, in.dim, metric, 0, "an LVQ");
  codec->use_kernels(*lvq::kernels_for(runnable_level(level)));
  codec->train(in.data.data(), in.n);
  const Encoded enc(*codec, in);
  py::array_t<float> full({in.n, in.dim}), primary({in.n, in.dim}), delta(in.n), bias(in.n);
  for (size_t i = 0; i < in.n; ++i) {
    codec->decode(enc.ptrs[i], full.mutable_data() + i * in.dim);
    codec->decode_primary(enc.ptrs[i], primary.mutable_data() + i * in.dim);
    delta.mutable_data()[i] = codec->delta(enc.ptrs[i]);
    bias.mutable_data()[i] = codec->bias(enc.ptrs[i]);
  }
  py::dict out;
  out["code_size"] = codec->code_size();
  out["exponent"] = codec->scale_exponent();
  out["full"] = full;
  out["primary"] = primary;
  out["delta"] = delta;
  out["bias"] = bias;
  out["mean"] = py::array_t<float>(in.dim, codec->mean().data());
  out["fast"] = distance_matrix(in, enc, [&](const float* q) { return codec->prepare(q); });
  out["precise"] = distance_matrix(in, enc, [&](const float* q) { return codec->prepare_precise(q); });
  out["walk"] = distance_matrix(in, enc, [&](const float* q) { return codec->prepare_reranked_walk(q); });
  out["between"] = between_first(*codec, enc);
  return out;
}

// Encodes `data` as float16 with the kernels of one level and returns the codes (uint16),
// the decoded rows, per (query, row) the distances of batch(), of batch_bounded() with
// `bound`, and distance_between(row 0, row).
py::dict f16_probe(const std::string& metric, const std::string& level, Floats data, Floats queries, float bound) {
  const ProbeInput in(std::move(data), std::move(queries));
  auto codec = registered<FlatF16Codec>("f16", in.dim, metric, 0, "the float16");
  codec->use_kernels(*f16k::kernels_for(runnable_level(level)));
  py::array_t<uint16_t> codes({in.n, in.dim});
  const Encoded enc(*codec, in, reinterpret_cast<uint8_t*>(codes.mutable_data()));
  py::array_t<float> decoded({in.n, in.dim}), bounded({in.nq, in.n});
  for (size_t i = 0; i < in.n; ++i) codec->decode(enc.ptrs[i], decoded.mutable_data() + i * in.dim);
  for (size_t j = 0; j < in.nq; ++j)
    codec->prepare(in.query(j))->batch_bounded(enc.ptrs.data(), in.n, bound, bounded.mutable_data() + j * in.n);
  py::dict out;
  out["codes"] = codes;
  out["decoded"] = decoded;
  out["distances"] = distance_matrix(in, enc, [&](const float* q) { return codec->prepare(q); });
  out["bounded"] = bounded;
  out["between"] = between_first(*codec, enc);
  return out;
}

// Encodes `data` as "f32_split" with the kernels of one level and returns the upper and lower
// halves (uint16 rows), the decoded rows, per (query, row) the walk's distances (batch() and
// batch_bounded() with `bound`, from the upper halves), the precise ones (both halves joined)
// and the float32 codec's with the same level's kernels, and distance_between(row 0, row).
py::dict split_probe(const std::string& metric, const std::string& level, Floats data, Floats queries, float bound) {
  const ProbeInput in(std::move(data), std::move(queries));
  auto codec = registered<SplitF32Codec>("f32_split", in.dim, metric, 0, "the split float32");
  const simd::Level l = runnable_level(level);
  codec->use_kernels(*split::kernels_for(l));
  auto f32 = registered<FlatF32Codec>("f32", in.dim, metric, 0, "the float32");
  f32->use_kernels(*simd::kernels_for(l));
  const Encoded enc(*codec, in), plain(*f32, in);
  py::array_t<uint16_t> upper({in.n, in.dim}), lower({in.n, in.dim});
  py::array_t<float> decoded({in.n, in.dim}), bounded({in.nq, in.n});
  const size_t half = codec->head_size();
  for (size_t i = 0; i < in.n; ++i) {
    std::memcpy(upper.mutable_data() + i * in.dim, enc.ptrs[i], half);
    std::memcpy(lower.mutable_data() + i * in.dim, enc.ptrs[i] + half, half);
    codec->decode(enc.ptrs[i], decoded.mutable_data() + i * in.dim);
  }
  for (size_t j = 0; j < in.nq; ++j)
    codec->prepare(in.query(j))->batch_bounded(enc.ptrs.data(), in.n, bound, bounded.mutable_data() + j * in.n);
  py::dict out;
  out["upper"] = upper;
  out["lower"] = lower;
  out["decoded"] = decoded;
  out["walk"] = distance_matrix(in, enc, [&](const float* q) { return codec->prepare(q); });
  out["bounded"] = bounded;
  out["precise"] = distance_matrix(in, enc, [&](const float* q) { return codec->prepare_precise(q); });
  out["f32"] = distance_matrix(in, plain, [&](const float* q) { return f32->prepare(q); });
  out["between"] = between_first(*codec, enc);
  // The query values the walk multiplies by (rounded to bfloat16 where the level's kernels do).
  py::array_t<float> walk_query({in.nq, in.dim});
  for (size_t j = 0; j < in.nq; ++j)
    for (size_t d = 0; d < in.dim; ++d)
      walk_query.mutable_data()[j * in.dim + d] =
          codec->rounds_walk_query() ? split::upper_value(split::round_to_upper(in.query(j)[d])) : in.query(j)[d];
  out["walk_query"] = walk_query;
  out["walks_exactly_with_zero_tails"] = codec->walks_exactly_with_zero_tails();
  return out;
}

// Trains "f32_sketch" with `seed` on `data` (its mean), with the kernels of one level, and returns
// per (query, row) the sketch's lower bounds, the walk's batch_bounded() with `bound` (a
// screened row gets its lower bound), the walk's distances from the upper halves, and float32's
// (the re-rank's joined halves); per row the decoded vector.
py::dict sketch_probe(const std::string& metric, const std::string& level, uint64_t seed, Floats data, Floats queries,
                      float bound) {
  const ProbeInput in(std::move(data), std::move(queries));
  auto codec = registered<SketchedSplitF32Codec>("f32_sketch", in.dim, metric, seed, "the sketched split float32");
  const simd::Level l = runnable_level(level);
  codec->use_kernels(*split::kernels_for(l), binary::planes_dot_for(l));
  codec->train(in.data.data(), in.n);
  const SignSketch& sketch = codec->sketch();  // a code begins with its sketch
  const Encoded enc(*codec, in);
  py::array_t<float> lower({in.nq, in.n}), bounded({in.nq, in.n}), decoded({in.n, in.dim});
  for (size_t j = 0; j < in.nq; ++j) {
    const SignSketch::Query q = sketch.prepare(in.query(j));
    for (size_t i = 0; i < in.n; ++i) lower.mutable_data()[j * in.n + i] = sketch.lower_bound(q, enc.ptrs[i]);
    codec->prepare(in.query(j))->batch_bounded(enc.ptrs.data(), in.n, bound, bounded.mutable_data() + j * in.n);
  }
  for (size_t i = 0; i < in.n; ++i) codec->decode(enc.ptrs[i], decoded.mutable_data() + i * in.dim);
  py::dict out;
  out["lower"] = lower;
  out["bounded"] = bounded;
  out["walk"] = distance_matrix(in, enc, [&](const float* q) { return codec->prepare(q); });
  out["precise"] = distance_matrix(in, enc, [&](const float* q) { return codec->prepare_precise(q); });
  out["decoded"] = decoded;
  out["code_size"] = codec->code_size();
  out["sketch_bytes"] = sketch.bytes();
  return out;
}

// Trains a binary codec ("binary", "binary_rot", "rabitq") with `seed` on `data` and returns
// the codes' heads (uint8 rows), the rotation (d x d, empty if unrotated), per (query, row)
// the traversal distances, per row distance_between(row 0, row), with the kernels of `level`.
py::dict binary_probe(const std::string& name, const std::string& metric, uint64_t seed, const std::string& level,
                      Floats data, Floats queries) {
  const ProbeInput in(std::move(data), std::move(queries));
  auto codec = registered<BinaryCodec>(name, in.dim, metric, seed, "a binary");
  const simd::Level l = runnable_level(level);
  codec->use_kernels(binary::hamming_for(l), binary::masked_sum_for(l));
  codec->train(in.data.data(), in.n);
  const Encoded enc(*codec, in);
  const size_t hs = codec->head_size();
  py::array_t<uint8_t> heads({in.n, hs});
  for (size_t i = 0; i < in.n; ++i) std::copy(enc.ptrs[i], enc.ptrs[i] + hs, heads.mutable_data() + i * hs);
  const std::vector<float>& rotation = codec->rotation();
  py::dict out;
  out["heads"] = heads;
  out["rotation"] = py::array_t<float>(rotation.size(), rotation.data());
  out["fast"] = distance_matrix(in, enc, [&](const float* q) { return codec->prepare(q); });
  out["between"] = between_first(*codec, enc);
  out["code_size"] = codec->code_size();
  return out;
}

// One kernel applied to each row of `bits`, with the row's words as the last two arguments.
template <class Out, class Row>
py::array_t<Out> per_row(const Bits& bits, Row row) {
  const size_t n = bits.shape(0), words = bits.shape(1);
  py::array_t<Out> out(n);
  for (size_t i = 0; i < n; ++i) out.mutable_data()[i] = row(bits.data() + i * words, words);
  return out;
}

// sum of q over the set bits of each row of `bits`, with the kernel of one level.
py::array_t<float> masked_sum(const std::string& level, Floats q, Bits bits) {
  const binary::MaskedSumFn fn = binary::masked_sum_for(runnable_level(level));
  if (bits.ndim() != 2 || q.ndim() != 1 || static_cast<size_t>(q.shape(0)) != 64 * bits.shape(1))
    throw InvalidArgument("q must hold 64 floats per word of bits");
  return per_row<float>(bits, [&](const uint64_t* row, size_t words) { return fn(q.data(), row, words); });
}

// Hamming distance of row 0 of `bits` to every row, with the kernel of one level.
py::array_t<uint32_t> hamming(const std::string& level, Bits bits) {
  const binary::HammingFn fn = binary::hamming_for(runnable_level(level));
  if (bits.ndim() != 2 || bits.shape(0) == 0) throw InvalidArgument("bits must be a non-empty 2-d array");
  return per_row<uint32_t>(bits, [&](const uint64_t* row, size_t words) { return fn(bits.data(), row, words); });
}

// name -> one-line summary of every registered codec, in registry order.
py::list codec_summaries() {
  py::list out;
  for (const CodecFactory& c : codec_registry()) out.append(py::make_tuple(c.name, c.alias, c.summary));
  return out;
}

// The checks add() makes of vectors (NaN/inf, the float32 and the quant's value bounds, zero
// vectors under cosine), for a caller that must refuse rows before handing them to several
// indexes (ShardedIndex): ValueError naming the row and the column, as add() would.
void check_rows(py::handle x, size_t dim, const std::string& metric, const std::string& quant,
                bool keeps_lengths) {
  const Matrix m = as_matrix(x, dim, "vectors");
  const Metric parsed = parse_metric(metric);
  GilReleased no_gil;
  check_vectors_for(quant, parsed, m.data(), m.rows, dim, 0, keeps_lengths);
}

}  // namespace

void register_codec(py::module_& m) {
  m.def("codec_names", &codec_names, py::arg("include_aliases") = false,
        "Names of every registered codec (the quant= choices); with include_aliases their other spellings first");
  m.def("_codec_summaries", &codec_summaries, "(name, alias, summary) of every registered codec");
  m.def("_check_rows", &check_rows, py::arg("x"), py::arg("dim"), py::arg("metric"), py::arg("quant"),
        py::arg("keeps_lengths") = false,
        "Raises ValueError where add() would refuse these vectors (keeps_lengths: an index that keeps "
        "cosine lengths, as _keeps_lengths says)");
  m.def(
      "_keeps_lengths",
      [](const std::string& kind, const std::string& metric) { return kind_keeps_norms(kind, parse_metric(metric)); },
      py::arg("kind"), py::arg("metric"), "Whether an index of this kind and metric keeps its cosine rows' lengths");
  m.def(
      "_check_ids",
      [](const std::string& kind, const py::array_t<int64_t, py::array::c_style | py::array::forcecast>& ids) {
        check_ids_for(kind, ids.data(), static_cast<size_t>(ids.size()));
      },
      py::arg("kind"), py::arg("ids"), "Raises ValueError for an id an index of this kind cannot store, as its add() would");
  m.def(
      "_check_k", [](size_t k, size_t index_size) { check_k(k, index_size); }, py::arg("k"), py::arg("index_size"),
      "Raises ValueError where search() would refuse k for an index of index_size vectors");
  m.attr("_max_padded_k") = kMaxPaddedK;
  m.def("_lvq_probe", &lvq_probe, py::arg("name"), py::arg("metric"), py::arg("level"), py::arg("data"),
        py::arg("queries"));
  m.def("_f16_probe", &f16_probe, py::arg("metric"), py::arg("level"), py::arg("data"), py::arg("queries"),
        py::arg("bound") = std::numeric_limits<float>::infinity());
  m.def("_split_probe", &split_probe, py::arg("metric"), py::arg("level"), py::arg("data"), py::arg("queries"),
        py::arg("bound") = std::numeric_limits<float>::infinity());
  m.def("_binary_probe", &binary_probe, py::arg("name"), py::arg("metric"), py::arg("seed"), py::arg("level"),
        py::arg("data"), py::arg("queries"));
  m.def("_sketch_probe", &sketch_probe, py::arg("metric"), py::arg("level"), py::arg("seed"), py::arg("data"),
        py::arg("queries"), py::arg("bound") = std::numeric_limits<float>::infinity());
  m.def("_masked_sum", &masked_sum, py::arg("level"), py::arg("q"), py::arg("bits"));
  m.def("_hamming", &hamming, py::arg("level"), py::arg("bits"));
}

}  // namespace vidx::bindings
