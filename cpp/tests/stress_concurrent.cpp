// Concurrent search / add / save / set_threads on one index, for ThreadSanitizer (and ASan).
// The contract (index.hpp): any number of concurrent searches; add() excludes them while it
// runs. Every result must be sorted, hold only ids added so far, and pad only at the tail.
// Then HNSW and flat as living indexes (living; HNSW also fed rows in runs): searches beside
// two writers, one removing rows and re-adding them (into the freed slots), one appending; no
// search may return an id whose removal returned before the search began (unless it was being
// re-added). Last, bulk adds (construction codes) beside small adds and searches, and f32_pca
// adds that widen its early-exit scales beside searches. Then adds stopped by their progress
// callback (which throws partway for about half of them) beside searches, removes and upserts,
// on f32 and LVQ graphs, and removes of the entry point between two batches of an add. Last,
// SPANN rebuilds beside searches, lookups, saves, adds and removes (spann_rebuilds).
//
//   stress_concurrent [seconds] [dir] [living|stopped|spann]   (exit 0 = no violation seen; sanitizers
//                      report races; "living": the living stress only; "stopped": the stopped adds
//                      and removes of the entry point during adds only, each random one for
//                      `seconds` (at most 3 s in a full run))
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "hnsw_test_access.hpp"
#include "vidx/common/error.hpp"
#include "vidx/index.hpp"
#include "vidx/io/positional_io.hpp"
#include "vidx/spann/spann_index.hpp"

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

// Rows in runs of `run` near-copies of a random centre: adds of them take HNSW's wider search
// for rows that come in runs (hnsw_build.cpp, kRunsSparseBeam).
std::vector<float> rows_in_runs(size_t n, size_t run, uint64_t seed) {
  std::vector<float> x = random_rows(n, seed);
  std::mt19937_64 rng(seed + 1);
  std::normal_distribution<float> normal;
  for (size_t i = 0; i < n; ++i) {
    if (i % run == 0) continue;  // the run's centre
    for (size_t j = 0; j < kDim; ++j) x[i * kDim + j] = x[(i - i % run) * kDim + j] + 0.01f * normal(rng);
  }
  return x;
}

float l2(const float* a, const float* b) {
  float sum = 0.f;
  for (size_t i = 0; i < kDim; ++i) sum += (a[i] - b[i]) * (a[i] - b[i]);
  return sum;
}

// The small graph (or flat index) most scenarios race on: M=8, ef_construction 32, quick to
// build and deep enough for walks to meet writers.
std::unique_ptr<vidx::VectorIndex> small_index(const std::string& kind, const std::string& quant, size_t threads,
                                               uint64_t seed = vidx::IndexOptions{}.seed) {
  vidx::IndexOptions options;
  options.threads = threads;
  options.M = 8;
  options.ef_construction = 32;
  options.quant = quant;
  options.seed = seed;
  return vidx::make_index(kind, kDim, vidx::Metric::L2, options);
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

int living(const std::string& kind, std::string quant, double seconds, bool in_runs = false) {
  constexpr size_t kStart = 1500, kAppend = 1500, kChurn = 25;
  auto index = small_index(kind, quant, 2);
  quant = index->options().quant;  // "" asked for the kind's default: name it in messages
  const std::string label = quant + (in_runs ? " (rows in runs)" : "");
  // In runs of 5: the first add and every append (5 runs) are adds of rows in runs.
  const std::vector<float> data = in_runs ? rows_in_runs(kStart + kAppend, 5, 3) : random_rows(kStart + kAppend, 3);
  std::vector<int64_t> first(kStart);
  for (size_t s = 0; s < kStart; ++s) first[s] = static_cast<int64_t>(s);
  index->add(data.data(), kStart, first.data());
  SlotHistory history(kStart + kAppend);

  std::atomic<bool> done{false};
  std::atomic<size_t> searches{0}, removes{0}, adds{0};
  std::atomic<int> failures{0};
  auto fail = [&](const std::string& why) {
    if (failures.fetch_add(1) < 5) std::fprintf(stderr, "living %s/%s: %s\n", kind.c_str(), label.c_str(), why.c_str());
  };
  // An id's row never changes (re-adds bring the same row back), so a result's distance must
  // be that row's: a slot reused by another id while a search still held it would report the
  // new id with the old row's distance. Batches of 512 queries hold their slots longest.
  const bool exact = quant == "none" || quant == "f32" || quant == "f32_split";
  auto searcher = [&](uint64_t seed, size_t nq) {
    const std::vector<float> q = random_rows(nq, seed);
    std::vector<float> D(nq * kK);
    std::vector<int64_t> I(nq * kK);
    while (!done.load()) {
      const uint64_t began = history.clock.load();
      index->search(q.data(), nq, kK, 24, D.data(), I.data());
      const std::string err = check_results(D, I, nq, static_cast<int64_t>(kStart + kAppend - 1));
      if (!err.empty()) fail(err);
      for (size_t j = 0; j < I.size(); ++j) {
        const int64_t s = I[j];
        if (s < 0) continue;
        const uint64_t removed = history.removed_at[s].load();
        if (removed != 0 && removed <= began && history.add_started_at[s].load() < removed)
          fail("id " + std::to_string(s) + " returned after its removal returned");
        if (exact) {
          const float true_distance = l2(q.data() + (j / kK) * kDim, data.data() + s * kDim);
          if (std::fabs(D[j] - true_distance) > 1e-3f * std::max(1.f, true_distance))
            fail("id " + std::to_string(s) + " returned at " + std::to_string(D[j]) + ", its row is at " +
                 std::to_string(true_distance));
        }
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
  threads.emplace_back(searcher, 200, 4);
  threads.emplace_back(searcher, 201, 512);
  threads.emplace_back(churner);
  threads.emplace_back(appender);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  done.store(true);
  for (auto& t : threads) t.join();
  std::printf("living %s/%s: %zu searches, %zu removed, %zu added, %d failures\n", kind.c_str(), label.c_str(),
              searches.load(), removes.load(), adds.load(), failures.load());
  return failures.load();
}

// Short rows under "ip": the first adds choose the index's row scale (RowScale) under the
// exclusive lock. Several threads make first adds at once beside searches that start before any
// row is stored; afterwards every row comes back from get() exactly, and a search for it finds
// the row of the largest inner product with it (unscaled, 1 - <q, x> is 1 for every row here).
int first_adds_choose_one_scale(const std::string& kind) {
  constexpr size_t kThreads = 3, kPer = 400;
  vidx::IndexOptions options;
  options.threads = 1;
  options.M = 8;
  options.ef_construction = 32;
  options.quant = "none";
  auto index = vidx::make_index(kind, kDim, vidx::Metric::IP, options);
  std::vector<float> data = random_rows(kThreads * kPer, 17);
  for (float& v : data) v = std::ldexp(v, -30);  // lengths ~4e-9: scaled by 2^28
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  std::thread searcher([&] {
    std::vector<float> D(kK);
    std::vector<int64_t> I(kK);
    while (!done.load()) {
      index->search(data.data(), 1, kK, 32, D.data(), I.data());
      if (!check_results(D, I, 1, std::numeric_limits<int64_t>::max()).empty()) failures.fetch_add(1);
    }
  });
  std::vector<std::thread> adders;
  for (size_t t = 0; t < kThreads; ++t)
    adders.emplace_back([&, t] {
      std::vector<int64_t> ids(kPer);
      for (size_t i = 0; i < kPer; ++i) ids[i] = static_cast<int64_t>(t * kPer + i);
      index->add(data.data() + t * kPer * kDim, kPer, ids.data());
    });
  for (auto& a : adders) a.join();
  done.store(true);
  searcher.join();
  size_t exact = 0, found = 0;
  std::vector<float> row(kDim);
  for (size_t r = 0; r < kThreads * kPer; ++r) {
    const int64_t id = static_cast<int64_t>(r);
    index->get(&id, 1, row.data());
    exact += std::equal(row.begin(), row.end(), data.begin() + r * kDim);
    // The row of the largest inner product with it (exact, in double).
    int64_t best = -1;
    double best_dot = -1e300;
    for (size_t o = 0; o < kThreads * kPer; ++o) {
      double dot = 0;
      for (size_t c = 0; c < kDim; ++c) dot += static_cast<double>(data[r * kDim + c]) * data[o * kDim + c];
      if (dot > best_dot) best_dot = dot, best = static_cast<int64_t>(o);
    }
    float d;
    int64_t got;
    index->search(data.data() + r * kDim, 1, 1, 64, &d, &got);
    found += got == best;
  }
  const size_t n = kThreads * kPer;
  if (exact != n || found < n * 95 / 100) failures.fetch_add(1);
  std::printf("first adds choose one scale %s/ip: %zu of %zu rows exact, %zu find their best inner product, %d failures\n",
              kind.c_str(), exact, n, found, failures.load());
  return failures.load() ? 1 : 0;
}

// Cosine lengths (RowNorms, kept by the base under its write mutex): get() must give each id its
// row as added while adds (several at once), removes, re-adds, compactions, saves and memory
// reports run beside it. Rows have lengths 1-8, so a length read from another slot shows.
int cosine_lengths(const std::string& kind, double seconds, const std::string& dir) {
  constexpr size_t kStart = 600, kRows = 2400, kChunk = 30;
  vidx::IndexOptions options;
  options.threads = 2;
  options.M = 8;
  options.ef_construction = 32;
  auto index = vidx::make_index(kind, kDim, vidx::Metric::Cosine, options);
  std::vector<float> data = random_rows(kRows, 9);
  for (size_t r = 0; r < kRows; ++r)
    for (size_t c = 0; c < kDim; ++c) data[r * kDim + c] *= static_cast<float>(1 + r % 8);
  std::vector<int64_t> first(kStart);
  for (size_t s = 0; s < kStart; ++s) first[s] = static_cast<int64_t>(s);
  index->add(data.data(), kStart, first.data());
  std::atomic<bool> done{false};
  std::atomic<size_t> gets{0};
  std::atomic<int> failures{0};
  auto getter = [&](uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::vector<float> v(kDim);
    while (!done.load()) {
      const int64_t id = static_cast<int64_t>(rng() % kRows);
      try {
        index->get(&id, 1, v.data());
      } catch (const vidx::InvalidArgument&) {
        continue;  // not in the index now
      }
      for (size_t c = 0; c < kDim; ++c)
        if (std::fabs(v[c] - data[id * kDim + c]) > 1e-5f * (1 + std::fabs(data[id * kDim + c]))) {
          if (failures.fetch_add(1) < 5)
            std::fprintf(stderr, "cosine %s: id %lld comes back as another row\n", kind.c_str(), (long long)id);
          break;
        }
      gets.fetch_add(1);
    }
  };
  auto appender = [&](size_t from, size_t to) {
    for (size_t at = from; at < to && !done.load(); at += kChunk) {
      std::vector<int64_t> ids(kChunk);
      for (size_t i = 0; i < kChunk; ++i) ids[i] = static_cast<int64_t>(at + i);
      index->add(data.data() + at * kDim, kChunk, ids.data());
    }
  };
  auto churner = [&] {  // removes a few of the first rows and adds them back (slots reused)
    std::mt19937_64 rng(7);
    for (int round = 0; !done.load(); ++round) {
      std::vector<int64_t> out;
      for (size_t i = 0; i < 10; ++i) out.push_back(static_cast<int64_t>(rng() % kStart));
      std::sort(out.begin(), out.end());
      out.erase(std::unique(out.begin(), out.end()), out.end());
      index->remove(out.data(), out.size());
      std::vector<float> x;
      for (int64_t s : out) x.insert(x.end(), data.begin() + s * kDim, data.begin() + (s + 1) * kDim);
      index->add(x.data(), out.size(), out.data());
      if (round % 20 == 0) index->compact();
      if (round % 25 == 0) index->save(dir + "/cosine_" + kind + ".vidx");
      (void)index->memory_usage();
    }
  };
  std::vector<std::thread> threads;
  threads.emplace_back(getter, 300);
  threads.emplace_back(getter, 301);
  threads.emplace_back(appender, kStart, (kStart + kRows) / 2);
  threads.emplace_back(appender, (kStart + kRows) / 2, kRows);
  threads.emplace_back(churner);
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  done.store(true);
  for (auto& t : threads) t.join();
  std::printf("cosine lengths %s: %zu gets, %zu stored, %d failures\n", kind.c_str(), gets.load(), index->size(),
              failures.load());
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

// ---- adds stopped by their progress report (VectorIndex::add's ProgressFn) ----

struct StopAdd {};  // what the progress callbacks below throw

// A callback that throws at its `at`-th report (0: never), or at the report that says the add
// is complete when `at_end`; counts the reports it saw.
struct StopAt {
  size_t at = 0;
  bool at_end = false;
  size_t calls = 0;
  vidx::ProgressFn fn() {
    return [this](const std::string&, size_t done, size_t total) {
      ++calls;
      if ((at != 0 && calls == at) || (at_end && done == total)) throw StopAdd{};
    };
  }
};

// The live ids and their vectors as the writers of stopped_adds() left them. A writer takes ids
// out (to remove or upsert them) and nobody else touches those until it puts them back.
class LiveModel {
 public:
  void put(const std::vector<int64_t>& ids, const std::vector<float>& x) {
    std::lock_guard<std::mutex> guard(mutex_);
    for (size_t i = 0; i < ids.size(); ++i) {
      order_.push_back(ids[i]);
      rows_[ids[i]].assign(x.begin() + i * kDim, x.begin() + (i + 1) * kDim);
    }
  }
  // Up to n random live ids, taken out.
  std::vector<int64_t> take(size_t n, std::mt19937_64& rng) {
    std::lock_guard<std::mutex> guard(mutex_);
    std::vector<int64_t> out;
    while (out.size() < n && !order_.empty()) {
      const size_t i = rng() % order_.size();
      const int64_t id = order_[i];
      order_[i] = order_.back();
      order_.pop_back();
      rows_.erase(id);
      out.push_back(id);
    }
    return out;
  }
  std::vector<int64_t> ids() const {
    std::lock_guard<std::mutex> guard(mutex_);
    std::vector<int64_t> out = order_;
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<float> row(int64_t id) const {
    std::lock_guard<std::mutex> guard(mutex_);
    return rows_.at(id);
  }

 private:
  mutable std::mutex mutex_;
  std::vector<int64_t> order_;
  std::unordered_map<int64_t, std::vector<float>> rows_;
};

// Several threads add to an HNSW index with progress callbacks that throw at a random report for
// about half of the adds (explicit ids, retried after a stop, and default ids), while others
// search, remove random live ids and upsert. Searches may never return an id whose stopped add
// or remove returned before they began (unless an add of it started since), and adds of default
// ids after a stopped one get the ids it gave back. Afterwards: the size and the ids are what the
// successful writes left, searches return live ids only, live rows find themselves, and a save
// loads back the same.
int stopped_adds(const std::string& quant_asked, double seconds, const std::string& dir) {
  constexpr size_t kStart = 600, kAdders = 2, kPerAdder = 20000;
  constexpr int64_t kDefaultBase = 1000000;  // default ids start here (explicit ones stay below)
  constexpr size_t kDefaultMax = 20000;
  constexpr size_t kTracked = kStart + kAdders * kPerAdder + kDefaultMax;
  const auto dense = [&](int64_t id) -> size_t {  // an id's place in the history arrays
    if (id == kDefaultBase - 1) return kStart - 1;  // the start's last row (id kStart - 1 is never used)
    return id >= kDefaultBase ? kStart + kAdders * kPerAdder + static_cast<size_t>(id - kDefaultBase)
                              : static_cast<size_t>(id);
  };
  auto index = small_index("hnsw", quant_asked, 2);
  const std::string quant = index->options().quant;
  const std::string name = "stopped adds hnsw/" + quant;
  std::atomic<int> failures{0};
  auto fail = [&](const std::string& why) {
    if (failures.fetch_add(1) < 8) std::fprintf(stderr, "%s: %s\n", name.c_str(), why.c_str());
  };

  // The first add (for LVQ: the one that trains the codec, alone under the exclusive lock)
  // stopped at its third report, then made again.
  const std::vector<float> start = random_rows(kStart, 21);
  std::vector<int64_t> start_ids(kStart);
  for (size_t i = 0; i < kStart; ++i) start_ids[i] = static_cast<int64_t>(i);
  start_ids.back() = kDefaultBase - 1;  // default ids continue from kDefaultBase
  {
    StopAt stop;
    stop.at = 3;
    try {
      index->add(start.data(), kStart, start_ids.data(), stop.fn());
      fail("the first add was not stopped");
    } catch (const StopAdd&) {
    }
    if (index->size() != 0 || index->contains(0)) fail("a stopped first add left rows");
  }
  index->add(start.data(), kStart, start_ids.data());
  LiveModel model;
  model.put(start_ids, start);

  SlotHistory history(kTracked);  // by dense(id): removed_at = stopped or removed, add_started_at
  for (int64_t id : start_ids) history.add_started_at[dense(id)].store(1);
  std::atomic<bool> done{false};
  std::atomic<size_t> searches{0}, adds_ok{0}, adds_stopped{0}, removed{0}, upserted{0}, rows_added{0};
  const auto now = [&] { return history.clock.fetch_add(1) + 1; };
  const auto gone = [&](const std::vector<int64_t>& ids) {
    const uint64_t t = now();
    for (int64_t id : ids) history.removed_at[dense(id)].store(t);
  };
  const auto starting = [&](const std::vector<int64_t>& ids) {
    for (int64_t id : ids) history.add_started_at[dense(id)].store(now());
  };
  // Half the adds stop: at a random report among the first few, or at the last one.
  const auto plan_stop = [](std::mt19937_64& rng, StopAt& stop) {
    if (rng() % 2) return;
    if (rng() % 4 == 0) stop.at_end = true;
    else stop.at = 1 + rng() % 8;
  };

  auto adder = [&](size_t t) {
    std::mt19937_64 rng(1000 + t);
    int64_t next = static_cast<int64_t>(kStart + t * kPerAdder);
    const int64_t end = next + static_cast<int64_t>(kPerAdder);
    std::vector<int64_t> retry;  // ids of stopped adds, free to use again
    while (!done.load()) {
      const size_t n = 5 + rng() % 80;
      std::vector<int64_t> ids;
      while (ids.size() < n / 2 && !retry.empty()) ids.push_back(retry.back()), retry.pop_back();
      while (ids.size() < n && next < end) ids.push_back(next++);
      if (ids.empty()) break;
      const std::vector<float> x = random_rows(ids.size(), rng());
      StopAt stop;
      plan_stop(rng, stop);
      starting(ids);
      try {
        index->add(x.data(), ids.size(), ids.data(), stop.fn());
      } catch (const StopAdd&) {
        gone(ids);
        adds_stopped.fetch_add(1);
        for (int64_t id : ids)
          if (index->contains(id)) fail("id " + std::to_string(id) + " of a stopped add is in the index");
        retry.insert(retry.end(), ids.begin(), ids.end());
        continue;
      } catch (const std::exception& e) {
        fail(std::string("add threw ") + e.what());
        continue;
      }
      adds_ok.fetch_add(1);
      rows_added.fetch_add(ids.size());
      model.put(ids, x);
    }
  };
  // Default ids: only this thread moves the next default id (explicit ids stay below it), so a
  // stopped add gives its ids back and the next add gets them.
  auto default_adder = [&] {
    std::mt19937_64 rng(2000);
    int64_t next = kDefaultBase;
    while (!done.load()) {
      const size_t n = 5 + rng() % 80;
      if (static_cast<size_t>(next - kDefaultBase) + n > kDefaultMax) break;
      std::vector<int64_t> ids(n);
      for (size_t i = 0; i < n; ++i) ids[i] = next + static_cast<int64_t>(i);
      const std::vector<float> x = random_rows(n, rng());
      StopAt stop;
      plan_stop(rng, stop);
      starting(ids);
      try {
        index->add(x.data(), n, nullptr, stop.fn());
      } catch (const StopAdd&) {
        gone(ids);
        adds_stopped.fetch_add(1);
        if (index->contains(next)) fail("default id " + std::to_string(next) + " of a stopped add is in the index");
        continue;
      } catch (const std::exception& e) {
        fail(std::string("default add threw ") + e.what());
        continue;
      }
      if (!index->contains(next) || !index->contains(next + static_cast<int64_t>(n) - 1) ||
          index->contains(next + static_cast<int64_t>(n)))
        fail("an add of " + std::to_string(n) + " default ids did not get " + std::to_string(next) + ".." +
             std::to_string(next + static_cast<int64_t>(n) - 1) + " (ids of a stopped add not given back?)");
      next += static_cast<int64_t>(n);
      adds_ok.fetch_add(1);
      rows_added.fetch_add(n);
      model.put(ids, x);
    }
  };
  auto remover = [&] {
    std::mt19937_64 rng(3000);
    while (!done.load()) {
      const std::vector<int64_t> ids = model.take(1 + rng() % 20, rng);
      if (ids.empty()) continue;
      try {
        const size_t went = index->remove(ids.data(), ids.size());
        if (went != ids.size()) fail("remove of live ids removed " + std::to_string(went) + " of " + std::to_string(ids.size()));
      } catch (const std::exception& e) {
        fail(std::string("remove threw ") + e.what());
      }
      gone(ids);
      removed.fetch_add(ids.size());
    }
  };
  auto upserter = [&] {
    std::mt19937_64 rng(4000);
    while (!done.load()) {
      const std::vector<int64_t> ids = model.take(1 + rng() % 10, rng);
      if (ids.empty()) continue;
      const std::vector<float> x = random_rows(ids.size(), rng());
      starting(ids);
      try {
        index->upsert(x.data(), ids.size(), ids.data());
      } catch (const std::exception& e) {
        fail(std::string("upsert threw ") + e.what());
      }
      upserted.fetch_add(ids.size());
      model.put(ids, x);
    }
  };
  auto searcher = [&](uint64_t seed) {
    std::vector<float> D(4 * kK);
    std::vector<int64_t> I(4 * kK);
    for (uint64_t round = 0; !done.load(); ++round) {
      const std::vector<float> q = random_rows(4, seed * 1000003 + round);
      const uint64_t began = history.clock.load();
      index->search(q.data(), 4, kK, 32, D.data(), I.data());
      const std::string err = check_results(D, I, 4, std::numeric_limits<int64_t>::max());
      if (!err.empty()) fail(err);
      for (int64_t id : I) {
        if (id < 0) continue;
        if (id >= kDefaultBase + static_cast<int64_t>(kDefaultMax) ||
            (id >= static_cast<int64_t>(kStart + kAdders * kPerAdder) && id < kDefaultBase - 1)) {
          fail("unknown id " + std::to_string(id));
          continue;
        }
        const size_t s = dense(id);
        const uint64_t started = history.add_started_at[s].load(), gone_at = history.removed_at[s].load();
        if (started == 0) fail("id " + std::to_string(id) + " returned before any add of it started");
        else if (gone_at != 0 && gone_at <= began && started < gone_at)
          fail("id " + std::to_string(id) + " returned after its stopped add or remove returned");
      }
      searches.fetch_add(1);
    }
  };

  std::vector<std::thread> threads;
  for (size_t t = 0; t < kAdders; ++t) threads.emplace_back(adder, t);
  threads.emplace_back(default_adder);
  threads.emplace_back(remover);
  threads.emplace_back(upserter);
  for (uint64_t s = 0; s < 2; ++s) threads.emplace_back(searcher, 300 + s);
  // A hang (a lock cycle through the progress path) fails the run instead of stalling it.
  std::atomic<bool> joined{false};
  std::thread watchdog([&] {
    const auto limit = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds + 180);
    while (!joined.load() && std::chrono::steady_clock::now() < limit)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!joined.load()) {
      std::fprintf(stderr, "%s: threads still running 120 s after they were told to stop: deadlock?\n", name.c_str());
      std::fflush(stderr);
      std::abort();
    }
  });
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  // On a slow or busy machine (TSan) the writers may have done little yet: they go on until each
  // kind of write happened a few times (within a minute more).
  const auto grace = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while ((adds_ok.load() < 4 || adds_stopped.load() < 4 || removed.load() == 0 || upserted.load() == 0) &&
         std::chrono::steady_clock::now() < grace)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  done.store(true);
  for (auto& t : threads) t.join();
  joined.store(true);
  watchdog.join();

  // What the writers left.
  const std::vector<int64_t> live = model.ids();
  if (live.size() != kStart + rows_added.load() - removed.load())
    fail("model: " + std::to_string(live.size()) + " live ids against " + std::to_string(kStart) + " + " +
         std::to_string(rows_added.load()) + " added - " + std::to_string(removed.load()) + " removed");
  if (index->size() != live.size())
    fail("size " + std::to_string(index->size()) + ", expected " + std::to_string(live.size()));
  std::vector<int64_t> stored = index->ids();
  std::sort(stored.begin(), stored.end());
  if (stored != live) fail("ids() differ from the live ids");
  const std::set<int64_t> live_set(live.begin(), live.end());
  // Searches return live ids only, k of them.
  {
    const size_t nq = 200;
    const std::vector<float> q = random_rows(nq, 77);
    std::vector<float> D(nq * kK);
    std::vector<int64_t> I(nq * kK);
    index->search(q.data(), nq, kK, 64, D.data(), I.data());
    const std::string err = check_results(D, I, nq, std::numeric_limits<int64_t>::max());
    if (!err.empty()) fail("after: " + err);
    size_t dead = 0, short_of_k = 0;
    for (int64_t id : I) {
      if (id < 0) ++short_of_k;
      else if (!live_set.count(id)) ++dead;
    }
    if (dead) fail("after: " + std::to_string(dead) + " results name ids that are not live");
    if (short_of_k) fail("after: " + std::to_string(short_of_k) + " results missing (" + std::to_string(live.size()) + " live)");
  }
  // Each live row finds itself at k=1 (a sample, generous ef).
  size_t sampled = 0, found_self = 0;
  for (size_t i = 0; i < live.size(); i += std::max<size_t>(1, live.size() / 500)) {
    const std::vector<float> x = model.row(live[i]);
    float d;
    int64_t id;
    index->search(x.data(), 1, 1, 128, &d, &id);
    ++sampled;
    found_self += id == live[i];
  }
  const double self_rate = sampled ? static_cast<double>(found_self) / sampled : 1.0;
  if (self_rate < 0.95) {
    // Tell a broken graph (nodes level 0 no longer reaches) from broken codes (stored vectors
    // that are not the rows added).
    const vidx::HnswTestAccess::Reach reach = vidx::HnswTestAccess::reachability(*index);
    size_t wrong_vectors = 0;
    std::vector<float> stored_row(kDim);
    for (const int64_t id : live) {
      const std::vector<float> x = model.row(id);
      index->get(&id, 1, stored_row.data());
      if (l2(x.data(), stored_row.data()) > 0.05f * kDim) ++wrong_vectors;
    }
    fail("only " + std::to_string(found_self) + " of " + std::to_string(sampled) +
         " live rows find themselves at k=1; graph: " + std::to_string(reach.unreachable) + " of " +
         std::to_string(reach.live) + " live nodes unreachable from the entry on level 0, " +
         std::to_string(reach.dead_links) + " level-0 links to slots not live, entry state " +
         std::to_string(reach.entry_state) + " level " + std::to_string(reach.entry_level) + " of top " +
         std::to_string(reach.top_level) + "; " + std::to_string(wrong_vectors) +
         " live ids whose stored vector is not their row");
  }
  // A save loads back with the same rows and answers.
  const std::string path = dir + "/stress_stopped_" + quant + ".vidx";
  index->save(path);
  auto again = vidx::load_index(path);
  if (again->size() != index->size()) fail("the saved index loads with " + std::to_string(again->size()) + " rows");
  std::vector<int64_t> loaded = again->ids();
  std::sort(loaded.begin(), loaded.end());
  if (loaded != live) fail("the saved index loads with other ids");
  {
    const std::vector<float> q = random_rows(20, 78);
    std::vector<float> D1(20 * kK), D2(20 * kK);
    std::vector<int64_t> I1(20 * kK), I2(20 * kK);
    index->search(q.data(), 20, kK, 64, D1.data(), I1.data());
    again->search(q.data(), 20, kK, 64, D2.data(), I2.data());
    if (I1 != I2) fail("the loaded index answers otherwise");
  }
  std::remove(path.c_str());
  std::printf("%s: %zu adds, %zu stopped, %zu removed, %zu upserted, %zu searches, %zu live, self-found %.3f, "
              "%d failures\n",
              name.c_str(), adds_ok.load(), adds_stopped.load(), removed.load(), upserted.load(), searches.load(),
              live.size(), self_rate, failures.load());
  if (adds_ok.load() == 0 || adds_stopped.load() == 0 || removed.load() == 0 || upserted.load() == 0)
    fail("a writer did nothing");
  return failures.load() ? 1 : 0;
}

// A remove that takes out the entry point while an add is between two insertion batches moves
// the entry onto the highest node left, which may be a node of that add not linked yet; the
// add is then stopped. One node in the index, an add of 200 (one node a batch at this size).
int stopped_add_after_entry_removed(const std::string& quant) {
  auto index = small_index("hnsw", quant, 1);
  const std::vector<float> first = random_rows(1, 31), a = random_rows(200, 32), b = random_rows(100, 33);
  const int64_t zero = 0;
  index->add(first.data(), 1, &zero);
  std::vector<int64_t> a_ids(200), b_ids(100);
  for (size_t i = 0; i < a_ids.size(); ++i) a_ids[i] = 1 + static_cast<int64_t>(i);
  for (size_t i = 0; i < b_ids.size(); ++i) b_ids[i] = 1000 + static_cast<int64_t>(i);
  bool removed = false;
  const vidx::ProgressFn progress = [&](const std::string&, size_t, size_t) {
    std::thread remover([&] { removed = index->remove(&zero, 1) == 1; });
    remover.join();
    throw StopAdd{};
  };
  int failures = 0;
  try {
    index->add(a.data(), a_ids.size(), a_ids.data(), progress);
    ++failures;
  } catch (const StopAdd&) {
  }
  failures += !removed || index->size() != 0;
  index->add(b.data(), b_ids.size(), b_ids.data());
  size_t found_self = 0;
  for (size_t i = 0; i < b_ids.size(); ++i) {
    float d;
    int64_t id;
    index->search(b.data() + i * kDim, 1, 1, 64, &d, &id);
    found_self += id == b_ids[i];
  }
  failures += found_self < 95;
  std::printf("stopped add after entry removed hnsw/%s: %zu of 100 rows added after find themselves, %d failures\n",
              index->options().quant.c_str(), found_self, failures);
  return failures ? 1 : 0;
}

// A remove between two insertion batches of an add that goes on (not stopped): the rows removed
// are every node above level 0, the entry point with them, so the only nodes left above level 0
// belong to the add, most of them not linked yet. An entry point moved onto one of those would
// have empty lists: the rest of the add would walk from it alone and link only among itself,
// cutting off the rows that were there before (a rare failure of the stopped-adds stress: 475
// of 612 live rows found themselves). Every row left must find itself afterwards.
int entry_removed_during_add(const std::string& quant, uint64_t seed) {
  auto index = small_index("hnsw", quant, 1, seed);
  constexpr size_t kOld = 400, kNew = 400;
  const std::vector<float> old_rows = random_rows(kOld, 41 + seed), new_rows = random_rows(kNew, 42 + seed);
  std::vector<int64_t> old_ids(kOld), new_ids(kNew);
  for (size_t i = 0; i < kOld; ++i) old_ids[i] = static_cast<int64_t>(i);
  for (size_t i = 0; i < kNew; ++i) new_ids[i] = 10000 + static_cast<int64_t>(i);
  index->add(old_rows.data(), kOld, old_ids.data());
  // A fresh index's first add takes slots in order: slot i holds id i.
  const std::vector<int> levels = vidx::HnswTestAccess::levels(*index);
  std::vector<int64_t> upper;
  for (size_t s = 0; s < kOld; ++s)
    if (levels[s] > 0) upper.push_back(static_cast<int64_t>(s));
  bool removed = false, onto_unlinked = false;
  size_t reports = 0;
  const vidx::ProgressFn progress = [&](const std::string&, size_t, size_t) {
    if (++reports != 1) return;
    std::thread remover([&] { removed = index->remove(upper.data(), upper.size()) == upper.size(); });
    remover.join();
    const vidx::HnswTestAccess::Entry e = vidx::HnswTestAccess::entry(*index);
    onto_unlinked = e.inserting && e.level0_links == 0;
  };
  int failures = 0;
  index->add(new_rows.data(), kNew, new_ids.data(), progress);
  std::set<int64_t> gone(upper.begin(), upper.end());
  size_t live = 0, found_self = 0;
  for (size_t i = 0; i < kOld + kNew; ++i) {
    const bool is_old = i < kOld;
    const int64_t id = is_old ? old_ids[i] : new_ids[i - kOld];
    if (gone.count(id)) continue;
    const float* x = is_old ? old_rows.data() + i * kDim : new_rows.data() + (i - kOld) * kDim;
    float d;
    int64_t got;
    index->search(x, 1, 1, 64, &d, &got);
    ++live;
    found_self += got == id;
  }
  failures += !removed || reports < 2 || found_self < live * 95 / 100;
  std::printf("entry removed during add hnsw/%s seed %llu: %zu of %zu live rows find themselves "
              "(entry %s), %d failures\n",
              index->options().quant.c_str(), static_cast<unsigned long long>(seed), found_self, live,
              onto_unlinked ? "moved onto an unlinked node" : "moved onto a linked node", failures);
  return failures ? 1 : 0;
}

// The same beside a second add: add C stops at its first report until add A's first report has
// removed the rows that were there before both (the entry point with them: it moves to the
// highest node left, most likely one of A's 2000 not linked yet); C's later batches then walk
// from there and link to it; A is stopped once C is done. C's rows must be all that is left, and
// every list sound: searches find them, the index saves and loads, compact() renumbers it.
int stopped_add_beside_add(const std::string& quant, uint64_t seed) {
  struct Flag {
    std::mutex mutex;
    std::condition_variable changed;
    bool set = false;
    void raise() {
      {
        std::lock_guard<std::mutex> guard(mutex);
        set = true;
      }
      changed.notify_all();
    }
    void wait() {
      std::unique_lock<std::mutex> guard(mutex);
      changed.wait(guard, [&] { return set; });
    }
  };
  auto index = small_index("hnsw", quant, 1, seed);  // the seed: levels, hence where the entry point moves
  std::atomic<int> failures{0};  // fail() runs on add C's thread too
  auto fail = [&](const std::string& why) {
    failures.fetch_add(1);
    std::fprintf(stderr, "stopped add beside add hnsw/%s seed %llu: %s\n", quant.c_str(),
                 static_cast<unsigned long long>(seed), why.c_str());
  };
  constexpr size_t kFirst = 30, kC = 200, kA = 2000;
  const std::vector<float> first = random_rows(kFirst, 41), c = random_rows(kC, 42), a = random_rows(kA, 43);
  index->add(first.data(), kFirst, nullptr);  // ids 0..29
  {  // a stopped add of kA + kC rows hands its slots back and leaves room for both adds below
    const std::vector<float> d = random_rows(kA + kC, 44);
    try {
      index->add(d.data(), kA + kC, nullptr, [](const std::string&, size_t, size_t) { throw StopAdd{}; });
      fail("the add that makes room was not stopped");
    } catch (const StopAdd&) {
    }
  }
  std::vector<int64_t> first_ids(kFirst), c_ids(kC), a_ids(kA);
  for (size_t i = 0; i < kFirst; ++i) first_ids[i] = static_cast<int64_t>(i);
  for (size_t i = 0; i < kC; ++i) c_ids[i] = 5000 + static_cast<int64_t>(i);
  for (size_t i = 0; i < kA; ++i) a_ids[i] = 10000 + static_cast<int64_t>(i);
  Flag c_waits, first_removed, c_done;
  std::thread adder_c([&] {
    size_t calls = 0;
    try {
      index->add(c.data(), kC, c_ids.data(), [&](const std::string&, size_t, size_t) {
        if (++calls != 1) return;
        c_waits.raise();
        first_removed.wait();
      });
    } catch (const std::exception& e) {
      fail(std::string("add C threw ") + e.what());
    }
    c_done.raise();
  });
  c_waits.wait();
  size_t calls = 0;
  try {
    index->add(a.data(), kA, a_ids.data(), [&](const std::string&, size_t, size_t) {
      if (++calls != 1) return;
      std::thread remover([&] { index->remove(first_ids.data(), kFirst); });
      remover.join();
      first_removed.raise();
      c_done.wait();
      throw StopAdd{};
    });
    fail("add A was not stopped");
  } catch (const StopAdd&) {
  }
  adder_c.join();
  if (index->size() != kC) fail("size " + std::to_string(index->size()) + ", expected " + std::to_string(kC));
  const auto found_self = [&](vidx::VectorIndex& in) {
    size_t found = 0;
    for (size_t i = 0; i < kC; ++i) {
      float d;
      int64_t id;
      in.search(c.data() + i * kDim, 1, 1, 64, &d, &id);
      found += id == c_ids[i];
    }
    return found;
  };
  const size_t found = found_self(*index);
  if (found < kC * 95 / 100) fail(std::to_string(found) + " of " + std::to_string(kC) + " rows find themselves");
  try {
    const std::vector<uint8_t> bytes = index->to_bytes();
    auto again = vidx::load_index_from_bytes(bytes.data(), bytes.size());
    if (again->size() != kC) fail("loads back with " + std::to_string(again->size()) + " rows");
  } catch (const std::exception& e) {
    fail(std::string("save and load: ") + e.what());
  }
  index->compact();
  const size_t compacted = found_self(*index);
  if (index->size() != kC || compacted < kC * 95 / 100)
    fail("after compact(): " + std::to_string(index->size()) + " rows, " + std::to_string(compacted) + " find themselves");
  std::printf("stopped add beside add hnsw/%s seed %llu: %zu of %zu rows find themselves, %zu after compact(), "
              "%d failures\n",
              index->options().quant.c_str(), static_cast<unsigned long long>(seed), found, kC, compacted,
              failures.load());
  return failures.load() ? 1 : 0;
}

// SPANN: adds and removes on the main thread (those that double the index rebuild it), rebuilds
// on another (writes go on while a rebuild builds, and are made again on the rebuilt state), beside searchers and a thread that saves,
// copies (to_bytes) and looks ids up. Searches must keep the contract across every swap of
// posting file; at the end every id added and not removed is stored, and nothing else.
int spann_rebuilds(double seconds, const std::string& dir) {
  constexpr size_t kFirst = 1000, kAdd = 100, kRemove = 20, kMaxRebuilds = 12;
  for (const std::string& name : vidx::io::list_directory(dir))  // an earlier run's rebuilt files
    if (name.rfind("stress_spann.", 0) == 0) vidx::io::remove_file(dir + "/" + name);
  vidx::IndexOptions options;
  options.threads = 2;
  options.spann.path = dir + "/stress_spann.post";
  options.spann.head_ratio = 0.05;
  options.spann.rebuild_growth = 1.1;  // adds rebuild it often too, beside the explicit rebuilds
  auto made = vidx::make_index("spann", kDim, vidx::Metric::L2, options);
  auto& index = dynamic_cast<vidx::spann::SpannIndex&>(*made);
  const std::vector<float> first = random_rows(kFirst, 7);
  index.add(first.data(), kFirst, nullptr);
  std::set<int64_t> stored;
  for (size_t i = 0; i < kFirst; ++i) stored.insert(static_cast<int64_t>(i));
  std::atomic<int64_t> next_id{static_cast<int64_t>(kFirst)};

  std::atomic<bool> done{false};
  std::atomic<size_t> searches{0};
  std::atomic<int> failures{0};
  auto fail = [&](const std::string& what) {
    std::fprintf(stderr, "spann rebuild: %s\n", what.c_str());
    failures.fetch_add(1);
  };
  vidx::SearchParams params;
  params.nprobe = 8;
  auto searcher = [&](uint64_t seed) {
    const std::vector<float> q = random_rows(4, seed);
    std::vector<float> D(4 * kK);
    std::vector<int64_t> I(4 * kK);
    while (!done.load()) {
      index.search(q.data(), 4, kK, params, D.data(), I.data());
      const std::string err = check_results(D, I, 4, next_id.load());
      if (!err.empty()) fail(err);
      searches.fetch_add(1);
    }
  };
  std::vector<std::thread> threads;
  for (uint64_t s = 0; s < 2; ++s) threads.emplace_back(searcher, 300 + s);
  threads.emplace_back([&] {
    std::vector<float> row(kDim);
    for (int64_t id = 0; !done.load(); id = (id + 37) % static_cast<int64_t>(kFirst)) {
      index.save(dir + "/stress_spann.vidx");
      (void)index.to_bytes();
      (void)index.contains(id);
      try {
        index.get(&id, 1, row.data());
      } catch (const vidx::InvalidArgument&) {  // removed meanwhile (or before): get() names it
      }
      (void)index.memory_usage();
    }
  });
  std::thread timer([&] {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!done.load() && std::chrono::steady_clock::now() < end)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    done.store(true);
  });
  std::atomic<size_t> rebuilds{0};
  threads.emplace_back([&] {
    while (!done.load() && rebuilds.load() < kMaxRebuilds) {
      try {
        index.rebuild("");
        rebuilds.fetch_add(1);
      } catch (const vidx::InvalidArgument&) {  // an add is rebuilding it meanwhile (rebuild_growth)
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // room for the adds' own rebuilds
    }
  });
  std::mt19937_64 rng(11);
  for (uint64_t round = 0; !done.load(); ++round) {
    const std::vector<float> x = random_rows(kAdd, 1000 + round);
    std::vector<int64_t> ids(kAdd);
    for (int64_t& id : ids) id = next_id.fetch_add(1);
    index.add(x.data(), kAdd, ids.data());
    stored.insert(ids.begin(), ids.end());
    std::vector<int64_t> gone;
    for (size_t r = 0; r < kRemove; ++r) {
      auto it = stored.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(rng() % stored.size()));
      gone.push_back(*it);
      stored.erase(it);
    }
    index.remove(gone.data(), gone.size());
  }
  done.store(true);
  timer.join();
  for (auto& t : threads) t.join();
  if (index.size() != stored.size())
    fail("holds " + std::to_string(index.size()) + " vectors, expected " + std::to_string(stored.size()));
  const std::vector<int64_t> ids = index.ids();
  if (!std::equal(ids.begin(), ids.end(), stored.begin(), stored.end())) fail("the stored ids differ from those added");
  std::printf("spann: %zu vectors, %zu rebuilds, %.0f made by adds, %zu searches, %d failures\n", index.size(),
              rebuilds.load(), index.stats().at("rebuilds_on_growth"), searches.load(), failures.load());
  return failures.load();
}

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 10.0;
  const std::string dir = argc > 2 ? argv[2] : ".";
  const std::string only = argc > 3 ? argv[3] : "";
  const bool living_only = only == "living";
  int failures = 0;
  if (only == "beside") {  // stress_concurrent 0 . beside QUANT SEED...: stopped_add_beside_add alone
    for (int a = 5; a < argc; ++a) failures += stopped_add_beside_add(argv[4], std::strtoull(argv[a], nullptr, 10));
    return failures ? 1 : 0;
  }
  if (only == "spann") {  // the SPANN rebuilds alone
    failures += spann_rebuilds(seconds, dir);
    std::printf(failures ? "FAILED\n" : "ok\n");
    return failures ? 1 : 0;
  }
  if (only == "scale") {  // the first adds of short "ip" rows alone
    failures += first_adds_choose_one_scale("flat");
    failures += first_adds_choose_one_scale("hnsw");
    std::printf(failures ? "FAILED\n" : "ok\n");
    return failures ? 1 : 0;
  }
  if (only == "entry") {  // stress_concurrent 0 . entry QUANT SEED...: entry_removed_during_add alone
    for (int a = 5; a < argc; ++a) failures += entry_removed_during_add(argv[4], std::strtoull(argv[a], nullptr, 10));
    std::printf(failures ? "FAILED\n" : "ok\n");
    return failures ? 1 : 0;
  }
  if (only == "stopped") {  // the stopped adds alone, for as long as asked
    failures += stopped_add_after_entry_removed("none");
    failures += entry_removed_during_add("none", 1);
    failures += entry_removed_during_add("lvq4x8", 2);
    failures += stopped_add_beside_add("none", 2);  // seeds whose entry point moves onto one of A's nodes
    failures += stopped_add_beside_add("lvq4x8", 3);
    failures += stopped_adds("none", seconds, dir);
    failures += stopped_adds("lvq4x8", seconds, dir);
    std::printf(failures ? "FAILED\n" : "ok\n");
    return failures ? 1 : 0;
  }
  if (!living_only) {
    failures += stress("hnsw", "none", seconds, dir);
    failures += stress("hnsw", "", seconds, dir);  // HNSW's default codec (f32_split)
    failures += stress("hnsw", "lvq4x8", seconds, dir);
    failures += stress("flat", "binary", seconds, dir);  // due to learn again at 100, 200, ..., 1,600 rows
    failures += stress("hnsw", "rabitq", seconds, dir);  // likewise
    failures += bulk_adds();
    failures += pca_scales();
    failures += stopped_add_after_entry_removed("none");
    failures += entry_removed_during_add("none", 1);
    failures += entry_removed_during_add("lvq4x8", 2);
    failures += stopped_add_beside_add("none", 2);  // seeds whose entry point moves onto one of A's nodes
    failures += stopped_add_beside_add("lvq4x8", 3);
    failures += stopped_adds("none", std::min(seconds, 3.0), dir);
    failures += stopped_adds("lvq4x8", std::min(seconds, 3.0), dir);
    failures += spann_rebuilds(std::min(seconds, 3.0), dir);
  }
  failures += first_adds_choose_one_scale("flat");
  failures += first_adds_choose_one_scale("hnsw");
  failures += cosine_lengths("hnsw", std::min(seconds, 3.0), dir);
  failures += cosine_lengths("flat", std::min(seconds, 3.0), dir);
  failures += living("hnsw", "none", seconds);
  failures += living("hnsw", "", seconds);  // HNSW's default codec (f32_split)
  failures += living("hnsw", "", seconds, true);
  failures += living("flat", "none", seconds);
  failures += living("flat", "lvq8", seconds);
  std::printf(failures ? "FAILED\n" : "ok\n");
  return failures ? 1 : 0;
}
