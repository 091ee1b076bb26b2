// The CUDA flat index as a vidx::VectorIndex: the base class keeps ids, normalises cosine
// vectors, checks input and writes the file; FlatStore keeps the vectors on the device and
// searches them. Its file is an ordinary flat index file (the sections of
// cpp/src/flat/flat_index.cpp, written with the codec the vectors are stored in), so
// load_index reads it back as a CPU flat index.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "flat_store.cuh"
#include "vidx/common/error.hpp"
#include "vidx/cuda/cuda.hpp"
#include "vidx/index.hpp"
#include "vidx/io/byte_stream.hpp"
#include "vidx/io/index_file.hpp"

namespace vidx::gpu {
namespace {

// The sections of a flat index file (cpp/src/flat/flat_index.cpp) in format 3's layout, which
// the CPU flat index still reads: the codec parameters and the codes, row after row.
constexpr uint32_t kCodecSection = io::fourcc("CDEC");
constexpr uint32_t kCodesSection = io::fourcc("CODE");

class CudaFlatIndex final : public VectorIndex {
 public:
  CudaFlatIndex(size_t dim, Metric metric, const IndexOptions& options, const std::string& codec,
                const FlatDeviceOptions& device)
      : VectorIndex(dim, metric, options),
        codec_(make_codec(codec, dim, metric)),
        device_(device.device),
        store_(dim, codec == "f16", metric_is_inner_product(metric), device) {}

  std::string kind() const override { return "flat"; }
  std::string device() const override { return "cuda:" + std::to_string(device_); }

 protected:
  void add_rows(const float* x, size_t n, const uint32_t*, ThreadPool&, const ProgressFn&) override {
    store_.add(x, n);  // appends only
  }

  void search_rows(const float* q, size_t nq, size_t k, const SearchParams& params, float* distances,
                   int64_t* slots, ThreadPool&) const override {
    if (k > kFlatMaxK)
      throw InvalidArgument("k = " + std::to_string(k) + " is above the CUDA flat index's limit of " +
                            std::to_string(kFlatMaxK));
    store_.search(q, nq, k, distances, slots);
  }

  unsigned search_settings() const override { return 0; }  // exact: no ef, no rerank

  size_t structure_size() const override { return store_.rows(); }
  size_t structure_memory() const override {
    return store_.device_bytes() + store_.host_bytes() + store_.scratch_bytes();
  }
  std::map<std::string, size_t> structure_memory_parts() const override {
    return {{"codes", store_.device_bytes()},
            {"streamed_codes", store_.host_bytes()},
            {"scratch", store_.scratch_bytes()}};
  }

  void write_sections(io::IndexFileWriter& out) const override {
    io::ByteWriter params;
    codec_->save_parameters(params);
    out.add_section(kCodecSection, params.take());
    out.add_section(kCodesSection, store_.codes());
  }
  void read_sections(const io::IndexFileReader& in) override {
    throw InvalidArgument(in.path() + ": a saved CUDA flat index loads as a CPU flat index (load_index)");
  }

 private:
  std::unique_ptr<Codec> codec_;  // the codec whose codes the file holds ("f32" or "f16")
  int device_;
  detail::FlatStore store_;
};

}  // namespace

std::unique_ptr<VectorIndex> make_flat_index(size_t dim, Metric metric, const IndexOptions& options,
                                             const FlatDeviceOptions& device) {
  const std::string codec = check_flat_options(dim, options, device);
  require_device(device.device);
  return std::make_unique<CudaFlatIndex>(dim, metric, options, codec, device);
}

std::unique_ptr<VectorIndex> load_flat_index(const std::string& path, const FlatDeviceOptions& device) {
  require_device(device.device);  // before reading what may be a large file
  const std::unique_ptr<VectorIndex> saved = load_index(path);  // verifies the whole file first
  if (saved->kind() != "flat")
    throw InvalidArgument(path + ": holds a '" + saved->kind() + "' index; only flat indexes load onto a GPU");
  IndexOptions options;  // what a flat file may carry that the GPU cannot use (a seed...) is left behind
  options.quant = saved->options().quant;
  options.threads = saved->options().threads;
  auto index = make_flat_index(saved->dim(), saved->metric(), options, device);
  // Through the loaded index, not the file's sections: whatever layout the file has (flat
  // files store codes padded since format 4), the rows come back as stored, under their ids.
  const std::vector<int64_t> ids = saved->ids();
  std::vector<float> rows(ids.size() * saved->dim());
  saved->get(ids.data(), ids.size(), rows.data());
  index->add(rows.data(), ids.size(), ids.data());
  return index;
}

}  // namespace vidx::gpu
