// HNSW's codec learning again as the graph outgrows the rows it learnt from
// (codec/relearning.hpp says when and why). The links stay as they are: they were chosen by the
// old codes' distances, and the nodes an index holds when it relearns are at most an eighth of
// what it will hold after the add.
#include <cstring>
#include <vector>

#include "vidx/codec/finite_codes.hpp"
#include "vidx/codec/relearning.hpp"
#include "vidx/common/zero_bytes.hpp"
#include "vidx/hnsw/hnsw_index.hpp"

namespace vidx {

bool HnswIndex::relearns_codec_before(size_t n) const {
  return learning_.due_before(*codec_, live_slots() + n);
}

void HnswIndex::relearn_codec(const float* x, size_t n, ThreadPool& pool) {
  // The caller holds the exclusive lock and no write is in flight: every slot below the count is
  // empty, live or removed (a removed node keeps its code until an add reuses its slot).
  const size_t end = count_.load();
  std::vector<uint32_t> live, coded;
  for (uint32_t s = 0; s < end; ++s) {
    const NodeState st = state(s);
    if (st == kLive) live.push_back(s);
    if (st == kLive || st == kRemoved) coded.push_back(s);
  }
  relearning::Learnt learnt = relearning::learn_again(
      options(), dim(), metric(), *codec_, kept_codec_ != nullptr, live,
      [&](uint32_t slot, float* out) { vector_of(slot, out); }, x, n);
  if (!learnt.codec) {
    learning_.learnt_from = learnt.rows;
    return;
  }
  // Into copies: should encoding fail partway (memory), the index keeps its codec and codes whole,
  // and the relearning stays due.
  AlignedBuffer heads(heads_.size()), tails(tails_.size());
  if (heads_.size()) std::memcpy(heads.data(), heads_.data(), heads_.size());
  if (tails_.size()) std::memcpy(tails.data(), tails_.data(), tails_.size());
  const size_t cs = learnt.codec->code_size();
  pool.parallel_for(
      coded.size(),
      [&](size_t i, size_t) {
        thread_local std::vector<float> row;
        thread_local std::vector<uint8_t> whole;
        row.resize(dim());
        whole.resize(cs);
        const uint32_t slot = coded[i];
        vector_of(slot, row.data());
        // A stale code that decodes to NaN or infinity is left as it is (no search reads it).
        if (!exponents_finite<uint32_t>(reinterpret_cast<const uint8_t*>(row.data()), dim(), kF32ExponentBits)) return;
        learnt.codec->encode(row.data(), whole.data());
        std::memcpy(heads.data() + static_cast<size_t>(slot) * head_stride_, whole.data(), head_size_);
        if (tail_size_)
          std::memcpy(tails.data() + static_cast<size_t>(slot) * tail_size_, whole.data() + head_size_, tail_size_);
      },
      256);
  heads_ = std::move(heads);
  tails_ = std::move(tails);
  codec_ = std::move(learnt.codec);
  learning_.learnt_from = learnt.rows;
  if (tails_all_zero_.load())
    for (const uint32_t s : coded)
      if (!all_zero_bytes(tail(s), tail_size_)) {
        tails_all_zero_.store(false);
        break;
      }
}

}  // namespace vidx
