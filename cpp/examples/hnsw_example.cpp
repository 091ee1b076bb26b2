// Embedding vidx from C++: build an HNSW index, search it, save it, load it back.
//   hnsw_example [index-path]
// Prints the recall@10 against exact search and "ok" when everything matched.
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "vidx/index.hpp"

int main(int argc, char** argv) {
  const size_t n = 5000, dim = 32, nq = 100, k = 10;
  const std::string path = argc > 1 ? argv[1] : "hnsw_example.vidx";

  // Clustered data: 20 centres, points scattered around them; queries from the same clusters.
  std::mt19937 gen(42);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> centres(20 * dim), data(n * dim), queries(nq * dim);
  for (float& c : centres) c = normal(gen);
  auto fill = [&](std::vector<float>& out, size_t rows) {
    for (size_t r = 0; r < rows; ++r) {
      const size_t c = gen() % 20;
      for (size_t d = 0; d < dim; ++d) out[r * dim + d] = centres[c * dim + d] + 0.2f * normal(gen);
    }
  };
  fill(data, n);
  fill(queries, nq);

  vidx::IndexOptions options;
  options.M = 16;
  options.ef_construction = 100;
  auto hnsw = vidx::make_index("hnsw", dim, vidx::Metric::L2, options);
  auto exact = vidx::make_index("flat", dim, vidx::Metric::L2, options);
  hnsw->add(data.data(), n, nullptr);
  exact->add(data.data(), n, nullptr);

  std::vector<float> d1(nq * k), d2(nq * k), d3(nq * k);
  std::vector<int64_t> i1(nq * k), i2(nq * k), i3(nq * k);
  hnsw->search(queries.data(), nq, k, 64, d1.data(), i1.data());
  exact->search(queries.data(), nq, k, 0, d2.data(), i2.data());
  size_t hits = 0;
  for (size_t q = 0; q < nq; ++q) {
    std::set<int64_t> truth(i2.begin() + q * k, i2.begin() + (q + 1) * k);
    for (size_t j = 0; j < k; ++j) hits += truth.count(i1[q * k + j]);
  }
  const double recall = static_cast<double>(hits) / (nq * k);

  hnsw->save(path);
  auto loaded = vidx::load_index(path);
  loaded->search(queries.data(), nq, k, 64, d3.data(), i3.data());
  const bool same = i3 == i1 && d3 == d1;

  bool bad_input_rejected = false;
  try {
    hnsw->search(queries.data(), 1, 0, 64, d1.data(), i1.data());  // k = 0
  } catch (const vidx::InvalidArgument&) {
    bad_input_rejected = true;
  }
  std::printf("vectors %zu  recall@10 %.3f  reload identical %s  bad k rejected %s\n", loaded->size(), recall,
              same ? "yes" : "no", bad_input_rejected ? "yes" : "no");
  const bool ok = recall >= 0.95 && same && bad_input_rejected;
  std::printf("%s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
