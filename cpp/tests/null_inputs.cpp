// The C++ API refuses a null pointer to n > 0 items with InvalidArgument (it crashed before), for
// every kind, a metric the enum does not name, and a FIFO to load (POSIX): prints one line per
// refused call, then "ok".
#include <sys/stat.h>

#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "vidx/common/error.hpp"
#include "vidx/index.hpp"

namespace {

int failures = 0;

void refused(const std::string& what, const std::function<void()>& call) {
  try {
    call();
    std::printf("NOT REFUSED: %s\n", what.c_str());
    ++failures;
  } catch (const vidx::InvalidArgument& e) {
    std::printf("refused: %s (%s)\n", what.c_str(), e.what());
  }
}

}  // namespace

int main(int, char** argv) {
  constexpr size_t kDim = 8, kRows = 300;
  std::vector<float> x(kRows * kDim);
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f;
  for (const std::string kind : {"hnsw", "flat", "spann"}) {
    vidx::IndexOptions options;
    options.threads = 1;
    if (kind == "spann") options.spann.path = std::string(argv[1]) + "/null_inputs.post";
    auto index = vidx::make_index(kind, kDim, vidx::Metric::L2, options);
    refused(kind + " add", [&] { index->add(nullptr, 5, nullptr); });
    index->add(x.data(), kRows, nullptr);
    std::vector<float> d(10);
    std::vector<int64_t> ids(10);
    const int64_t one = 1;
    refused(kind + " search queries", [&] { index->search(nullptr, 1, 10, 0, d.data(), ids.data()); });
    refused(kind + " search distances", [&] { index->search(x.data(), 1, 10, 0, nullptr, ids.data()); });
    refused(kind + " search ids", [&] { index->search(x.data(), 1, 10, 0, d.data(), nullptr); });
    refused(kind + " remove", [&] { index->remove(nullptr, 3); });
    refused(kind + " get ids", [&] { index->get(nullptr, 2, d.data()); });
    refused(kind + " get out", [&] { index->get(&one, 1, nullptr); });
    refused(kind + " upsert", [&] { index->upsert(nullptr, 1, &one); });
  }
  refused("load_index_from_bytes", [] { vidx::load_index_from_bytes(nullptr, 100); });
  refused("make_index with metric code 7", [] { vidx::make_index("hnsw", 8, static_cast<vidx::Metric>(7), {}); });
  // A FIFO in place of an index file: the open waited for a writer forever.
  const std::string fifo = std::string(argv[1]) + "/fifo.vidx";
  if (::mkfifo(fifo.c_str(), 0600) == 0) {
    try {
      vidx::load_index(fifo);
      std::printf("NOT REFUSED: load_index of a FIFO\n");
      ++failures;
    } catch (const vidx::IoError& e) {
      std::printf("refused: load_index of a FIFO (%s)\n", e.what());
    }
  }
  std::printf(failures ? "FAILED\n" : "ok\n");
  return failures ? 1 : 0;
}
