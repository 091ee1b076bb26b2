// Concurrent search / add / save / set_threads on one index, for ThreadSanitizer (and ASan).
// The contract (index.hpp): any number of concurrent searches; add() excludes them while it
// runs. Every result must be sorted, hold only ids added so far, and pad only at the tail.
//
//   stress_concurrent [seconds] [dir]     (exit 0 = no violation seen; sanitizers report races)
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

int stress(const std::string& kind, const std::string& quant, double seconds, const std::string& dir) {
  vidx::IndexOptions options;
  options.threads = 2;
  options.quant = quant;
  options.ef_construction = 40;
  auto index = vidx::make_index(kind, kDim, vidx::Metric::L2, options);
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

}  // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 10.0;
  const std::string dir = argc > 2 ? argv[2] : ".";
  int failures = 0;
  failures += stress("hnsw", "none", seconds, dir);
  failures += stress("hnsw", "lvq4x8", seconds, dir);
  failures += stress("flat", "binary", seconds, dir);
  std::printf(failures ? "FAILED\n" : "ok\n");
  return failures ? 1 : 0;
}
