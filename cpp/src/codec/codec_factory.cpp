#include "vidx/codec/codec.hpp"
#include "vidx/codec/binary.hpp"
#include "vidx/codec/flat_f16.hpp"
#include "vidx/codec/flat_f32.hpp"
#include "vidx/codec/lvq.hpp"
#include "vidx/common/error.hpp"
#include "vidx/io/byte_stream.hpp"

namespace vidx {

std::unique_ptr<Codec> make_codec(const std::string& name, size_t dim, Metric metric, uint64_t seed) {
  // Cosine reaches codecs as inner product on normalised vectors.
  const Metric m = metric == Metric::Cosine ? Metric::IP : metric;
  if (name == "f32" || name == "none") return std::make_unique<FlatF32Codec>(dim, m);
  if (name == "f16") return std::make_unique<FlatF16Codec>(dim, m);
  if (auto lvq = LvqCodec::from_name(name, dim, m)) return lvq;
  if (auto binary = BinaryCodec::from_name(name, dim, m, seed)) return binary;
  throw InvalidArgument("unknown quantization '" + name + "'");
}

std::unique_ptr<Codec> load_codec(const std::string& name, size_t dim, Metric metric, io::ByteReader& in) {
  auto codec = make_codec(name, dim, metric);
  codec->load_parameters(in);
  return codec;
}

}  // namespace vidx
