// The base's write protocol for concurrent_writes() structures (src/index_write.cpp), checked
// on a toy structure (exhaustive scan over atomically stored floats) so that only the base's
// locking and bookkeeping are under test: 2 search threads, 2 writer threads (add, remove,
// upsert on their own ids), 1 reader (get, contains, ids, size) and periodic compact().
// A search may never return an id whose remove() returned before the search began; get()
// must return the vector last written for an id. Run under ThreadSanitizer (tests/sanitize.sh
// builds it beside stress_concurrent).
//
//   living_protocol [seconds]     (exit 0 = no violation seen)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "vidx/index.hpp"

namespace {

constexpr size_t kDim = 8;
constexpr size_t kK = 10;
constexpr int64_t kIdsPerWriter = 1 << 20;

// Stores rows in slots; concurrent_writes(): add_rows/remove_rows run under a shared lock,
// so storage is sized only in reserve_rows (exclusive) and every value is an atomic.
class ToyIndex final : public vidx::VectorIndex {
 public:
  ToyIndex() : VectorIndex(kDim, vidx::Metric::L2, options()) {}
  std::string kind() const override { return "toy"; }
  size_t reserve_calls() const { return reserve_calls_; }

 protected:
  bool concurrent_writes() const override { return true; }
  void reserve_rows(size_t slot_count) override {
    ++reserve_calls_;
    if (slot_count <= slots_) return;
    std::vector<std::atomic<float>> grown(slot_count * kDim);
    for (size_t i = 0; i < slots_ * kDim; ++i) grown[i].store(values_[i].load());
    values_.swap(grown);
    slots_ = slot_count;
  }
  void add_rows(const float* x, size_t n, const uint32_t* slots, vidx::ThreadPool&, const vidx::ProgressFn&) override {
    for (size_t i = 0; i < n; ++i) {
      if (slots[i] >= slots_) throw std::logic_error("add_rows got a slot reserve_rows did not make room for");
      for (size_t d = 0; d < kDim; ++d) values_[slots[i] * kDim + d].store(x[i * kDim + d], std::memory_order_relaxed);
      size_t count = count_.load();
      while (count < slots[i] + 1u && !count_.compare_exchange_weak(count, slots[i] + 1u)) {
      }
    }
  }
  void remove_rows(const uint32_t* slots, size_t n, vidx::ThreadPool&) override {
    for (size_t i = 0; i < n; ++i)
      if (slot_is_live(slots[i])) throw std::logic_error("remove_rows got a slot still live");
  }
  bool decode_rows(const uint32_t* slots, size_t n, float* out) const override {
    for (size_t i = 0; i < n; ++i)
      for (size_t d = 0; d < kDim; ++d) out[i * kDim + d] = values_[slots[i] * kDim + d].load(std::memory_order_relaxed);
    return true;
  }
  std::vector<uint32_t> compact_rows(vidx::ThreadPool&) override {
    const size_t count = count_.load();
    std::vector<uint32_t> new_slot(count, UINT32_MAX);
    uint32_t live = 0;
    for (uint32_t s = 0; s < count; ++s) {
      if (!slot_is_live(s)) continue;
      for (size_t d = 0; d < kDim; ++d) values_[live * kDim + d].store(values_[s * kDim + d].load());
      new_slot[s] = live++;
    }
    count_ = live;
    return new_slot;
  }
  void search_rows(const float* q, size_t nq, size_t k, const vidx::SearchParams&, float* distances, int64_t* slots,
                   vidx::ThreadPool&) const override {
    const size_t count = count_.load();
    for (size_t i = 0; i < nq; ++i) {
      std::vector<std::pair<float, int64_t>> all;
      for (uint32_t s = 0; s < count; ++s) {
        if (!slot_is_live(s)) continue;
        float d2 = 0;
        for (size_t d = 0; d < kDim; ++d) {
          const float diff = q[i * kDim + d] - values_[s * kDim + d].load(std::memory_order_relaxed);
          d2 += diff * diff;
        }
        all.push_back({d2, s});
      }
      std::partial_sort(all.begin(), all.begin() + std::min(k, all.size()), all.end());
      for (size_t j = 0; j < k; ++j) {
        distances[i * k + j] = j < all.size() ? all[j].first : std::numeric_limits<float>::infinity();
        slots[i * k + j] = j < all.size() ? all[j].second : -1;
      }
    }
  }
  size_t structure_size() const override { return count_.load(); }
  size_t structure_memory() const override { return slots_ * kDim * sizeof(float); }
  void write_sections(vidx::io::IndexFileWriter&) const override {}
  void read_sections(const vidx::io::IndexFileReader&) override {}

 private:
  static vidx::IndexOptions options() {
    vidx::IndexOptions o;
    o.threads = 1;
    return o;
  }
  std::vector<std::atomic<float>> values_;
  size_t slots_ = 0;
  std::atomic<size_t> count_{0};
  std::atomic<size_t> reserve_calls_{0};
};

// The vector written for an id, derived from it (so any thread can check get()).
void vector_of(int64_t id, int version, float* out) {
  for (size_t d = 0; d < kDim; ++d) out[d] = static_cast<float>((id * 7 + static_cast<int64_t>(d) * 3 + version) % 97);
}

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 3.0;
  ToyIndex index;
  const int64_t total_ids = 2 * kIdsPerWriter;
  std::vector<std::atomic<uint64_t>> removed_at(total_ids);  // 0: not removed; else the removal's tick
  std::vector<std::atomic<int>> version(total_ids);          // upsert count: get() must match it
  std::atomic<uint64_t> tick{1};
  std::atomic<bool> stop{false};
  std::atomic<int> violations{0};
  std::atomic<size_t> searches{0}, writes{0}, reads{0};
  auto fail = [&](const std::string& what) {
    if (violations++ < 5) std::fprintf(stderr, "violation: %s\n", what.c_str());
  };

  auto writer = [&](int w) {
    std::mt19937_64 rng(w);
    const int64_t base = w * kIdsPerWriter;
    int64_t next = base;
    std::vector<int64_t> live;
    std::vector<float> x;
    while (!stop && next < base + kIdsPerWriter - 64) {
      const size_t n = 1 + rng() % 32;  // add a batch of fresh ids
      std::vector<int64_t> ids(n);
      x.resize(n * kDim);
      for (size_t i = 0; i < n; ++i) {
        ids[i] = next++;
        vector_of(ids[i], 0, &x[i * kDim]);
        live.push_back(ids[i]);
      }
      index.add(x.data(), n, ids.data());
      if (live.size() > 8 && rng() % 3 == 0) {  // upsert one live id: a new version
        const int64_t id = live[rng() % live.size()];
        const int v = version[id].load() + 1;
        x.resize(kDim);
        vector_of(id, v, x.data());
        version[id].store(v);
        index.upsert(x.data(), 1, &id);
      }
      if (live.size() > 64) {  // remove a few, forever (ids are never added again)
        std::vector<int64_t> gone;
        const size_t m = live.size() > 1000 ? 32 : 1 + rng() % 32;  // about as many as added
        for (size_t i = 0; i < m; ++i) {
          const size_t j = rng() % live.size();
          gone.push_back(live[j]);
          live[j] = live.back();
          live.pop_back();
        }
        if (index.remove(gone.data(), gone.size()) != gone.size()) fail("remove counted wrong");
        const uint64_t t = tick++;
        for (int64_t id : gone) removed_at[id].store(t);
      }
      ++writes;
    }
  };

  auto searcher = [&](int s) {
    std::mt19937_64 rng(100 + s);
    std::vector<float> q(4 * kDim), D(4 * kK);
    std::vector<int64_t> I(4 * kK);
    while (!stop) {
      for (float& v : q) v = static_cast<float>(rng() % 97);
      const uint64_t started = tick.load();
      index.search(q.data(), 4, kK, 0, D.data(), I.data());
      for (int64_t id : I) {
        if (id < -1 || id >= total_ids) fail("search returned an id never added: " + std::to_string(id));
        if (id >= 0) {
          const uint64_t at = removed_at[id].load();
          if (at != 0 && at < started) fail("search returned id " + std::to_string(id) + " removed before it began");
        }
      }
      ++searches;
    }
  };

  auto reader = [&] {
    std::mt19937_64 rng(7);
    std::vector<float> got(kDim), want(kDim);
    size_t round = 0;
    while (!stop) {
      const std::vector<int64_t> ids = index.ids();
      for (int i = 0; i < 20 && !ids.empty(); ++i) {
        const int64_t id = ids[rng() % ids.size()];
        try {
          // The writer bumps the version just before its upsert, which may land before or
          // after get(): the stored version is v - 1, v or v + 1.
          const int v = version[id].load();
          index.get(&id, 1, got.data());
          bool known = false;
          for (int u = std::max(0, v - 1); u <= v + 1; ++u) {
            vector_of(id, u, want.data());
            known = known || got == want;
          }
          if (!known) fail("get returned a vector never written for id " + std::to_string(id));
        } catch (const vidx::InvalidArgument&) {  // removed meanwhile, or mid-upsert
        }
        index.contains(id);
      }
      if (++round % 50 == 0) index.compact();
      ++reads;
    }
  };

  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) threads.emplace_back(writer, w);
  for (int s = 0; s < 2; ++s) threads.emplace_back(searcher, s);
  threads.emplace_back(reader);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& t : threads) t.join();

  // At rest: every slot live or free, nothing hidden but removed rows.
  const std::vector<int64_t> ids = index.ids();
  if (ids.size() != index.size()) fail("ids() holds " + std::to_string(ids.size()) + ", size() " + std::to_string(index.size()));
  index.compact();
  std::printf("living_protocol: %zu searches, %zu write rounds, %zu read rounds, %zu stored, %zu reserve_rows calls, "
              "%d violations\n",
              searches.load(), writes.load(), reads.load(), index.size(), index.reserve_calls(), violations.load());
  return violations == 0 ? 0 : 1;
}
