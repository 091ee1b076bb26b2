#include "vidx/flat/flat_index.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "vidx/common/error.hpp"
#include "vidx/common/topk.hpp"
#include "vidx/io/byte_stream.hpp"
#include "vidx/io/index_file.hpp"

namespace vidx {
namespace {

constexpr uint32_t kCodesSection = io::fourcc("CODE");
constexpr size_t kBlock = 256;  // codes per batch-kernel call

}  // namespace

FlatIndex::FlatIndex(size_t dim, Metric metric, const IndexOptions& options)
    : VectorIndex(dim, metric, options), codec_(make_codec(options.quant, dim, metric, options.seed)) {}

void FlatIndex::add_rows(const float* x, size_t n, ThreadPool& pool) {
  if (codec_->needs_training()) codec_->train(x, n);
  const size_t cs = codec_->code_size();
  // Geometric growth keeps repeated small adds linear overall.
  const size_t needed = (count_ + n) * cs;
  if (needed > codes_.size()) codes_.reallocate(std::max(needed, codes_.size() + codes_.size() / 2));
  uint8_t* base = codes_.data() + count_ * cs;
  pool.parallel_for(n, [&](size_t i, size_t) { codec_->encode(x + i * dim(), base + i * cs); }, 1024);
  count_ += n;
}

void FlatIndex::search_one(const float* q, size_t k, size_t rerank, float* distances, int64_t* slots) const {
  const auto qd = codec_->prepare(q);
  const size_t cs = codec_->code_size();
  // A two-level codec scans with its compact level and re-scores the best `rerank`.
  const size_t kept = codec_->reranks() ? std::max(k, rerank ? rerank : k) : k;
  TopK top(kept);
  const uint8_t* ptrs[kBlock];
  float dist[kBlock];
  for (size_t start = 0; start < count_; start += kBlock) {
    const size_t m = std::min(kBlock, count_ - start);
    for (size_t j = 0; j < m; ++j) ptrs[j] = codes_.data() + (start + j) * cs;
    qd->batch(ptrs, m, dist);
    for (size_t j = 0; j < m; ++j)
      if (dist[j] <= top.threshold()) top.push(dist[j], static_cast<uint32_t>(start + j));
  }
  std::vector<Neighbor> best = top.sorted();
  if (codec_->reranks()) {
    const auto precise = codec_->prepare_precise(q);
    for (Neighbor& n : best) n.distance = precise->one(codes_.data() + n.slot * cs);
    std::sort(best.begin(), best.end(), closer);
  }
  for (size_t j = 0; j < k; ++j) {
    if (j < best.size()) {
      distances[j] = best[j].distance;
      slots[j] = best[j].slot;
    } else {
      distances[j] = std::numeric_limits<float>::infinity();
      slots[j] = -1;
    }
  }
}

void FlatIndex::search_rows(const float* q, size_t nq, size_t k, const SearchParams& params, float* distances,
                            int64_t* slots, ThreadPool& pool) const {
  pool.parallel_for(nq, [&](size_t i, size_t) {
    search_one(q + i * dim(), k, params.rerank, distances + i * k, slots + i * k);
  });
}

void FlatIndex::write_sections(io::IndexFileWriter& out) const {
  io::ByteWriter params;
  codec_->save_parameters(params);
  out.add_section(io::fourcc("CDEC"), params.take());
  out.add_section_view(kCodesSection, codes_.data(), count_ * codec_->code_size());
}

void FlatIndex::read_sections(const io::IndexFileReader& in) {
  io::ByteReader params = in.reader(io::fourcc("CDEC"));
  codec_ = load_codec(codec_->name(), dim(), metric(), params);
  const io::Span codes = in.section(kCodesSection);
  const size_t cs = codec_->code_size();
  if (codes.size % cs != 0)
    throw FileFormatError(in.path() + ": code section size " + std::to_string(codes.size) +
                          " is not a multiple of the code size " + std::to_string(cs));
  count_ = codes.size / cs;
  codes_.reallocate(codes.size);
  if (codes.size) std::memcpy(codes_.data(), codes.data, codes.size);
}

}  // namespace vidx
