#include "vidx/codec/registry.hpp"

#include <stdexcept>

#include "vidx/codec/binary.hpp"
#include "vidx/codec/f32_pca.hpp"
#include "vidx/codec/flat.hpp"
#include "vidx/codec/float16.hpp"
#include "vidx/codec/lvq.hpp"
#include "vidx/codec/split_f32.hpp"
#include "vidx/codec/split_f32_sketched.hpp"
#include "vidx/common/error.hpp"
#include "vidx/common/metric.hpp"
#include "vidx/io/byte_stream.hpp"

namespace vidx {
namespace {

template <int Primary, int Residual>
std::unique_ptr<Codec> make_lvq(size_t dim, Metric metric, uint64_t) {
  return std::make_unique<LvqCodec>(dim, metric, Primary, Residual);
}

template <bool Rotate, bool Estimate>
std::unique_ptr<Codec> make_binary(size_t dim, Metric metric, uint64_t seed) {
  return std::make_unique<BinaryCodec>(dim, metric, Rotate, Estimate, seed);
}

std::unique_ptr<Codec> make_f32(size_t dim, Metric metric, uint64_t) {
  return std::make_unique<FlatF32Codec>(dim, metric);
}

std::unique_ptr<Codec> make_f32_pca(size_t dim, Metric metric, uint64_t seed) {
  return std::make_unique<F32PcaCodec>(dim, metric, seed);
}

std::unique_ptr<Codec> make_f32_split(size_t dim, Metric metric, uint64_t) {
  return std::make_unique<SplitF32Codec>(dim, metric);
}

std::unique_ptr<Codec> make_f32_sketch(size_t dim, Metric metric, uint64_t seed) {
  return std::make_unique<SketchedSplitF32Codec>(dim, metric, seed);
}

std::unique_ptr<Codec> make_f16(size_t dim, Metric metric, uint64_t) {
  return std::make_unique<FlatF16Codec>(dim, metric);
}

// LVQ keeps each vector's bias and step as float16 (binary codes re-rank with LVQ-8): a value
// centred on the mean must stay within float16's +-65504, which values within half of it do
// whatever the mean. Beyond, the constants overflow and distances come out NaN.
constexpr float kFloat16ConstantsBound = f16::kMax / 2;

// One line per codec. The name must be what the codec's name() returns (tests check it).
const std::vector<CodecFactory> kCodecs = {
    {"f32", "none", "float32, exact", make_f32},
    {"f32_pca", "", "float32 in a principal-component basis: f32's results, far candidates rejected sooner",
     make_f32_pca},
    {"f32_split", "", "float32 as upper and lower 16-bit halves: graph walks read the upper halves, results exact",
     make_f32_split},
    {"f32_sketch", "",
     "f32_split plus a 1-bit sign sketch (4-5% more bytes): graph walks drop far candidates from the sketch, results exact",
     make_f32_sketch},
    // Beyond +-65504 float16 saturates: rows 7e4, 1e5 and 1e6 would be stored alike, and a query
    // equal to one of them would rank it last; add() refuses them as LVQ refuses its own bound.
    {"f16", "", "IEEE float16, half the bytes (values within +-65504)", make_f16, f16::kMax, true},
    {"lvq8", "", "LVQ, 8 bits per dimension", make_lvq<8, 0>, kFloat16ConstantsBound},
    {"lvq4", "", "LVQ, 4 bits per dimension", make_lvq<4, 0>, kFloat16ConstantsBound},
    {"lvq4x4", "", "LVQ, 4-bit primary level + 4-bit residual for re-ranking", make_lvq<4, 4>,
     kFloat16ConstantsBound},
    {"lvq4x8", "", "LVQ, 4-bit primary level + 8-bit residual for re-ranking", make_lvq<4, 8>,
     kFloat16ConstantsBound},
    {"lvq8x8", "", "LVQ, 8-bit primary level + 8-bit residual for re-ranking", make_lvq<8, 8>,
     kFloat16ConstantsBound},
    {"binary", "", "sign bits (Hamming distance), LVQ-8 codes for re-ranking", make_binary<false, false>,
     kFloat16ConstantsBound},
    {"binary_rot", "", "sign bits after a random rotation drawn from the seed, LVQ-8 re-ranking",
     make_binary<true, false>, kFloat16ConstantsBound},
    {"rabitq", "", "rotated sign bits with an asymmetric estimator (RaBitQ), LVQ-8 re-ranking",
     make_binary<true, true>, kFloat16ConstantsBound},
};

std::string quoted_list(const std::vector<std::string>& names) {
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "'" : ", '") + n + "'";
  return s;
}

}  // namespace

const std::vector<CodecFactory>& codec_registry() { return kCodecs; }

std::vector<std::string> codec_names(bool include_aliases) {
  std::vector<std::string> names;
  if (include_aliases)
    for (const CodecFactory& c : kCodecs)
      if (*c.alias) names.push_back(c.alias);
  for (const CodecFactory& c : kCodecs) names.push_back(c.name);
  return names;
}

const CodecFactory& find_codec(const std::string& name) {
  for (const CodecFactory& c : kCodecs)
    if (name == c.name || (*c.alias && name == c.alias)) return c;
  throw InvalidArgument("unknown quant '" + name + "' (expected one of " + quoted_list(codec_names(true)) + ")");
}

void check_vectors_for(const std::string& quant, Metric metric, const float* x, size_t n, size_t dim,
                       size_t first_row, bool keeps_lengths, float row_scale) {
  check_vectors(metric, x, n, dim, "vector", find_codec(quant).value_bound, quant, first_row, keeps_lengths,
                row_scale);
}

std::unique_ptr<Codec> make_codec(const std::string& name, size_t dim, Metric metric, uint64_t seed) {
  const CodecFactory& factory = find_codec(name);
  // Codecs get the index's metric; the Codec base records cosine as inner product.
  auto codec = factory.make(dim, metric, seed);
  // Files record name() and load_codec looks it up here: the two must agree.
  if (codec->name() != factory.name)
    throw std::logic_error(std::string("codec registry entry '") + factory.name + "' makes a codec named '" +
                           codec->name() + "'");
  return codec;
}

std::unique_ptr<Codec> load_codec(const std::string& name, size_t dim, Metric metric, io::ByteReader& in) {
  // What a seed chose (a rotation) is among the saved parameters, so no seed is needed here.
  auto codec = make_codec(name, dim, metric);
  codec->load_parameters(in);
  return codec;
}

}  // namespace vidx
