// HNSW's codec learning again as the graph outgrows the rows it learnt from
// (codec/relearning.hpp says when and why). The links stay as they are: they were chosen by the
// old codes' distances (most of the graph, where a small add brings the index to a doubling; on
// glove's natural order HNSW binary and binary_rot gain, rabitq fed in adds of 1,000 loses up to
// 0.011 at ef 64: graph.md section 57).
#include <cstring>
#include <functional>
#include <memory>
#include <vector>

#include "vidx/codec/finite_codes.hpp"
#include "vidx/codec/relearning.hpp"
#include "vidx/common/zero_bytes.hpp"
#include "vidx/hnsw/hnsw_index.hpp"

namespace vidx {

bool HnswIndex::relearns_codec_before(size_t n) const {
  return learning_.due_before(*codec_, live_slots() + n);
}

std::function<void()> HnswIndex::relearn_codec(const float* x, size_t n, ThreadPool& pool) {
  // The caller holds the write mutex with no write in flight, and the shared lock: every slot
  // below the count is empty, live or removed (a removed node keeps its code until an add reuses
  // its slot), and only searches run beside this, reading the codes it copies.
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
    return {};
  }
  // Into copies: should encoding fail partway (memory), the index keeps its codec and codes whole,
  // and the relearning stays due.
  struct Relearnt {
    std::unique_ptr<Codec> codec;
    AlignedBuffer heads, tails;
    bool tails_all_zero = true;
  };
  auto next = std::make_shared<Relearnt>();
  next->codec = std::move(learnt.codec);
  next->heads.reallocate(heads_.size());
  next->tails.reallocate(tails_.size());
  if (heads_.size()) std::memcpy(next->heads.data(), heads_.data(), heads_.size());
  if (tails_.size()) std::memcpy(next->tails.data(), tails_.data(), tails_.size());
  const Codec& codec = *next->codec;
  const size_t cs = codec.code_size();
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
        codec.encode(row.data(), whole.data());
        std::memcpy(next->heads.data() + static_cast<size_t>(slot) * head_stride_, whole.data(), head_size_);
        if (tail_size_)
          std::memcpy(next->tails.data() + static_cast<size_t>(slot) * tail_size_, whole.data() + head_size_,
                      tail_size_);
      },
      256);
  if (tails_all_zero_.load())
    for (const uint32_t s : coded)
      if (!all_zero_bytes(next->tails.data() + static_cast<size_t>(s) * tail_size_, tail_size_)) {
        next->tails_all_zero = false;
        break;
      }
  const size_t learnt_from = learnt.rows;
  return [this, next, learnt_from] {
    heads_ = std::move(next->heads);
    tails_ = std::move(next->tails);
    codec_ = std::move(next->codec);
    learning_.learnt_from = learnt_from;
    if (!next->tails_all_zero) tails_all_zero_.store(false);
  };
}

}  // namespace vidx
