// SPANN build phases 1-3: a sample of the rows, the heads chosen from it, their graph.
#include <algorithm>

#include "build_phases.hpp"
#include "vidx/common/error.hpp"
#include "vidx/common/rng.hpp"
#include "vidx/spann/balanced_kmeans.hpp"

namespace vidx::spann {
namespace {

// How many rows to cluster: all that fit in what the budget leaves (or options.sample).
size_t sample_size(const BuildContext& b) {
  if (b.options.spann.sample) return std::min(b.options.spann.sample, b.n);
  const uint64_t fixed = b.heads_target * (b.dim * 4 + 8 * b.options.M + 64) * 2 +
                         uint64_t(b.n) * b.options.spann.replicas * 16 + b.n + b.chunk_bytes;
  const uint64_t room = b.budget > fixed ? (b.budget - fixed) * 6 / 10 : 0;
  return static_cast<size_t>(std::min<uint64_t>(b.n, room / (b.dim * 4 + 48)));
}

// Exactly s rows, each equally likely (selection sampling), in row order.
std::vector<float> read_sample(BuildContext& b, size_t s) {
  std::vector<float> sample(s * b.dim);
  b.mem.add(sample.size() * 4);
  std::vector<float> buf(b.chunk * b.dim);
  Rng rng(b.options.seed ^ 0xC0FFEEull);
  size_t taken = 0;
  for (size_t begin = 0; begin < b.n && taken < s; begin += b.chunk) {
    const size_t c = std::min(b.chunk, b.n - begin);
    if (s == b.n) {
      b.read_rows(begin, c, sample.data() + begin * b.dim);
      taken += c;
    } else {
      b.read_rows(begin, c, buf.data());
      for (size_t r = 0; r < c && taken < s; ++r)
        if (rng.below(b.n - (begin + r)) < s - taken) {
          std::copy_n(buf.data() + r * b.dim, b.dim, sample.data() + taken * b.dim);
          ++taken;
        }
    }
    b.report("sample", std::min(b.n, begin + c), b.n);
  }
  return sample;
}

std::unique_ptr<VectorIndex> index_heads(BuildContext& b, const std::vector<float>& vectors, size_t H) {
  b.report("head index", 0, H);
  IndexOptions ho;
  ho.quant = kDefaultQuant;  // float32, not HNSW's own default: the head graph SPANN was measured with
  ho.M = b.options.M;
  ho.ef_construction = b.options.ef_construction;
  ho.ef_search = b.options.ef_search;
  ho.seed = b.options.seed;
  ho.threads = b.options.threads;
  const Metric head_metric = b.metric == Metric::IP ? Metric::IP : Metric::L2;
  std::unique_ptr<VectorIndex> head = make_index("hnsw", b.dim, head_metric, ho);
  head->add(vectors.data(), H, nullptr);
  b.mem.add(head->memory_usage());
  b.report("head index", H, H);
  return head;
}

}  // namespace

Heads choose_heads(BuildContext& b, Codec& codec) {
  Heads heads;
  heads.sample = sample_size(b);
  if (heads.sample < b.heads_target && b.options.spann.sample)
    throw InvalidArgument("sample=" + std::to_string(b.options.spann.sample) + " clusters fewer rows than the " +
                          std::to_string(b.heads_target) + " heads wanted (raise sample, or leave it 0 for all that " +
                          "memory_budget allows, or lower head_ratio)");
  if (heads.sample < b.heads_target)
    throw InvalidArgument("memory_budget of " + std::to_string(b.budget) + " bytes leaves room to cluster only " +
                          std::to_string(heads.sample) + " rows, fewer than the " + std::to_string(b.heads_target) +
                          " heads wanted (raise memory_budget or lower head_ratio)");
  std::vector<float> sample = read_sample(b, heads.sample);
  const size_t s = heads.sample;
  if (codec.needs_training()) codec.train(sample.data(), s);  // the LVQ mean, a rotation...

  HeadSelectionParams hp;
  hp.heads = b.heads_target;
  hp.branch = b.options.spann.branch;
  hp.iters = b.options.spann.kmeans_iters;
  hp.seed = b.options.seed;
  b.mem.add(uint64_t(s) * 32);
  const std::vector<uint32_t> rows =
      select_heads(sample.data(), s, b.dim, hp, b.pool, [&](size_t d, size_t t) { b.report("heads", d, t); });
  b.mem.sub(uint64_t(s) * 32);
  const size_t H = rows.size();
  heads.vectors.resize(H * b.dim);
  for (size_t h = 0; h < H; ++h)
    std::copy_n(sample.data() + size_t(rows[h]) * b.dim, b.dim, heads.vectors.data() + h * b.dim);
  b.mem.add(heads.vectors.size() * 4);
  b.mem.sub(sample.size() * 4);
  std::vector<float>().swap(sample);
  heads.index = index_heads(b, heads.vectors, H);
  return heads;
}

}  // namespace vidx::spann
