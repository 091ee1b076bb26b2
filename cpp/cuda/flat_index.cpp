// CudaFlatIndex: storage in device blocks (and host blocks beyond the device budget), batched
// exact search through the fused scan + merge kernels, host blocks streamed on a second stream.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cuda_common.cuh"
#include "engine.cuh"
#include "half.cuh"
#include "kernels.cuh"
#include "vidx/common/error.hpp"
#include "vidx/common/id_map.hpp"
#include "vidx/common/metric.hpp"
#include "vidx/cuda/cuda.hpp"

namespace vidx::gpu {

using namespace detail;

namespace {

constexpr size_t kMaxDim = 16384;      // the merge kernel keeps a query in shared memory
constexpr size_t kAddPiece = 16384;    // rows converted on the host per step of add()
constexpr size_t kMinBlockRows = 4096;
constexpr size_t kMinStageRows = 4096;    // smallest piece streamed from host memory
constexpr float kHalfMax = 65504.0f;

size_t round_up(size_t a, size_t b) { return (a + b - 1) / b * b; }

}  // namespace

struct CudaFlatIndex::Impl {
  struct Block {
    bool on_device = false;
    DeviceMemory dev;
    HostMemory host;
    size_t rows = 0;
    size_t cap = 0;
  };

  size_t dim = 0;
  size_t dp = 0;
  Metric metric = Metric::L2;
  CudaFlatOptions opt;
  ScanMode mode = ScanMode::F32Exact;
  size_t esize = 4;      // bytes per stored element
  size_t row_bytes = 0;  // dp * esize
  size_t chunk_rows = 0;

  IdMap ids;
  std::vector<std::unique_ptr<Block>> blocks;
  size_t device_cap = 0;   // rows allocated on the device
  size_t device_rows = 0;  // rows stored on the device
  bool device_full = false;

  mutable std::mutex mu;
  Stream compute, copy;
  Event ready[2], freed[2];
  mutable Scratch scratch;
  mutable DeviceMemory q_f, q_h, q_l;
  mutable DeviceMemory staging[2];

  size_t block_bytes(size_t cap) const { return cap * row_bytes + cap * sizeof(float); }
  bool inner_product() const { return metric_is_inner_product(metric); }
  bool has_host_blocks() const { return !blocks.empty() && !blocks.back()->on_device; }

  // Rows that may still be allocated on the device: the option's limit, and free memory minus
  // headroom for search scratch and the streaming buffers.
  size_t device_allowance() const {
    if (device_full) return 0;
    const size_t limit = opt.max_device_rows ? opt.max_device_rows : std::numeric_limits<size_t>::max();
    const size_t left = limit > device_cap ? limit - device_cap : 0;
    size_t free_b = 0, total_b = 0;
    check(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
    // Headroom: search scratch, and streaming buffers should the data outgrow the device.
    const size_t reserve = std::max<size_t>(size_t{512} << 20, total_b / 16) +
                           2 * std::min<size_t>(block_bytes(chunk_rows), size_t{256} << 20);
    const size_t by_mem = free_b > reserve ? (free_b - reserve) / (row_bytes + sizeof(float)) : 0;
    return std::min(left, by_mem);
  }

  void write_rows(Block& b, const uint8_t* data, const float* norms, size_t m) {
    if (b.on_device) {
      uint8_t* base = b.dev.as<uint8_t>();
      check(cudaMemcpy(base + b.rows * row_bytes, data, m * row_bytes, cudaMemcpyHostToDevice),
            "cudaMemcpy of vectors to the device");
      check(cudaMemcpy(base + b.cap * row_bytes + b.rows * sizeof(float), norms, m * sizeof(float),
                       cudaMemcpyHostToDevice),
            "cudaMemcpy of norms to the device");
      device_rows += m;
    } else {
      uint8_t* base = b.host.as<uint8_t>();
      std::memcpy(base + b.rows * row_bytes, data, m * row_bytes);
      std::memcpy(base + b.cap * row_bytes + b.rows * sizeof(float), norms, m * sizeof(float));
    }
    b.rows += m;
  }

  bool grow(Block& b, size_t need) {
    size_t new_cap = std::min(chunk_rows, std::max(2 * b.cap, b.rows + need));
    if (b.on_device) {
      const size_t allowed = device_allowance();
      if (new_cap - b.cap > allowed) new_cap = b.cap + allowed;
      if (new_cap <= b.cap) return false;
      DeviceMemory fresh;
      if (!fresh.try_allocate(block_bytes(new_cap), "vectors")) {
        device_full = true;
        return false;
      }
      uint8_t* dst = fresh.as<uint8_t>();
      const uint8_t* src = b.dev.as<uint8_t>();
      check(cudaMemcpy(dst, src, b.rows * row_bytes, cudaMemcpyDeviceToDevice), "cudaMemcpy (growing a block)");
      check(cudaMemcpy(dst + new_cap * row_bytes, src + b.cap * row_bytes, b.rows * sizeof(float),
                       cudaMemcpyDeviceToDevice),
            "cudaMemcpy (growing a block)");
      b.dev = std::move(fresh);
      device_cap += new_cap - b.cap;
    } else {
      HostMemory fresh;
      fresh.allocate(block_bytes(new_cap));
      uint8_t* dst = fresh.as<uint8_t>();
      const uint8_t* src = b.host.as<uint8_t>();
      std::memcpy(dst, src, b.rows * row_bytes);
      std::memcpy(dst + new_cap * row_bytes, src + b.cap * row_bytes, b.rows * sizeof(float));
      b.host = std::move(fresh);
    }
    b.cap = new_cap;
    return true;
  }

  void new_block(size_t need) {
    auto b = std::make_unique<Block>();
    const size_t want = std::min(chunk_rows, std::max(need, kMinBlockRows));
    if (!has_host_blocks() && !device_full) {
      const size_t cap = std::min(want, device_allowance());
      if (cap > 0) {
        if (b->dev.try_allocate(block_bytes(cap), "vectors")) {
          b->on_device = true;
          b->cap = cap;
          device_cap += cap;
          blocks.push_back(std::move(b));
          return;
        }
        device_full = true;
      } else {
        device_full = true;
      }
    }
    b->host.allocate(block_bytes(want));
    b->cap = want;
    blocks.push_back(std::move(b));
  }

  void place(const uint8_t* data, const float* norms, size_t m) {
    size_t done = 0;
    while (done < m) {
      Block* t = blocks.empty() ? nullptr : blocks.back().get();
      if (t && t->rows < t->cap) {
        const size_t take = std::min(m - done, t->cap - t->rows);
        write_rows(*t, data + done * row_bytes, norms + done, take);
        done += take;
        continue;
      }
      if (t && t->cap < chunk_rows && grow(*t, m - done)) continue;
      new_block(m - done);
    }
  }

  // Converts rows to the stored form: normalised for cosine, padded, float or half; norms of
  // what is stored.
  void convert(const float* x, size_t m, std::vector<uint8_t>& data, std::vector<float>& norms) const {
    data.assign(m * row_bytes, 0);
    norms.resize(m);
    std::vector<float> tmp(dim);
    for (size_t i = 0; i < m; ++i) {
      std::copy(x + i * dim, x + (i + 1) * dim, tmp.begin());
      if (metric == Metric::Cosine) normalize_in_place(tmp.data(), dim);
      double sq = 0.0;
      if (opt.storage == Storage::Float32) {
        float* dst = reinterpret_cast<float*>(data.data() + i * row_bytes);
        for (size_t j = 0; j < dim; ++j) {
          dst[j] = tmp[j];
          sq += static_cast<double>(tmp[j]) * tmp[j];
        }
      } else {
        uint16_t* dst = reinterpret_cast<uint16_t*>(data.data() + i * row_bytes);
        for (size_t j = 0; j < dim; ++j) {
          dst[j] = float_to_half_bits(tmp[j]);
          const double v = half_bits_to_float(dst[j]);
          sq += v * v;
        }
      }
      norms[i] = static_cast<float>(sq);
    }
  }

  void check_values(const float* x, size_t m, const char* what) const {
    const bool f16 = opt.storage == Storage::Float16 && metric != Metric::Cosine;
    for (size_t i = 0, total = m * dim; i < total; ++i) {
      const float v = x[i];
      if (!std::isfinite(v))
        throw InvalidArgument(std::string(what) + " contain a non-finite value (row " + std::to_string(i / dim) +
                              ", column " + std::to_string(i % dim) + ")");
      if (f16 && std::fabs(v) > kHalfMax)
        throw InvalidArgument(std::string(what) + " hold " + std::to_string(v) + " (row " + std::to_string(i / dim) +
                              "), beyond the float16 range (65504) of this index's storage");
    }
  }
};

CudaFlatIndex::CudaFlatIndex(size_t dim, Metric metric, const CudaFlatOptions& options) : impl_(new Impl) {
  if (dim == 0) throw InvalidArgument("dimension must be positive");
  if (dim > kMaxDim)
    throw InvalidArgument("dimension " + std::to_string(dim) + " is above the CUDA flat index's limit of " +
                          std::to_string(kMaxDim));
  std::string why;
  if (!cuda_available(&why)) throw DeviceError("CUDA is not available: " + why);
  const int n = device_count();
  if (options.device < 0 || options.device >= n)
    throw InvalidArgument("CUDA device " + std::to_string(options.device) + " does not exist (" + std::to_string(n) +
                          " device" + (n == 1 ? "" : "s") + ")");
  Impl& m = *impl_;
  m.dim = dim;
  m.dp = round_up(dim, kScanDepth);
  m.metric = metric;
  m.opt = options;
  if (options.storage == Storage::Float16) {
    m.mode = ScanMode::F16;
    m.esize = 2;
  } else {
    m.mode = options.exact ? ScanMode::F32Exact : ScanMode::F32Fast;
    m.esize = 4;
  }
  m.row_bytes = m.dp * m.esize;
  const size_t per_row = m.row_bytes + sizeof(float);
  m.chunk_rows = options.chunk_rows ? options.chunk_rows : std::max<size_t>(kMinBlockRows, (size_t{1} << 30) / per_row);
  m.chunk_rows = std::min<size_t>(m.chunk_rows, size_t{1} << 30);  // slice arithmetic stays in int

  DeviceGuard guard(options.device);
  (void)device_traits(options.device);  // configures the kernels for this device
  m.compute.create();
  m.copy.create();
  for (int i = 0; i < 2; ++i) {
    m.ready[i].create();
    m.freed[i].create();
  }
}

CudaFlatIndex::~CudaFlatIndex() {
  if (!impl_) return;
  // Free the device memory with the index's device current.
  int previous = -1;
  const bool restore = cudaGetDevice(&previous) == cudaSuccess && previous != impl_->opt.device;
  if (restore) (void)cudaSetDevice(impl_->opt.device);
  if (impl_->compute.get()) (void)cudaStreamSynchronize(impl_->compute.get());
  if (impl_->copy.get()) (void)cudaStreamSynchronize(impl_->copy.get());
  impl_.reset();
  if (restore) (void)cudaSetDevice(previous);
  (void)cudaGetLastError();
}

void CudaFlatIndex::add(const float* x, size_t n, const int64_t* ids) {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  if (n == 0) return;
  if (!x) throw InvalidArgument("add: null data");
  if (m.ids.size() + n > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw InvalidArgument("the CUDA flat index holds at most 2^31 - 1 vectors");
  m.check_values(x, n, "vectors");
  m.ids.check_new(ids, n);
  DeviceGuard guard(m.opt.device);
  std::vector<uint8_t> data;
  std::vector<float> norms;
  for (size_t p0 = 0; p0 < n; p0 += kAddPiece) {
    const size_t cnt = std::min(kAddPiece, n - p0);
    m.convert(x + p0 * m.dim, cnt, data, norms);
    m.place(data.data(), norms.data(), cnt);
    m.ids.append(ids ? ids + p0 : nullptr, cnt);  // after the rows are stored: a failure keeps a consistent prefix
  }
}

void CudaFlatIndex::search(const float* queries, size_t nq, size_t k, float* distances, int64_t* labels) const {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  if (k == 0) throw InvalidArgument("k must be positive");
  if (k > kMaxK)
    throw InvalidArgument("k = " + std::to_string(k) + " is above the CUDA flat index's limit of " +
                          std::to_string(kMaxK));
  if (nq == 0) return;
  if (!queries || !distances || !labels) throw InvalidArgument("search: null pointer");
  m.check_values(queries, nq, "queries");
  const size_t n = m.ids.size();
  if (n == 0) {
    std::fill(distances, distances + nq * k, std::numeric_limits<float>::infinity());
    std::fill(labels, labels + nq * k, int64_t{-1});
    return;
  }

  DeviceGuard guard(m.opt.device);
  const DeviceTraits& t = device_traits(m.opt.device);
  const int ki = static_cast<int>(k);
  const int kp = candidates_per_slice(ki, m.mode);
  const int cap = candidate_capacity(kp);
  size_t max_rows = 0;
  for (const auto& b : m.blocks) max_rows = std::max(max_rows, b->rows);
  const bool f16 = m.mode == ScanMode::F16;
  const size_t q_row = m.dp * sizeof(float) + (f16 ? 2 * m.dp * sizeof(uint16_t) : 0);

  // Queries per batch: as many as the scratch budget allows (at most 1 GiB, half of free memory).
  size_t free_b = 0, total_b = 0;
  check(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
  const size_t held = m.scratch.cand_d.bytes() + m.scratch.cand_i.bytes() + m.scratch.run_d.bytes() +
                      m.scratch.run_i.bytes() + m.q_f.bytes() + m.q_h.bytes() + m.q_l.bytes();
  const size_t budget = std::min<size_t>(size_t{1} << 30, (free_b + held) / 2);
  int nb = static_cast<int>(std::min<size_t>(nq, 65536));
  auto need = [&](int b) {
    const int s = choose_slices(t, b, static_cast<int>(max_rows), ki, kp);
    return scratch_bytes(b, s, cap, ki) + static_cast<size_t>(b) * q_row;
  };
  while (nb > kScanQueries && need(nb) > budget) nb /= 2;
  for (;;) {
    try {
      const int slices = choose_slices(t, nb, static_cast<int>(max_rows), ki, kp);
      ensure_scratch(m.scratch, nb, slices, cap, ki);
      m.q_f.ensure(static_cast<size_t>(nb) * m.dp * sizeof(float), "queries");
      if (f16) {
        m.q_h.ensure(static_cast<size_t>(nb) * m.dp * sizeof(uint16_t), "queries (float16 hi)");
        m.q_l.ensure(static_cast<size_t>(nb) * m.dp * sizeof(uint16_t), "queries (float16 lo)");
      }
      break;
    } catch (const DeviceOutOfMemory&) {
      m.scratch.release();
      m.q_f.release();
      m.q_h.release();
      m.q_l.release();
      if (nb <= 1) throw;
      nb = std::max(1, nb / 2);
    }
  }
  // Streaming buffers for the blocks kept in host memory: two of `stage_rows` rows each (a host
  // block is streamed in pieces of that size), halved while the device cannot hold them.
  size_t stage_rows = 0;
  for (const auto& b : m.blocks)
    if (!b->on_device) stage_rows = std::max(stage_rows, b->cap);
  if (stage_rows > 0) {
    const size_t held_rows = std::min(m.staging[0].bytes(), m.staging[1].bytes()) / (m.row_bytes + sizeof(float));
    if (held_rows >= stage_rows || held_rows >= kMinStageRows) {
      stage_rows = std::min(stage_rows, held_rows);  // reuse what a previous search allocated
    } else {
      for (;;) {
        for (auto& st : m.staging) st.release();
        if (m.staging[0].try_allocate(m.block_bytes(stage_rows), "streaming buffer") &&
            m.staging[1].try_allocate(m.block_bytes(stage_rows), "streaming buffer"))
          break;
        if (stage_rows <= kMinStageRows) {
          for (auto& st : m.staging) st.release();
          throw DeviceOutOfMemory("CUDA out of memory: no room for the buffers that stream vectors from host memory (" +
                                  format_bytes(2 * m.block_bytes(stage_rows)) + ")");
        }
        stage_rows = std::max(kMinStageRows, stage_rows / 2);
      }
    }
  }

  const cudaStream_t cs = m.compute.get();
  const cudaStream_t xs = m.copy.get();
  std::vector<float> hq(static_cast<size_t>(nb) * m.dp, 0.0f);
  std::vector<float> hd(static_cast<size_t>(nb) * k);
  std::vector<int> hi(static_cast<size_t>(nb) * k);
  const bool ip = m.inner_product();

  for (size_t b0 = 0; b0 < nq; b0 += static_cast<size_t>(nb)) {
    const int cnt = static_cast<int>(std::min<size_t>(nb, nq - b0));
    for (int i = 0; i < cnt; ++i) {
      float* dst = hq.data() + static_cast<size_t>(i) * m.dp;
      std::copy(queries + (b0 + i) * m.dim, queries + (b0 + i + 1) * m.dim, dst);
      if (m.metric == Metric::Cosine) normalize_in_place(dst, m.dim);
    }
    check(cudaMemcpyAsync(m.q_f.as<float>(), hq.data(), static_cast<size_t>(cnt) * m.dp * sizeof(float),
                          cudaMemcpyHostToDevice, cs),
          "cudaMemcpyAsync of queries");
    if (f16)
      check(launch_split_half(m.q_f.as<float>(), m.q_h.as<void>(), m.q_l.as<void>(),
                              static_cast<size_t>(cnt) * m.dp, cs),
            "launch of the query conversion kernel");
    QueryBatch qb;
    qb.qf = m.q_f.as<float>();
    qb.qh = m.q_h.as<void>();
    qb.ql = m.q_l.as<void>();
    qb.nq = cnt;

    bool first = true;
    size_t base = 0;
    int streamed = 0;
    for (const auto& bp : m.blocks) {
      const Impl::Block& b = *bp;
      RowBlock rb;
      rb.rows = static_cast<int>(b.rows);
      rb.base = static_cast<int>(base);
      if (b.on_device) {
        rb.x = b.dev.as<uint8_t>();
        rb.norms = reinterpret_cast<const float*>(b.dev.as<uint8_t>() + b.cap * m.row_bytes);
        run_block(t, m.mode, qb, rb, static_cast<int>(m.dim), static_cast<int>(m.dp), ip, ki, first, m.scratch, cs);
      } else {
        // Double buffering: the copy of a piece waits until its buffer's previous piece was
        // searched, and the search waits for the copy; the next copy overlaps this search.
        const uint8_t* src = b.host.as<uint8_t>();
        for (size_t r0 = 0; r0 < b.rows; r0 += stage_rows) {
          const size_t cnt = std::min(stage_rows, b.rows - r0);
          const int s = streamed++ & 1;
          uint8_t* st = m.staging[s].as<uint8_t>();
          check(cudaStreamWaitEvent(xs, m.freed[s].get(), 0), "cudaStreamWaitEvent");
          check(cudaMemcpyAsync(st, src + r0 * m.row_bytes, cnt * m.row_bytes, cudaMemcpyHostToDevice, xs),
                "cudaMemcpyAsync of streamed vectors");
          check(cudaMemcpyAsync(st + stage_rows * m.row_bytes, src + b.cap * m.row_bytes + r0 * sizeof(float),
                                cnt * sizeof(float), cudaMemcpyHostToDevice, xs),
                "cudaMemcpyAsync of streamed norms");
          check(cudaEventRecord(m.ready[s].get(), xs), "cudaEventRecord");
          check(cudaStreamWaitEvent(cs, m.ready[s].get(), 0), "cudaStreamWaitEvent");
          RowBlock piece;
          piece.x = st;
          piece.norms = reinterpret_cast<const float*>(st + stage_rows * m.row_bytes);
          piece.rows = static_cast<int>(cnt);
          piece.base = static_cast<int>(base + r0);
          run_block(t, m.mode, qb, piece, static_cast<int>(m.dim), static_cast<int>(m.dp), ip, ki, first, m.scratch,
                    cs);
          check(cudaEventRecord(m.freed[s].get(), cs), "cudaEventRecord");
          first = false;
        }
      }
      first = false;
      base += b.rows;
    }
    check(cudaMemcpyAsync(hd.data(), m.scratch.run_d.as<float>(), static_cast<size_t>(cnt) * k * sizeof(float),
                          cudaMemcpyDeviceToHost, cs),
          "cudaMemcpyAsync of results");
    check(cudaMemcpyAsync(hi.data(), m.scratch.run_i.as<int>(), static_cast<size_t>(cnt) * k * sizeof(int),
                          cudaMemcpyDeviceToHost, cs),
          "cudaMemcpyAsync of results");
    check(cudaStreamSynchronize(cs), "search kernels (cudaStreamSynchronize)");
    for (size_t i = 0; i < static_cast<size_t>(cnt) * k; ++i) {
      const int slot = hi[i];
      const size_t o = b0 * k + i;
      if (slot < 0) {
        labels[o] = -1;
        distances[o] = std::numeric_limits<float>::infinity();
      } else {
        labels[o] = m.ids.label(static_cast<uint32_t>(slot));
        distances[o] = hd[i];
      }
    }
  }
}

void CudaFlatIndex::reset() {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  DeviceGuard guard(m.opt.device);
  (void)cudaStreamSynchronize(m.compute.get());
  (void)cudaStreamSynchronize(m.copy.get());
  m.blocks.clear();
  m.ids = IdMap();
  m.device_cap = 0;
  m.device_rows = 0;
  m.device_full = false;
  m.scratch.release();
  m.q_f.release();
  m.q_h.release();
  m.q_l.release();
  for (auto& s : m.staging) s.release();
}

size_t CudaFlatIndex::size() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->ids.size();
}
size_t CudaFlatIndex::dim() const { return impl_->dim; }
Metric CudaFlatIndex::metric() const { return impl_->metric; }
Storage CudaFlatIndex::storage() const { return impl_->opt.storage; }
int CudaFlatIndex::device() const { return impl_->opt.device; }

size_t CudaFlatIndex::device_rows() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->device_rows;
}

CudaFlatIndex::MemoryBreakdown CudaFlatIndex::memory_breakdown() const {
  const Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  MemoryBreakdown b;
  for (const auto& blk : m.blocks) {
    if (blk->on_device) b.vectors_device += blk->dev.bytes();
    else b.vectors_host += blk->host.bytes();
  }
  b.ids = m.ids.memory_usage();
  b.scratch = m.scratch.cand_d.bytes() + m.scratch.cand_i.bytes() + m.scratch.run_d.bytes() + m.scratch.run_i.bytes() +
              m.q_f.bytes() + m.q_h.bytes() + m.q_l.bytes() + m.staging[0].bytes() + m.staging[1].bytes();
  return b;
}

size_t CudaFlatIndex::memory_usage() const {
  const MemoryBreakdown b = memory_breakdown();
  return b.vectors_device + b.vectors_host + b.ids + b.scratch;
}

size_t CudaFlatIndex::device_memory_usage() const {
  const MemoryBreakdown b = memory_breakdown();
  return b.vectors_device + b.scratch;
}

}  // namespace vidx::gpu
