// HNSW as a living index, through the C++ API: recall after removing half the rows against a
// fresh build of the survivors, re-adding them (into the freed slots), compaction memory, get,
// determinism. Ids are row numbers. Prints "name value" lines, then "ok" or "FAILED: why".
//
//   hnsw_live_check [n] [dim]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "hnsw_test_access.hpp"

using vidx::HnswTestAccess;

namespace {

constexpr size_t kK = 10;
constexpr size_t kQueries = 200;
constexpr size_t kEf = 16;

struct Data {
  size_t n, dim;
  std::vector<float> x;
  const float* row(size_t i) const { return x.data() + i * dim; }
};

// Gaussian clusters: the shape real embeddings have, and where a careless repair loses recall.
Data clustered(size_t n, size_t dim, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal;
  const size_t clusters = 50;
  std::vector<float> centres(clusters * dim);
  for (float& c : centres) c = 1.5f * normal(rng);
  Data d{n, dim, std::vector<float>(n * dim)};
  for (size_t i = 0; i < n; ++i) {
    const size_t c = rng() % clusters;
    for (size_t j = 0; j < dim; ++j) d.x[i * dim + j] = centres[c * dim + j] + normal(rng);
  }
  return d;
}

float l2(const float* a, const float* b, size_t dim) {
  float s = 0;
  for (size_t j = 0; j < dim; ++j) s += (a[j] - b[j]) * (a[j] - b[j]);
  return s;
}

// Exact top-k among `rows` (row numbers of `data`), as row numbers.
std::vector<std::vector<size_t>> exact(const Data& data, const std::vector<size_t>& rows, const Data& q) {
  std::vector<std::vector<size_t>> out(q.n);
  for (size_t i = 0; i < q.n; ++i) {
    std::vector<std::pair<float, size_t>> d;
    for (size_t r : rows) d.push_back({l2(q.row(i), data.row(r), data.dim), r});
    std::partial_sort(d.begin(), d.begin() + kK, d.end());
    for (size_t j = 0; j < kK; ++j) out[i].push_back(d[j].second);
  }
  return out;
}

std::unique_ptr<vidx::VectorIndex> make(size_t dim, const std::string& quant = "f32") {
  vidx::IndexOptions options;
  options.threads = 2;
  options.M = 12;
  options.ef_construction = 64;
  options.quant = quant;
  return vidx::make_index("hnsw", dim, vidx::Metric::L2, options);
}

// Adds data rows `rows`, their row numbers as ids.
void add(vidx::VectorIndex& index, const Data& data, const std::vector<size_t>& rows) {
  std::vector<float> x;
  for (size_t r : rows) x.insert(x.end(), data.row(r), data.row(r) + data.dim);
  const std::vector<int64_t> ids(rows.begin(), rows.end());
  index.add(x.data(), rows.size(), ids.data());
}

void remove(vidx::VectorIndex& index, const std::vector<size_t>& rows) {
  const std::vector<int64_t> ids(rows.begin(), rows.end());
  index.remove(ids.data(), ids.size());
}

// Recall@k against truth (row numbers); counts results among `forbidden`.
double recall(vidx::VectorIndex& index, const Data& q, const std::vector<std::vector<size_t>>& truth,
              const std::set<size_t>& forbidden, size_t& forbidden_hits) {
  std::vector<float> D(q.n * kK);
  std::vector<int64_t> I(q.n * kK);
  index.search(q.x.data(), q.n, kK, kEf, D.data(), I.data());
  size_t hits = 0;
  for (size_t i = 0; i < q.n; ++i) {
    std::set<size_t> want(truth[i].begin(), truth[i].end());
    for (size_t j = 0; j < kK; ++j) {
      const int64_t id = I[i * kK + j];
      if (id < 0) continue;
      forbidden_hits += forbidden.count(static_cast<size_t>(id));
      hits += want.count(static_cast<size_t>(id));
    }
  }
  return static_cast<double>(hits) / (q.n * kK);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t n = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 5000;
  const size_t dim = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 32;
  // Queries come from the same clusters as the rows: the last kQueries generated.
  Data data = clustered(n + kQueries, dim, 7);
  Data q{kQueries, dim, std::vector<float>(data.x.begin() + n * dim, data.x.end())};
  data.x.resize(n * dim);
  data.n = n;
  std::vector<std::string> failures;
  auto require = [&](bool ok, const std::string& why) {
    if (!ok) failures.push_back(why);
  };

  std::vector<size_t> all(n);
  std::iota(all.begin(), all.end(), size_t{0});
  std::mt19937_64 rng(11);
  std::vector<size_t> shuffled = all;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  std::vector<size_t> gone(shuffled.begin(), shuffled.begin() + n / 2);
  std::vector<size_t> kept(shuffled.begin() + n / 2, shuffled.end());
  std::sort(gone.begin(), gone.end());
  std::sort(kept.begin(), kept.end());
  const std::set<size_t> gone_set(gone.begin(), gone.end());

  // 1. Remove half, against a fresh build of the survivors, at the same ef.
  auto living = make(dim);
  add(*living, data, all);
  remove(*living, gone);
  const auto truth_kept = exact(data, kept, q);
  size_t forbidden = 0, none = 0;
  const double r_living = recall(*living, q, truth_kept, gone_set, forbidden);
  auto fresh = make(dim);
  add(*fresh, data, kept);
  const double r_fresh = recall(*fresh, q, truth_kept, {}, none);
  std::printf("recall_after_remove %.4f\nrecall_fresh_survivors %.4f\nremoved_returned %zu\n", r_living, r_fresh,
              forbidden);
  const auto living_degree = HnswTestAccess::degree_stats(*living);
  const auto fresh_degree = HnswTestAccess::degree_stats(*fresh);
  std::printf("degree_after_remove %.2f orphans %zu\ndegree_fresh %.2f orphans %zu\n", living_degree.first,
              living_degree.second, fresh_degree.first, fresh_degree.second);
  require(r_living >= r_fresh - 0.01, "recall after removing half is more than 0.01 below a fresh build");
  require(forbidden == 0, "a removed id was returned");

  // 2. Re-add the removed rows (into the freed slots), against a fresh build of all.
  add(*living, data, gone);
  require(living->size() == n && HnswTestAccess::slot_count(*living) == n, "re-adding did not reuse the freed slots");
  const auto truth_all = exact(data, all, q);
  const double r_readded = recall(*living, q, truth_all, {}, none);
  auto fresh_all = make(dim);
  add(*fresh_all, data, all);
  const double r_fresh_all = recall(*fresh_all, q, truth_all, {}, none);
  std::printf("recall_readded %.4f\nrecall_fresh_all %.4f\n", r_readded, r_fresh_all);
  require(r_readded >= r_fresh_all - 0.01, "recall after re-adding is more than 0.01 below a fresh build");

  // 3. Remove half, compact: memory against the fresh build of the survivors.
  auto compacted = make(dim);
  add(*compacted, data, all);
  remove(*compacted, gone);
  compacted->compact();
  const double r_compacted = recall(*compacted, q, truth_kept, gone_set, forbidden);
  const double memory_ratio = static_cast<double>(compacted->memory_usage()) / fresh->memory_usage();
  std::printf("recall_compacted %.4f\nmemory_compacted_over_fresh %.3f\n", r_compacted, memory_ratio);
  require(r_compacted >= r_fresh - 0.01, "recall after compaction is more than 0.01 below a fresh build");
  require(memory_ratio <= 1.10, "memory after compaction is more than 10% above a fresh build");
  require(HnswTestAccess::slot_count(*compacted) == kept.size(), "compaction kept removed slots");

  // 4. get: exact for f32; a removed id is refused.
  const std::vector<int64_t> some = {static_cast<int64_t>(kept[0]), static_cast<int64_t>(kept[kept.size() / 2])};
  std::vector<float> back(2 * dim);
  const bool is_exact = compacted->get(some.data(), 2, back.data());
  require(is_exact && std::equal(back.begin(), back.begin() + dim, data.row(kept[0])) &&
              std::equal(back.begin() + dim, back.end(), data.row(kept[kept.size() / 2])),
          "get of f32 is not the vector added");
  bool refused = false;
  try {
    const int64_t removed_id = static_cast<int64_t>(gone[0]);
    compacted->get(&removed_id, 1, back.data());
  } catch (const vidx::InvalidArgument&) {
    refused = true;
  }
  require(refused, "get of a removed id was not refused");

  // 5. Determinism: same seed, one writer, same removes -> the same results.
  auto twin = make(dim);
  add(*twin, data, all);
  remove(*twin, gone);
  auto again = make(dim);
  add(*again, data, all);
  remove(*again, gone);
  std::vector<float> D1(q.n * kK), D2(q.n * kK);
  std::vector<int64_t> I1(q.n * kK), I2(q.n * kK);
  twin->search(q.x.data(), q.n, kK, kEf, D1.data(), I1.data());
  again->search(q.x.data(), q.n, kK, kEf, D2.data(), I2.data());
  require(I1 == I2 && D1 == D2, "two builds with the same seed differ");

  // 6. Compressed codes: remove half with LVQ, recall still close to its own fresh build.
  auto lvq = make(dim, "lvq4x8");
  add(*lvq, data, all);
  remove(*lvq, gone);
  forbidden = 0;
  const double r_lvq = recall(*lvq, q, truth_kept, gone_set, forbidden);
  auto lvq_fresh = make(dim, "lvq4x8");
  add(*lvq_fresh, data, kept);
  const double r_lvq_fresh = recall(*lvq_fresh, q, truth_kept, {}, none);
  std::printf("recall_lvq_after_remove %.4f\nrecall_lvq_fresh %.4f\n", r_lvq, r_lvq_fresh);
  require(r_lvq >= r_lvq_fresh - 0.02 && forbidden == 0, "LVQ recall after removal too low");

  // 7. Remove everything, then add again: an empty graph starts over.
  remove(*twin, kept);
  std::vector<float> D(kK);
  std::vector<int64_t> I(kK);
  twin->search(q.row(0), 1, kK, kEf, D.data(), I.data());
  require(I[0] == -1, "an index with everything removed returned a result");
  add(*twin, data, {0, 1, 2});
  twin->search(data.row(1), 1, kK, kEf, D.data(), I.data());
  require(I[0] == 1 && I[2] >= 0 && I[3] == -1, "re-adding into an emptied graph failed");

  for (const auto& f : failures) std::printf("FAILED: %s\n", f.c_str());
  if (failures.empty()) std::printf("ok\n");
  return failures.empty() ? 0 : 1;
}
