// HNSW's automatic M (M = 0): chosen once the index holds enough rows to tell how hard they are.
//
// hnsw_degree.cpp decides from the rows; here the index gathers them and, when the choice comes
// after rows were already linked (adds of fewer than kRowsToChooseDegree rows each: an embedding
// system adding in batches), lays its lists out wider and fills them. Widened alone, with the
// links kept and left to grow as later rows linked back, the graph searched as if M were 16:
// glove6b-50 (120,000 rows drawn from all of it, cosine) in adds of 5,000 reads recall@10 0.7781 /
// 0.8774 / 0.9431 at ef 16 / 32 / 64, against 0.8280 / 0.9135 / 0.9675 with M=24 given. So the add
// that widens the lists first has every list of the nodes linked before gain what a beam search
// around its node finds (ef_construction wide, as an insertion's, at least 4M), by the pass the
// revisit of older rows uses (grow_lists, hnsw_revisit.cpp): the list keeps every link it had and
// takes what the heuristic keeps beyond it, up to its new capacity, and each new link goes back as
// a reverse link. Then 0.8413 / 0.9244 / 0.9738, for a build of 13.1 s (that one add 6.6 s, beside
// searches; section 43's run: M=24 given 8.0 s; graph.md sections 43, 58). Choosing each list again
// instead, as the refine after a removal does, read 0.8331 / 0.9197 / 0.9682 but dropped links that
// only the list held to other nodes:
// 100,000 rows of 32-d Gaussian added 4,000 at a time to 100,000 easier ones, widened at 200,000,
// left 2,756 stored rows missing from their own top 10 at ef 64 and 751 at ef 512 (M=16 1,091 /
// 21; M=24 given 19 at ef 128); growing them leaves 19 at ef 64 and none at 512.
//
// A choice of the default is made again as the index grows (kDegreeRecheckGrowth): rows that arrive
// in order may read easy at first. Glove6b-50 fed in natural order in adds of 10,000 chose 16 at
// 100,000 rows and for good; it now widens to 24 at 280,000 (seed 0; 350,000 with seed 1):
// recall@10 at ef 16 / 32 / 64 0.7328 / 0.8362 / 0.9150 -> 0.8036 / 0.8905 / 0.9556 (one shuffled
// add 0.7899 / 0.8854 / 0.9505), for a feed of 48.9 s against 26.7 s (separate runs on a shared
// host; the add that widened: 22.0 s; graph.md section 58).
#include <algorithm>
#include <cstring>
#include <mutex>

#include "hnsw_degree.hpp"
#include "vidx/hnsw/hnsw_index.hpp"

namespace vidx {

bool HnswIndex::degree_due(size_t rows) const {
  if (degree_pending_) return rows >= kRowsToChooseDegree;
  return degree_checked_at_ > 0 && degree_checked_at_ < kRowsToRecheckDegree &&
         static_cast<double>(rows) >= kDegreeRecheckGrowth * static_cast<double>(degree_checked_at_);
}

void HnswIndex::plan_layout(const float* x, size_t n, ThreadPool& pool) {
  if (degree_due(live_slots() + n)) plan_degree(x, n, pool);
}

bool HnswIndex::plans_layout_before(size_t n) const { return degree_due(live_slots() + n); }

void HnswIndex::settle_layout() { apply_planned_degree(); }

void HnswIndex::plan_degree(const float* x, size_t n, ThreadPool& pool) {
  // The graph's rows, which the estimate reads with the add's: only live ones, whose codes stay
  // as they are while the caller holds the write bookkeeping lock (a slot is reused only by an
  // add that reserved it under that lock).
  std::vector<uint32_t> stored;
  const size_t end = count_.load();
  for (uint32_t s = 0; s < end; ++s)
    if (state(s) == kLive) stored.push_back(s);
  planned_degree_ = 0;
  if (stored.size() + n < kRowsToChooseDegree) return;  // still automatic, laid out for the default
  const RowSource row = [&](size_t i, float* scratch) -> const float* {
    if (i >= stored.size()) return x + (i - stored.size()) * dim();
    decode_rows(&stored[i], 1, scratch);
    return scratch;
  };
  planned_degree_ = automatic_degree(row, stored.size() + n, dim(), codec_->walk_bits(), options().seed, pool);
  planned_from_ = stored.size() + n;
}

void HnswIndex::apply_planned_degree() {
  const size_t M = planned_degree_;
  if (M == 0) return;
  planned_degree_ = 0;
  degree_pending_ = false;
  // The default is chosen again as the index grows (hnsw_degree.hpp); a wider M is for good, and
  // walks whose codes take no wider M (kMinWalkBitsToWiden) never ask again.
  const bool may_widen = codec_->walk_bits() >= kMinWalkBitsToWiden;
  degree_checked_at_ = M == kDefaultDegree && may_widen ? planned_from_ : 0;  // >= kRowsToChooseDegree
  record_degree(M);
  if (M == M_) return;
  if (capacity_ == 0) {
    set_degree(M);
    set_head_layout();
  } else {
    widen_lists(M);
    relink_below_.store(count_.load());
  }
}

void HnswIndex::relink_widened(size_t end, ThreadPool& pool, std::vector<std::unique_ptr<SearchContext>>& contexts,
                               const ProgressFn& progress) {
  end = std::min(end, count_.load());
  std::vector<GrownList> lists;
  for (uint32_t s = 0; s < end; ++s)
    if (state(s) == kLive)  // every level (not this add's reused slots)
      for (int level = 0; level <= levels_[s]; ++level) lists.push_back({s, level});
  std::lock_guard<std::mutex> one_remove(remove_mutex_);  // as a removal's refine runs
  // A report that stops the add (Ctrl-C, a callback that raises) takes effect once every list has
  // grown: a relinking left partway would have to be kept for a later add through compact()
  // (which renumbers the slots) and saves and copies (which do not hold it).
  grow_lists(lists, std::max(ef_construction_, 4 * M_), SearchFrom::kNode, pool, contexts, "relink", progress);
}

void HnswIndex::widen_lists(size_t M) {
  const size_t old_M = M_;
  const size_t old_list_words = level0_list_words();
  const size_t old_stride = head_stride_;
  AlignedBuffer old_heads = std::move(heads_);
  AlignedBuffer old_links0 = std::move(links0_);
  const std::vector<uint64_t> old_offset = upper_offset_;
  const std::vector<uint32_t> old_upper = std::move(upper_);
  set_degree(M);
  set_head_layout();  // heads sit beside wider lists: their alignment may change

  const size_t end = count_.load();
  const size_t list_words = level0_list_words();
  heads_ = AlignedBuffer(capacity_ * head_stride_);  // zeroed
  links0_ = AlignedBuffer(capacity_ * list_words * sizeof(uint32_t));
  const uint32_t* old_level0 = reinterpret_cast<const uint32_t*>(old_links0.data());
  for (size_t s = 0; s < end; ++s) {
    std::memcpy(head(static_cast<uint32_t>(s)), old_heads.data() + s * old_stride, head_size_);
    const uint32_t* from = old_level0 + s * old_list_words;
    std::memcpy(links(static_cast<uint32_t>(s), 0), from, (from[0] + 1) * sizeof(uint32_t));
  }

  // Slots never used yet draw their level again for the new M; used ones keep theirs.
  size_t words = 0;
  for (size_t s = 0; s < capacity_; ++s) {
    if (s >= end) levels_[s] = static_cast<uint8_t>(sample_level(static_cast<uint32_t>(s)));
    upper_offset_[s] = words;
    words += static_cast<size_t>(levels_[s]) * (M_ + 1);
  }
  upper_.assign(words, 0);
  for (size_t s = 0; s < end; ++s)
    for (int level = 1; level <= levels_[s]; ++level) {
      const uint32_t* from = old_upper.data() + old_offset[s] + static_cast<size_t>(level - 1) * (old_M + 1);
      std::memcpy(links(static_cast<uint32_t>(s), level), from, (from[0] + 1) * sizeof(uint32_t));
    }
}

}  // namespace vidx
