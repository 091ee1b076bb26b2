// k-means with both Lloyd half-steps on the GPU: the assignment is a k = 1 search of the points
// (as queries, kept on the device) against the centroids (one block of rows), with exact
// re-ranked distances; the update sums each cluster's points in double in ascending point order,
// exactly as the CPU version does. Initialisation, empty-cluster repair and the stopping rule
// are the CPU version's (kmeans_detail).
#include <algorithm>
#include <string>
#include <vector>

#include "cuda_common.cuh"
#include "engine.cuh"
#include "kernels.cuh"
#include "vidx/cluster/kmeans.hpp"
#include "vidx/common/error.hpp"
#include "vidx/cuda/cuda.hpp"
#include "vidx/cuda/kmeans.hpp"

namespace vidx::gpu {

using namespace detail;

namespace {

constexpr size_t kMaxDim = 16384;

class GpuBackend final : public kmeans_detail::Backend {
 public:
  GpuBackend(const float* x, size_t n, size_t dim, size_t k, int device)
      : n_(n), dim_(dim), k_(k), dp_((dim + kScanDepth - 1) / kScanDepth * kScanDepth),
        traits_(device_traits(device)) {
    stream_.create();
    points_.allocate(n_ * dp_ * sizeof(float), "k-means points");
    centroids_.allocate(k_ * dp_ * sizeof(float), "k-means centroids");
    check(cudaMemsetAsync(centroids_.as<void>(), 0, k_ * dp_ * sizeof(float), stream_.get()), "cudaMemsetAsync");
    norms_.allocate(k_ * sizeof(float), "k-means centroid norms");
    perm_.allocate(n_ * sizeof(int), "k-means permutation");
    offsets_.allocate((k_ + 1) * sizeof(long long), "k-means offsets");

    // Points, padded to dp, through a host buffer of bounded size.
    const size_t piece = 16384;
    std::vector<float> buf(piece * dp_, 0.0f);
    for (size_t p0 = 0; p0 < n_; p0 += piece) {
      const size_t cnt = std::min(piece, n_ - p0);
      for (size_t i = 0; i < cnt; ++i) std::copy(x + (p0 + i) * dim_, x + (p0 + i + 1) * dim_, buf.begin() + i * dp_);
      check(cudaMemcpyAsync(points_.as<float>() + p0 * dp_, buf.data(), cnt * dp_ * sizeof(float),
                            cudaMemcpyHostToDevice, stream_.get()),
            "cudaMemcpyAsync of k-means points");
      check(cudaStreamSynchronize(stream_.get()), "cudaStreamSynchronize (k-means upload)");
    }

    // Points per assignment batch: scratch within 512 MiB and half the free memory, smaller
    // while the device refuses it.
    const int kp = candidates_per_slice(1, ScanMode::F32Exact);
    cap_ = candidate_capacity(kp);
    size_t free_b = 0, total_b = 0;
    check(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
    const size_t budget = std::min<size_t>(size_t{512} << 20, free_b / 2);
    batch_ = static_cast<int>(std::min<size_t>(n_, size_t{1} << 17));
    auto need = [&](int b) {
      return scratch_bytes(b, choose_slices(traits_, b, static_cast<int>(k_), 1, kp), cap_, 1);
    };
    while (batch_ > kScanQueries && need(batch_) > budget) batch_ /= 2;
    for (;;) {
      slices_ = choose_slices(traits_, batch_, static_cast<int>(k_), 1, kp);
      try {
        ensure_scratch(scratch_, batch_, slices_, cap_, 1);
        break;
      } catch (const DeviceOutOfMemory&) {
        scratch_.release();
        if (batch_ <= 1) throw;
        batch_ = std::max(1, batch_ / 2);
      }
    }
    host_c_.assign(k_ * dp_, 0.0f);
    host_d_.resize(static_cast<size_t>(batch_));
    host_i_.resize(static_cast<size_t>(batch_));
  }

  void assign(const float* centroids, int32_t* assignment, float* distance) override {
    for (size_t c = 0; c < k_; ++c) std::copy(centroids + c * dim_, centroids + (c + 1) * dim_, host_c_.begin() + c * dp_);
    const cudaStream_t s = stream_.get();
    check(cudaMemcpyAsync(centroids_.as<float>(), host_c_.data(), k_ * dp_ * sizeof(float), cudaMemcpyHostToDevice, s),
          "cudaMemcpyAsync of centroids");
    check(launch_row_norms(centroids_.as<float>(), static_cast<int>(k_), static_cast<int>(dp_), norms_.as<float>(), s),
          "launch of the norms kernel");
    RowBlock rb;
    rb.x = centroids_.as<float>();
    rb.norms = norms_.as<float>();
    rb.rows = static_cast<int>(k_);
    rb.base = 0;
    for (size_t b0 = 0; b0 < n_; b0 += static_cast<size_t>(batch_)) {
      const int cnt = static_cast<int>(std::min<size_t>(batch_, n_ - b0));
      QueryBatch qb;
      qb.qf = points_.as<float>() + b0 * dp_;
      qb.nq = cnt;
      run_block(traits_, ScanMode::F32Exact, qb, rb, static_cast<int>(dim_), static_cast<int>(dp_), false, 1, true,
                scratch_, s);
      check(cudaMemcpyAsync(host_d_.data(), scratch_.run_d.as<float>(), cnt * sizeof(float), cudaMemcpyDeviceToHost, s),
            "cudaMemcpyAsync of assignments");
      check(cudaMemcpyAsync(host_i_.data(), scratch_.run_i.as<int>(), cnt * sizeof(int), cudaMemcpyDeviceToHost, s),
            "cudaMemcpyAsync of assignments");
      check(cudaStreamSynchronize(s), "k-means assignment kernels (cudaStreamSynchronize)");
      for (int i = 0; i < cnt; ++i) {
        if (host_i_[static_cast<size_t>(i)] < 0) throw DeviceError("internal: a point got no centroid");
        assignment[b0 + static_cast<size_t>(i)] = host_i_[static_cast<size_t>(i)];
        distance[b0 + static_cast<size_t>(i)] = host_d_[static_cast<size_t>(i)];
      }
    }
  }

  void update(const int32_t* perm, const int64_t* offsets, float* centroids) override {
    const cudaStream_t s = stream_.get();
    static_assert(sizeof(long long) == sizeof(int64_t), "offsets are 64-bit");
    check(cudaMemcpyAsync(perm_.as<int>(), perm, n_ * sizeof(int), cudaMemcpyHostToDevice, s),
          "cudaMemcpyAsync of the permutation");
    check(cudaMemcpyAsync(offsets_.as<long long>(), offsets, (k_ + 1) * sizeof(long long), cudaMemcpyHostToDevice, s),
          "cudaMemcpyAsync of cluster offsets");
    // centroids_ still holds the centroids of the last assignment: empty clusters keep them.
    check(launch_centroid_update(points_.as<float>(), static_cast<int>(dp_), static_cast<int>(dim_), perm_.as<int>(),
                                 offsets_.as<long long>(), static_cast<int>(k_), centroids_.as<float>(), s),
          "launch of the centroid update kernel");
    check(cudaMemcpyAsync(host_c_.data(), centroids_.as<float>(), k_ * dp_ * sizeof(float), cudaMemcpyDeviceToHost, s),
          "cudaMemcpyAsync of centroids");
    check(cudaStreamSynchronize(s), "k-means update kernel (cudaStreamSynchronize)");
    for (size_t c = 0; c < k_; ++c)
      std::copy(host_c_.begin() + c * dp_, host_c_.begin() + c * dp_ + dim_, centroids + c * dim_);
  }

 private:
  size_t n_, dim_, k_, dp_;
  const DeviceTraits& traits_;
  Stream stream_;
  DeviceMemory points_, centroids_, norms_, perm_, offsets_;
  Scratch scratch_;
  int cap_ = 0, batch_ = 0, slices_ = 0;
  std::vector<float> host_c_, host_d_;
  std::vector<int> host_i_;
};

}  // namespace

KMeansResult kmeans_cuda(const float* x, size_t n, size_t dim, const KMeansParams& params, int device) {
  kmeans_detail::validate(x, n, dim, params);
  if (dim > kMaxDim)
    throw InvalidArgument("kmeans: dimension " + std::to_string(dim) + " is above the CUDA limit of " +
                          std::to_string(kMaxDim));
  require_device(device);
  std::vector<float> init = kmeans_detail::initial_centroids(x, n, dim, params);
  DeviceGuard guard(device);
  GpuBackend backend(x, n, dim, params.k, device);
  return kmeans_detail::lloyd(n, dim, params, std::move(init), backend);
}

}  // namespace vidx::gpu
