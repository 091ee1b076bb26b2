// Concurrent search / add / save / set_threads on one index, for ThreadSanitizer (and ASan).
// The contract (index.hpp): any number of concurrent searches; add() excludes them while it
// runs. Every result must be sorted, hold only ids added so far, and pad only at the tail.
// Then HNSW and flat as living indexes (living): searches beside two writers, one removing
// rows and re-adding them (into the freed slots), one appending; no search may return an id
// whose removal returned before the search began (unless it was being re-added). Last, bulk
// adds (construction codes) beside small adds and searches, and f32_pca adds that widen its
// early-exit scales beside searches.
//
//   stress_concurrent [seconds] [dir] [living]   (exit 0 = no violation seen; sanitizers report
//                                                 races; "living": the living HNSW stress only)
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "vidx/index.hpp"

namespace {

constexpr size_t kDim = 16;
constexpr size_t kBatch = 50;
constexpr size_t kBatches = 40;
constexpr size_t kK = 10;

std::vector<float> random_rows(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> x(n * kDim);
  for (float& v : x) v = normal(rng);
  return x;
}

// Returns an error message, or "" when the results keep the contract.
std::string check_results(const std::vector<float>& D, const std::vector<int64_t>& I, size_t nq, int64_t max_id) {
  for (size_t q = 0; q < nq; ++q) {
    bool padding = false;
    for (size_t j = 0; j < kK; ++j) {
      const float d = D[q * kK + j];
      const int64_t id = I[q * kK + j];
      if (id == -1) {
        padding = true;
        if (!std::isinf(d)) return "padding with a finite distance";
        continue;
      }
      if (padding) return "a result after padding";
      if (id < 0 || id > max_id) return "unknown id " + std::to_string(id);
      if (j > 0 && I[q * kK + j - 1] != -1 && d < D[q * kK + j - 1]) return "results not sorted";
    }
  }
  return "";
}

int stress(const std::string& kind, std::string quant, double seconds, const std::string& dir) {
  vidx::IndexOptions options;
  options.threads = 2;
  options.quant = quant;
  options.ef_construction = 40;
  auto index = vidx::make_index(kind, kDim, vidx::Metric::L2, options);
  quant = index->options().quant;  // "" asked for the kind's default: name it in messages
  const std::vector<float> data = random_rows(kBatch * kBatches, 1);
  index->add(data.data(), kBatch, nullptr);

  std::atomic<bool> done{false};
  std::atomic<size_t> searches{0};
  std::atomic<int> failures{0};
  auto searcher = [&](uint64_t seed) {
    const std::vector<float> q = random_rows(4, seed);
    std::vector<float> D(4 * kK);
    std::vector<int64_t> I(4 * kK);
    while (!done.load()) {
      index->search(q.data(), 4, kK, 32, D.data(), I.data());
      const std::string err = check_results(D, I, 4, static_cast<int64_t>(kBatch * kBatches));
      if (!err.empty()) {
        std::fprintf(stderr, "%s/%s: %s\n", kind.c_str(), quant.c_str(), err.c_str());
        failures.fetch_add(1);
      }
      searches.fetch_add(1);
    }
  };
  std::vector<std::thread> threads;
  for (uint64_t s = 0; s < 3; ++s) threads.emplace_back(searcher, 100 + s);
  threads.emplace_back([&] {  // saves and thread-count changes race with everything else
    for (int i = 0; !done.load(); ++i) {
      index->save(dir + "/stress_" + kind + ".vidx");
      index->set_threads(1 + i % 3);
    }
  });
  // glibc's shared_mutex prefers readers: under a steady stream of searches add() may wait
  // for long (writer starvation), so the clock runs on its own thread and stops the readers.
  std::thread timer([&] {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!done.load() && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    done.store(true);
  });
  size_t batches = 1;
  for (; batches < kBatches && !done.load(); ++batches)
    index->add(data.data() + batches * kBatch * kDim, kBatch, nullptr);
  done.store(true);
  timer.join();
  for (auto& t : threads) t.join();
  std::printf("%s/%s: %zu vectors, %zu searches, %d failures\n", kind.c_str(), quant.c_str(), index->size(),
              searches.load(), failures.load());
  return failures.load();
}

// Clock of the living stress: remove / add events are numbered, searches note the number
// they started at.
struct SlotHistory {
  std::atomic<uint64_t> clock{1};
  std::vector<std::atomic<uint64_t>> removed_at, add_started_at;
  explicit SlotHistory(size_t n) : removed_at(n), add_started_at(n) {}
};

int living(const std::string& kind, std::string quant, double seconds) {
  constexpr size_t kStart = 1500, kAppend = 1500, kChurn = 25;
  vidx::IndexOptions options;
  options.threads = 2;
  options.M = 8;
  options.ef_construction = 32;
  options.quant = quant;
  auto index = vidx::make_index(kind, kDim, vidx::Metric::L2, options);
  quant = index->options().quant;  // "" asked for the kind's default: name it in messages
  const std::vector<float> data = random_rows(kStart + kAppend, 3);
  std::vector<int64_t> first(kStart);
  for (size_t s = 0; s < kStart; ++s) first[s] = static_cast<int64_t>(s);
  index->add(data.data(), kStart, first.data());
  SlotHistory history(kStart + kAppend);

  std::atomic<bool> done{false};
  std::atomic<size_t> searches{0}, removes{0}, adds{0};
  std::atomic<int> failures{0};
  auto fail = [&](const std::string& why) {
    if (failures.fetch_add(1) < 5) std::fprintf(stderr, "living %s/%s: %s\n", kind.c_str(), quant.c_str(), why.c_str());
  };
  auto searcher = [&](uint64_t seed) {
    const std::vector<float> q = random_rows(4, seed);
    std::vector<float> D(4 * kK);
    std::vector<int64_t> I(4 * kK);
    while (!done.load()) {
      const uint64_t began = history.clock.load();
      index->search(q.data(), 4, kK, 24, D.data(), I.data());
      const std::string err = check_results(D, I, 4, static_cast<int64_t>(kStart + kAppend - 1));
      if (!err.empty()) fail(err);
      for (int64_t s : I) {
        if (s < 0) continue;
        const uint64_t removed = history.removed_at[s].load();
        if (removed != 0 && removed <= began && history.add_started_at[s].load() < removed)
          fail("id " + std::to_string(s) + " returned after its removal returned");
      }
      searches.fetch_add(1);
    }
  };
  // Removes kChurn random live ids of the first kStart, then re-adds the previous batch.
  auto churner = [&] {
    std::mt19937_64 rng(5);
    std::vector<int64_t> live = first, out, back;
    while (!done.load()) {
      std::shuffle(live.begin(), live.end(), rng);
      out.assign(live.end() - kChurn, live.end());
      live.resize(live.size() - kChurn);
      index->remove(out.data(), out.size());
      const uint64_t t = history.clock.fetch_add(1) + 1;
      for (int64_t s : out) history.removed_at[s].store(t);
      removes.fetch_add(out.size());
      if (!back.empty()) {
        std::vector<float> x;
        for (int64_t s : back) {
          history.add_started_at[s].store(history.clock.fetch_add(1) + 1);
          x.insert(x.end(), data.begin() + s * kDim, data.begin() + (s + 1) * kDim);
        }
        index->add(x.data(), back.size(), back.data());
        live.insert(live.end(), back.begin(), back.end());
        adds.fetch_add(back.size());
      }
      back = out;
    }
  };
  // Appends new rows, a small batch at a time, beside the churner.
  auto appender = [&] {
    for (size_t at = kStart; at < kStart + kAppend && !done.load(); at += kChurn) {
      std::vector<int64_t> ids(kChurn);
      for (size_t i = 0; i < kChurn; ++i) ids[i] = static_cast<int64_t>(at + i);
      index->add(data.data() + at * kDim, kChurn, ids.data());
      adds.fetch_add(kChurn);
    }
  };
  std::vector<std::thread> threads;
  for (uint64_t s = 0; s < 2; ++s) threads.emplace_back(searcher, 200 + s);
  threads.emplace_back(churner);
  threads.emplace_back(appender);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  done.store(true);
  for (auto& t : threads) t.join();
  std::printf("living %s/%s: %zu searches, %zu removed, %zu added, %d failures\n", kind.c_str(), quant.c_str(),
              searches.load(), removes.load(), adds.load(), failures.load());
  return failures.load();
}

}  // namespace

// Bulk adds (float32 HNSW: an add of >= 4096 rows that at least doubles the graph walks
// construction codes, and other adds wait for it at a gate): two such adds start together on an
// empty index while small adds and searches run. Every row must be in at the end.
int bulk_adds() {
  constexpr size_t kBulk = 4200, kSmall = 30, kSmallAdds = 10;
  vidx::IndexOptions options;
  options.threads = 2;
  options.M = 8;
  options.ef_construction = 24;
  auto index = vidx::make_index("hnsw", kDim, vidx::Metric::L2, options);
  const std::vector<float> data = random_rows(2 * kBulk + kSmall * kSmallAdds, 5);
  const int64_t total = static_cast<int64_t>(2 * kBulk + kSmall * kSmallAdds);
  std::atomic<int> failures{0};
  std::atomic<bool> done{false};
  auto add_range = [&](size_t first, size_t n) {
    std::vector<int64_t> ids(n);
    for (size_t i = 0; i < n; ++i) ids[i] = static_cast<int64_t>(first + i);
    index->add(data.data() + first * kDim, n, ids.data());
  };
  std::thread searcher([&] {
    uint64_t seed = 100;
    while (!done.load()) {
      const std::vector<float> q = random_rows(4, ++seed);
      std::vector<float> D(4 * kK);
      std::vector<int64_t> I(4 * kK);
      index->search(q.data(), 4, kK, vidx::SearchParams{}, D.data(), I.data());
      const std::string err = check_results(D, I, 4, total - 1);
      if (!err.empty() && failures.fetch_add(1) < 5) std::fprintf(stderr, "bulk: %s\n", err.c_str());
    }
  });
  std::thread first([&] { add_range(0, kBulk); });
  std::thread second([&] { add_range(kBulk, kBulk); });
  std::thread small([&] {
    for (size_t a = 0; a < kSmallAdds; ++a) add_range(2 * kBulk + a * kSmall, kSmall);
  });
  first.join();
  second.join();
  small.join();
  done = true;
  searcher.join();
  if (index->size() != static_cast<size_t>(total)) {
    std::fprintf(stderr, "bulk: %zu rows, expected %lld\n", index->size(), static_cast<long long>(total));
    failures.fetch_add(1);
  }
  std::printf("bulk adds: %zu rows, %d violations\n", index->size(), failures.load());
  return failures.load() ? 1 : 0;
}

// f32_pca: a first add that learns a rotation, then adds on two threads, of 1000 rows on one
// and of 100 on the other (pooled until they make 1000), each widening the early-exit scales
// (F32PcaCodec::observe) while searches read them.
int pca_scales() {
  constexpr size_t kWide = 128, kFirst = 1200, kLater = 1000, kLaterAdds = 4, kSmall = 100;
  vidx::IndexOptions options;
  options.threads = 2;
  options.M = 8;
  options.ef_construction = 24;
  options.quant = "f32_pca";
  auto index = vidx::make_index("hnsw", kWide, vidx::Metric::L2, options);
  // Rows in 12 directions plus a little noise, so the codec rotates (a flat spectrum would not).
  const size_t total = kFirst + 2 * kLater * kLaterAdds;
  std::mt19937_64 rng(9);
  std::normal_distribution<float> normal;
  std::vector<float> directions(12 * kWide), data(total * kWide);
  for (float& v : directions) v = normal(rng);
  for (size_t i = 0; i < total; ++i)
    for (size_t c = 0; c < 12; ++c) {
      const float w = normal(rng) * (3.f - 0.2f * static_cast<float>(c));
      for (size_t j = 0; j < kWide; ++j) data[i * kWide + j] += w * directions[c * kWide + j] + 0.01f * normal(rng);
    }
  auto add_range = [&](size_t first, size_t n) {
    std::vector<int64_t> ids(n);
    for (size_t i = 0; i < n; ++i) ids[i] = static_cast<int64_t>(first + i);
    index->add(data.data() + first * kWide, n, ids.data());
  };
  add_range(0, kFirst);
  std::atomic<int> failures{0};
  std::atomic<bool> done{false};
  std::thread searcher([&] {
    for (size_t s = 0; !done.load(); ++s) {
      std::vector<float> D(2 * kK);
      std::vector<int64_t> I(2 * kK);
      index->search(data.data() + (s % kFirst) * kWide, 2, kK, vidx::SearchParams{}, D.data(), I.data());
      const std::string err = check_results(D, I, 2, static_cast<int64_t>(total) - 1);
      if (!err.empty() && failures.fetch_add(1) < 5) std::fprintf(stderr, "pca: %s\n", err.c_str());
    }
  });
  std::thread one([&] {
    for (size_t a = 0; a < kLaterAdds; ++a) add_range(kFirst + a * kLater, kLater);
  });
  std::thread two([&] {
    for (size_t a = 0; a < kLaterAdds * kLater / kSmall; ++a) add_range(kFirst + kLaterAdds * kLater + a * kSmall, kSmall);
  });
  one.join();
  two.join();
  done = true;
  searcher.join();
  if (index->size() != total) {
    std::fprintf(stderr, "pca: %zu rows, expected %zu\n", index->size(), total);
    failures.fetch_add(1);
  }
  std::printf("f32_pca adds: %zu rows, %d violations\n", index->size(), failures.load());
  return failures.load() ? 1 : 0;
}

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 10.0;
  const std::string dir = argc > 2 ? argv[2] : ".";
  const bool living_only = argc > 3 && std::string(argv[3]) == "living";
  int failures = 0;
  if (!living_only) {
    failures += stress("hnsw", "none", seconds, dir);
    failures += stress("hnsw", "", seconds, dir);  // HNSW's default codec (f32_split)
    failures += stress("hnsw", "lvq4x8", seconds, dir);
    failures += stress("flat", "binary", seconds, dir);
    failures += bulk_adds();
    failures += pca_scales();
  }
  failures += living("hnsw", "none", seconds);
  failures += living("hnsw", "", seconds);  // HNSW's default codec (f32_split)
  failures += living("flat", "none", seconds);
  failures += living("flat", "lvq8", seconds);
  std::printf(failures ? "FAILED\n" : "ok\n");
  return failures ? 1 : 0;
}
