// HNSW's codec learning again as the graph outgrows the rows it learnt from
// (codec/relearning.hpp says when and why). The links stay as they are: they were chosen by the
// old codes' distances, and the nodes an index holds when it relearns are at most an eighth of
// what it will hold after the add.
#include <cstring>
#include <vector>

#include "vidx/codec/relearning.hpp"
#include "vidx/common/zero_bytes.hpp"
#include "vidx/hnsw/hnsw_index.hpp"

namespace vidx {

bool HnswIndex::relearns_codec_before(size_t n) const {
  return codec_learns_ && !codec_->needs_training() && relearning::due(learnt_from_, live_slots() + n);
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
  // The vector a slot's code stands for: the kept float32 one where the index keeps them.
  const auto stored_vector = [&](uint32_t slot, float* out) {
    if (kept_codec_)
      std::memcpy(out, kept_.data() + static_cast<size_t>(slot) * dim() * sizeof(float), dim() * sizeof(float));
    else
      codec_->decode_split(code(slot), tail(slot), out);
  };
  relearning::Learnt learnt =
      relearning::learn_again(options(), dim(), metric(), *codec_, kept_codec_ != nullptr, live, stored_vector, x, n);
  learnt_from_ = learnt.rows;
  if (!learnt.codec) return;
  // Into copies: should encoding fail partway (memory), the index keeps its codec and codes whole.
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
        stored_vector(slot, row.data());
        if (!relearning::encodable(row.data(), dim())) return;
        learnt.codec->encode(row.data(), whole.data());
        std::memcpy(heads.data() + static_cast<size_t>(slot) * head_stride_, whole.data(), head_size_);
        if (tail_size_)
          std::memcpy(tails.data() + static_cast<size_t>(slot) * tail_size_, whole.data() + head_size_, tail_size_);
      },
      256);
  heads_ = std::move(heads);
  tails_ = std::move(tails);
  codec_ = std::move(learnt.codec);
  if (tails_all_zero_.load())
    for (const uint32_t s : coded)
      if (!all_zero_bytes(tail(s), tail_size_)) {
        tails_all_zero_.store(false);
        break;
      }
}

}  // namespace vidx
