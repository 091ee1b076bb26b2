// What one SPANN search holds: a fixed page buffer, a bounded set of the ids already scored,
// the best candidates so far (with their head codes when tails re-rank them). Contexts are
// pooled per index, so their size is what memory_usage() reports as "scratch".
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "id_table.hpp"
#include "live_store.hpp"
#include "vidx/common/id_filter.hpp"
#include "vidx/io/posting_store.hpp"
#include "vidx/spann/spann_index.hpp"

namespace vidx::spann {

// Ids already scored in this query (replicas put an id in several lists). It holds at most
// max_slots / 2 ids; past that, insert answers kUnknown and the results check duplicates.
class SeenSet {
 public:
  enum Status { kNew, kSeen, kUnknown };
  void reset(size_t expected, size_t max_slots);
  Status insert(int64_t id);
  bool saturated() const { return size_ >= limit_; }
  size_t memory_usage() const { return keys_.capacity() * 8 + used_.capacity(); }

 private:
  std::vector<int64_t> keys_;
  std::vector<uint8_t> used_;
  size_t mask_ = 0, size_ = 0, limit_ = 0;
};

// The `keep` nearest candidates (a max-heap on (distance, id)), each with the file offset of
// its tail and a copy of its head code (head_bytes; 0 when nothing is re-ranked).
class Results {
 public:
  void reset(size_t keep, size_t head_bytes);
  bool full() const { return heap_.size() == keep_; }
  size_t size() const { return heap_.size(); }
  float worst() const { return d_[heap_.front()]; }
  // check_duplicates: the id may already be held (the seen set overflowed).
  void offer(float d, int64_t id, uint64_t tail_at, const uint8_t* head, bool check_duplicates);
  // The held slots in ascending tail offset.
  void slots_by_tail(std::vector<uint32_t>& order) const;
  uint64_t tail_at(uint32_t slot) const { return tail_[slot]; }
  const uint8_t* head_code(uint32_t slot) const { return heads_.data() + size_t(slot) * head_bytes_; }
  void set_distance(uint32_t slot, float d) { d_[slot] = d; }
  // The k nearest, ascending, padded with +inf / -1.
  void write_sorted(size_t k, float* distances, int64_t* ids);
  size_t memory_usage() const;

 private:
  bool less(uint32_t a, uint32_t b) const { return d_[a] < d_[b] || (d_[a] == d_[b] && id_[a] < id_[b]); }
  size_t keep_ = 0, head_bytes_ = 0;
  std::vector<float> d_;
  std::vector<int64_t> id_;
  std::vector<uint64_t> tail_;
  std::vector<uint8_t> heads_;
  std::vector<uint32_t> heap_;
  // The held ids, for the duplicate check once the seen set is full: made on its first need,
  // then kept up to date. Scanning the pool for every offer cost a search of k=100 binary
  // postings at nprobe 1,000 640 ms (a pool of 25,600; a review's probe).
  IdTable held_ids_;
  bool ids_indexed_ = false;
};

// Most waves of list reads a search keeps in flight.
constexpr size_t kMaxReadSlots = 4;

struct SpannIndex::Context {
  io::PageBuffer pages;  // `capacity` bytes, page-aligned, in `slots` equal slots
  size_t capacity = 0;
  size_t slots = 2;
  std::vector<float> head_d;
  std::vector<int64_t> head_i;
  SeenSet seen;
  Results results;
  std::vector<const uint8_t*> codes;  // a list's new entries, scored in one batch
  std::vector<int64_t> code_ids;
  std::vector<uint32_t> code_pos;
  std::vector<float> code_d;
  std::vector<uint32_t> order;
  std::vector<uint64_t> window_pages;
  size_t memory_usage() const;
};

// One query's reads: waves of lists through the slots of the context's buffer, then the
// tail pages of the candidates.
struct SearchStream {
  SearchStream(const io::PostingReader& postings_in, PreadPool& io_in, SpannIndex::Context& ctx_in)
      : postings(postings_in), io(io_in), ctx(ctx_in) {}

  const io::PostingReader& postings;
  PreadPool& io;
  SpannIndex::Context& ctx;
  const RowFilter* filter = nullptr;    // ids a result may have (null: any)
  const Liveness* liveness = nullptr;  // stale entries to skip (null: none)
  std::vector<uint32_t> probe;  // lists to read, nearest head first
  std::vector<uint32_t> wave_lists;
  std::vector<size_t> wave_at;
  uint64_t bytes_read = 0, tail_bytes_read = 0;

  void scan(const QueryDistance& qd, size_t entry_bytes, bool keep_tails);
  void rerank_tails(const QueryDistance& precise);

 private:
  size_t submit_wave(size_t first, uint8_t* slot, size_t slot_bytes, ReadBatch& batch);
  void score_list(uint32_t list, const uint8_t* pages, const QueryDistance& qd, size_t entry_bytes, bool keep_tails);
  void read_pages(const std::vector<uint64_t>& pages);
  // FileFormatError naming the entry of `list` (or the tail at byte `at`) whose stored values
  // scored NaN or infinity.
  [[noreturn]] void refuse_non_finite(uint32_t list, uint32_t entry) const;
  [[noreturn]] void refuse_non_finite_tail(uint64_t at) const;
};

}  // namespace vidx::spann
