// Ad hoc (TSan): the add whose automatic M widens the lists relinks them beside searches, another
// add and a remove. 32-d Gaussian rows (hard: M becomes 24).
#include <atomic>
#include <cstdio>
#include <random>
#include <thread>
#include <vector>

#include "vidx/index.hpp"

int main() {
  constexpr size_t kDim = 32, kFirst = 60000, kGrow = 500, kLate = 40000, kOther = 200;
  std::mt19937 rng(1);
  std::normal_distribution<float> g;
  std::vector<float> x((kFirst + kGrow + kLate + kOther) * kDim);
  for (float& v : x) v = g(rng);
  vidx::IndexOptions options;
  options.threads = 2;
  options.ef_construction = 24;
  auto index = vidx::make_index("hnsw", kDim, vidx::Metric::L2, options);
  std::vector<int64_t> ids(kFirst + kGrow + kLate + kOther);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int64_t>(i);
  index->add(x.data(), kFirst, ids.data());
  index->add(x.data() + kFirst * kDim, kGrow, ids.data() + kFirst);  // capacity now 90,000: the late add grows it
  std::printf("M before %zu\n", index->options().M);
  std::atomic<bool> done{false};
  std::atomic<size_t> searches{0}, bad{0};
  std::thread searcher([&] {
    std::vector<float> d(10);
    std::vector<int64_t> found(10);
    size_t q = 0;
    while (!done.load()) {
      index->search(x.data() + (q++ % kFirst) * kDim, 1, 10, 32, d.data(), found.data());
      for (int64_t id : found)
        if (id < -1 || id >= static_cast<int64_t>(ids.size())) bad.fetch_add(1);
      searches.fetch_add(1);
    }
  });
  std::thread other([&] {
    index->remove(ids.data(), 300);
    index->add(x.data() + (kFirst + kGrow + kLate) * kDim, kOther, ids.data() + kFirst + kGrow + kLate);
  });
  index->add(x.data() + (kFirst + kGrow) * kDim, kLate, ids.data() + kFirst + kGrow);
  other.join();
  done = true;
  searcher.join();
  size_t self = 0;
  for (size_t i = 1000; i < 1200; ++i) {
    float d;
    int64_t id;
    index->search(x.data() + i * kDim, 1, 1, 64, &d, &id);
    self += id == static_cast<int64_t>(i);
  }
  std::printf("M after %zu, %zu searches, %zu bad ids, %zu/200 find themselves, size %zu\n", index->options().M,
              searches.load(), bad.load(), self, index->size());
  return bad.load() == 0 && index->options().M == 24 ? 0 : 1;
}
