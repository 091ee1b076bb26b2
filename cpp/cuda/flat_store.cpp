#include "flat_store.cuh"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "half.cuh"
#include "kernels.cuh"
#include "vidx/common/error.hpp"

namespace vidx::gpu::detail {
namespace {

constexpr size_t kAddPiece = 16384;    // rows converted on the host per step of add()
constexpr size_t kMinBlockRows = 4096;
constexpr size_t kMinStageRows = 4096;  // smallest piece streamed from host memory
constexpr float kHalfMax = 65504.0f;

size_t round_up(size_t a, size_t b) { return (a + b - 1) / b * b; }

}  // namespace

FlatStore::FlatStore(size_t dim, bool half, bool inner_product, const FlatDeviceOptions& options)
    : dim_(dim), dp_(round_up(dim, kScanDepth)), half_(half), inner_product_(inner_product), opt_(options) {
  mode_ = half ? ScanMode::F16 : (options.exact ? ScanMode::F32Exact : ScanMode::F32Fast);
  row_bytes_ = dp_ * (half ? sizeof(uint16_t) : sizeof(float));
  const size_t per_row = row_bytes_ + sizeof(float);
  chunk_rows_ = options.chunk_rows ? options.chunk_rows : std::max<size_t>(kMinBlockRows, (size_t{1} << 30) / per_row);
  chunk_rows_ = std::min<size_t>(chunk_rows_, size_t{1} << 30);  // slice arithmetic stays in int

  DeviceGuard guard(options.device);
  (void)device_traits(options.device);  // configures the kernels for this device
  compute_.create();
  copy_.create();
  for (int i = 0; i < 2; ++i) {
    ready_[i].create();
    freed_[i].create();
  }
}

FlatStore::~FlatStore() {
  // The members free their device memory, streams and events with the store's device current;
  // restore_ (destroyed last) then makes the caller's device current again.
  int previous = -1;
  if (cudaGetDevice(&previous) == cudaSuccess && previous != opt_.device && cudaSetDevice(opt_.device) == cudaSuccess)
    restore_.previous = previous;
  if (compute_.get()) (void)cudaStreamSynchronize(compute_.get());
  if (copy_.get()) (void)cudaStreamSynchronize(copy_.get());
  (void)cudaGetLastError();
}

// Rows that may still be allocated on the device: the option's limit, and free memory minus
// headroom for search scratch and the streaming buffers.
size_t FlatStore::device_allowance() const {
  if (device_full_) return 0;
  const size_t limit = opt_.max_device_rows ? opt_.max_device_rows : std::numeric_limits<size_t>::max();
  const size_t left = limit > device_cap_ ? limit - device_cap_ : 0;
  size_t free_b = 0, total_b = 0;
  check(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
  const size_t reserve = std::max<size_t>(size_t{512} << 20, total_b / 16) +
                         2 * std::min<size_t>(block_bytes(chunk_rows_), size_t{256} << 20);
  const size_t by_mem = free_b > reserve ? (free_b - reserve) / (row_bytes_ + sizeof(float)) : 0;
  return std::min(left, by_mem);
}

void FlatStore::write_rows(Block& b, const uint8_t* data, const float* norms, size_t m) {
  if (b.on_device) {
    uint8_t* base = b.dev.as<uint8_t>();
    check(cudaMemcpy(base + b.rows * row_bytes_, data, m * row_bytes_, cudaMemcpyHostToDevice),
          "cudaMemcpy of vectors to the device");
    check(cudaMemcpy(base + b.cap * row_bytes_ + b.rows * sizeof(float), norms, m * sizeof(float),
                     cudaMemcpyHostToDevice),
          "cudaMemcpy of norms to the device");
  } else {
    uint8_t* base = b.host.as<uint8_t>();
    std::memcpy(base + b.rows * row_bytes_, data, m * row_bytes_);
    std::memcpy(base + b.cap * row_bytes_ + b.rows * sizeof(float), norms, m * sizeof(float));
  }
  b.rows += m;
}

bool FlatStore::grow(Block& b, size_t need) {
  size_t new_cap = std::min(chunk_rows_, std::max(2 * b.cap, b.rows + need));
  if (b.on_device) {
    const size_t allowed = device_allowance();
    if (new_cap - b.cap > allowed) new_cap = b.cap + allowed;
    if (new_cap <= b.cap) return false;
    DeviceMemory fresh;
    if (!fresh.try_allocate(block_bytes(new_cap), "vectors")) {
      device_full_ = true;
      return false;
    }
    uint8_t* dst = fresh.as<uint8_t>();
    const uint8_t* src = b.dev.as<uint8_t>();
    check(cudaMemcpy(dst, src, b.rows * row_bytes_, cudaMemcpyDeviceToDevice), "cudaMemcpy (growing a block)");
    check(cudaMemcpy(dst + new_cap * row_bytes_, src + b.cap * row_bytes_, b.rows * sizeof(float),
                     cudaMemcpyDeviceToDevice),
          "cudaMemcpy (growing a block)");
    b.dev = std::move(fresh);
    device_cap_ += new_cap - b.cap;
  } else {
    HostMemory fresh;
    fresh.allocate(block_bytes(new_cap));
    uint8_t* dst = fresh.as<uint8_t>();
    const uint8_t* src = b.host.as<uint8_t>();
    std::memcpy(dst, src, b.rows * row_bytes_);
    std::memcpy(dst + new_cap * row_bytes_, src + b.cap * row_bytes_, b.rows * sizeof(float));
    b.host = std::move(fresh);
  }
  b.cap = new_cap;
  return true;
}

void FlatStore::new_block(size_t need) {
  auto b = std::make_unique<Block>();
  const size_t want = std::min(chunk_rows_, std::max(need, kMinBlockRows));
  if (!has_host_blocks() && !device_full_) {
    const size_t cap = std::min(want, device_allowance());
    if (cap > 0 && b->dev.try_allocate(block_bytes(cap), "vectors")) {
      b->on_device = true;
      b->cap = cap;
      device_cap_ += cap;
      blocks_.push_back(std::move(b));
      return;
    }
    device_full_ = true;
  }
  b->host.allocate(block_bytes(want));
  b->cap = want;
  blocks_.push_back(std::move(b));
}

void FlatStore::place(const uint8_t* data, const float* norms, size_t m) {
  size_t done = 0;
  while (done < m) {
    Block* t = blocks_.empty() ? nullptr : blocks_.back().get();
    if (t && t->rows < t->cap) {
      const size_t take = std::min(m - done, t->cap - t->rows);
      write_rows(*t, data + done * row_bytes_, norms + done, take);
      done += take;
      continue;
    }
    if (t && t->cap < chunk_rows_ && grow(*t, m - done)) continue;
    new_block(m - done);
  }
}

// Forgets every row from `rows` on; blocks left empty are freed.
void FlatStore::truncate(size_t rows) {
  size_t seen = 0;
  for (auto& b : blocks_) {
    b->rows = std::min(b->rows, rows > seen ? rows - seen : 0);
    seen += b->rows;
  }
  while (!blocks_.empty() && blocks_.back()->rows == 0) {
    if (blocks_.back()->on_device) device_cap_ -= blocks_.back()->cap;
    blocks_.pop_back();
  }
  rows_ = rows;
}

// Converts rows to the stored form: padded, float or half; norms of what is stored.
void FlatStore::convert(const float* x, size_t m, std::vector<uint8_t>& data, std::vector<float>& norms) const {
  data.assign(m * row_bytes_, 0);
  norms.resize(m);
  for (size_t i = 0; i < m; ++i) {
    const float* src = x + i * dim_;
    double sq = 0.0;
    if (half_) {
      uint16_t* dst = reinterpret_cast<uint16_t*>(data.data() + i * row_bytes_);
      for (size_t j = 0; j < dim_; ++j) {
        dst[j] = float_to_half_bits(src[j]);
        const double v = half_bits_to_float(dst[j]);
        sq += v * v;
      }
    } else {
      std::memcpy(data.data() + i * row_bytes_, src, dim_ * sizeof(float));
      for (size_t j = 0; j < dim_; ++j) sq += static_cast<double>(src[j]) * src[j];
    }
    norms[i] = static_cast<float>(sq);
  }
}

void FlatStore::check_range(const float* x, size_t m, const char* what) const {
  if (!half_) return;
  for (size_t i = 0, total = m * dim_; i < total; ++i)
    if (std::fabs(x[i]) > kHalfMax)
      throw InvalidArgument(std::string(what) + " hold " + std::to_string(x[i]) + " (row " + std::to_string(i / dim_) +
                            "), beyond the float16 range (65504) of this index's storage");
}

void FlatStore::add(const float* x, size_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  check_range(x, n, "vectors");
  DeviceGuard guard(opt_.device);
  const size_t before = rows_;
  std::vector<uint8_t> data;
  std::vector<float> norms;
  try {
    for (size_t p0 = 0; p0 < n; p0 += kAddPiece) {
      const size_t cnt = std::min(kAddPiece, n - p0);
      convert(x + p0 * dim_, cnt, data, norms);
      place(data.data(), norms.data(), cnt);
      rows_ += cnt;
    }
  } catch (...) {
    truncate(before);
    throw;
  }
}

std::vector<uint8_t> FlatStore::codes() const {
  std::lock_guard<std::mutex> lock(mu_);
  DeviceGuard guard(opt_.device);
  const size_t code = dim_ * (half_ ? sizeof(uint16_t) : sizeof(float));
  std::vector<uint8_t> out(rows_ * code);
  std::vector<uint8_t> padded;
  size_t row = 0;
  for (const auto& b : blocks_) {
    const uint8_t* src = b->host.as<uint8_t>();
    if (b->on_device) {
      padded.resize(b->rows * row_bytes_);
      check(cudaMemcpy(padded.data(), b->dev.as<uint8_t>(), padded.size(), cudaMemcpyDeviceToHost),
            "cudaMemcpy of vectors from the device");
      src = padded.data();
    }
    for (size_t i = 0; i < b->rows; ++i) std::memcpy(out.data() + (row + i) * code, src + i * row_bytes_, code);
    row += b->rows;
  }
  return out;
}

// Sizes the scratch for the largest batch of queries that fits (at most 1 GiB, half of free
// memory) and returns that batch size.
int FlatStore::reserve_scratch(size_t nq, int k, size_t max_rows) const {
  const DeviceTraits& t = device_traits(opt_.device);
  const int kp = candidates_per_slice(k, mode_);
  const int cap = candidate_capacity(kp);
  const size_t q_row = dp_ * sizeof(float) + (half_ ? 2 * dp_ * sizeof(uint16_t) : 0);
  size_t free_b = 0, total_b = 0;
  check(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo");
  const size_t held = scratch_.cand_d.bytes() + scratch_.cand_i.bytes() + scratch_.run_d.bytes() +
                      scratch_.run_i.bytes() + q_f_.bytes() + q_h_.bytes() + q_l_.bytes();
  const size_t budget = std::min<size_t>(size_t{1} << 30, (free_b + held) / 2);
  int nb = static_cast<int>(std::min<size_t>(nq, 65536));
  auto need = [&](int b) {
    const int s = scratch_slices(t, mode_, b, static_cast<int>(max_rows), k, static_cast<int>(dp_));
    return detail::scratch_bytes(b, s, cap, k) + static_cast<size_t>(b) * q_row;
  };
  while (nb > kScanQueries && need(nb) > budget) nb /= 2;
  for (;;) {
    try {
      ensure_scratch(scratch_, nb, scratch_slices(t, mode_, nb, static_cast<int>(max_rows), k, static_cast<int>(dp_)),
                     cap, k);
      q_f_.ensure(static_cast<size_t>(nb) * dp_ * sizeof(float), "queries");
      if (half_) {
        q_h_.ensure(static_cast<size_t>(nb) * dp_ * sizeof(uint16_t), "queries (float16 hi)");
        q_l_.ensure(static_cast<size_t>(nb) * dp_ * sizeof(uint16_t), "queries (float16 lo)");
      }
      return nb;
    } catch (const DeviceOutOfMemory&) {
      scratch_.release();
      q_f_.release();
      q_h_.release();
      q_l_.release();
      if (nb <= 1) throw;
      nb = std::max(1, nb / 2);
    }
  }
}

// Streaming buffers for the blocks kept in host memory: two of the returned number of rows
// each (a host block is streamed in pieces of that size), halved while the device cannot hold
// them; 0 when every block is on the device.
size_t FlatStore::reserve_staging() const {
  size_t stage_rows = 0;
  for (const auto& b : blocks_)
    if (!b->on_device) stage_rows = std::max(stage_rows, b->cap);
  if (stage_rows == 0) return 0;
  const size_t held_rows = std::min(staging_[0].bytes(), staging_[1].bytes()) / (row_bytes_ + sizeof(float));
  if (held_rows >= stage_rows || held_rows >= kMinStageRows)
    return std::min(stage_rows, held_rows);  // reuse what a previous search allocated
  for (;;) {
    for (auto& st : staging_) st.release();
    if (staging_[0].try_allocate(block_bytes(stage_rows), "streaming buffer") &&
        staging_[1].try_allocate(block_bytes(stage_rows), "streaming buffer"))
      return stage_rows;
    if (stage_rows <= kMinStageRows) {
      for (auto& st : staging_) st.release();
      throw DeviceOutOfMemory("CUDA out of memory: no room for the buffers that stream vectors from host memory (" +
                              format_bytes(2 * block_bytes(stage_rows)) + ")");
    }
    stage_rows = std::max(kMinStageRows, stage_rows / 2);
  }
}

// One batch of `cnt` queries (at most the scratch's batch size) over every block.
void FlatStore::search_batch(const float* queries, int cnt, int k, size_t stage_rows, float* distances,
                             int64_t* slots) const {
  const DeviceTraits& t = device_traits(opt_.device);
  const cudaStream_t cs = compute_.get();
  const cudaStream_t xs = copy_.get();
  std::vector<float> hq(static_cast<size_t>(cnt) * dp_, 0.0f);
  for (int i = 0; i < cnt; ++i) std::copy(queries + i * dim_, queries + (i + 1) * dim_, hq.data() + i * dp_);
  check(cudaMemcpyAsync(q_f_.as<float>(), hq.data(), hq.size() * sizeof(float), cudaMemcpyHostToDevice, cs),
        "cudaMemcpyAsync of queries");
  if (half_)
    check(launch_split_half(q_f_.as<float>(), q_h_.as<void>(), q_l_.as<void>(), hq.size(), cs),
          "launch of the query conversion kernel");
  QueryBatch qb;
  qb.qf = q_f_.as<float>();
  qb.qh = q_h_.as<void>();
  qb.ql = q_l_.as<void>();
  qb.nq = cnt;
  const int dim = static_cast<int>(dim_), dp = static_cast<int>(dp_);

  bool first = true;
  size_t base = 0;
  int streamed = 0;
  for (const auto& bp : blocks_) {
    const Block& b = *bp;
    if (b.on_device) {
      RowBlock rb;
      rb.x = b.dev.as<uint8_t>();
      rb.norms = reinterpret_cast<const float*>(b.dev.as<uint8_t>() + b.cap * row_bytes_);
      rb.rows = static_cast<int>(b.rows);
      rb.base = static_cast<int>(base);
      run_block(t, mode_, qb, rb, dim, dp, inner_product_, k, first, scratch_, cs);
      first = false;
    }
    // Double buffering: the copy of a piece waits until its buffer's previous piece was
    // searched, and the search waits for the copy; the next copy overlaps this search.
    for (size_t r0 = 0; !b.on_device && r0 < b.rows; r0 += stage_rows) {
      const size_t rows = std::min(stage_rows, b.rows - r0);
      const int s = streamed++ & 1;
      uint8_t* st = staging_[s].as<uint8_t>();
      const uint8_t* src = b.host.as<uint8_t>();
      check(cudaStreamWaitEvent(xs, freed_[s].get(), 0), "cudaStreamWaitEvent");
      check(cudaMemcpyAsync(st, src + r0 * row_bytes_, rows * row_bytes_, cudaMemcpyHostToDevice, xs),
            "cudaMemcpyAsync of streamed vectors");
      check(cudaMemcpyAsync(st + stage_rows * row_bytes_, src + b.cap * row_bytes_ + r0 * sizeof(float),
                            rows * sizeof(float), cudaMemcpyHostToDevice, xs),
            "cudaMemcpyAsync of streamed norms");
      check(cudaEventRecord(ready_[s].get(), xs), "cudaEventRecord");
      check(cudaStreamWaitEvent(cs, ready_[s].get(), 0), "cudaStreamWaitEvent");
      RowBlock piece;
      piece.x = st;
      piece.norms = reinterpret_cast<const float*>(st + stage_rows * row_bytes_);
      piece.rows = static_cast<int>(rows);
      piece.base = static_cast<int>(base + r0);
      run_block(t, mode_, qb, piece, dim, dp, inner_product_, k, first, scratch_, cs);
      check(cudaEventRecord(freed_[s].get(), cs), "cudaEventRecord");
      first = false;
    }
    base += b.rows;
  }
  const size_t n = static_cast<size_t>(cnt) * k;
  std::vector<int> hi(n);
  check(cudaMemcpyAsync(distances, scratch_.run_d.as<float>(), n * sizeof(float), cudaMemcpyDeviceToHost, cs),
        "cudaMemcpyAsync of results");
  check(cudaMemcpyAsync(hi.data(), scratch_.run_i.as<int>(), n * sizeof(int), cudaMemcpyDeviceToHost, cs),
        "cudaMemcpyAsync of results");
  check(cudaStreamSynchronize(cs), "search kernels (cudaStreamSynchronize)");
  for (size_t i = 0; i < n; ++i) {
    slots[i] = hi[i];
    if (hi[i] < 0) distances[i] = std::numeric_limits<float>::infinity();
  }
}

void FlatStore::search(const float* queries, size_t nq, size_t k, float* distances, int64_t* slots) const {
  std::lock_guard<std::mutex> lock(mu_);
  check_range(queries, nq, "queries");
  if (rows_ == 0) {
    std::fill(distances, distances + nq * k, std::numeric_limits<float>::infinity());
    std::fill(slots, slots + nq * k, int64_t{-1});
    return;
  }
  DeviceGuard guard(opt_.device);
  size_t max_rows = 0;
  for (const auto& b : blocks_) max_rows = std::max(max_rows, b->rows);
  const int ki = static_cast<int>(k);
  const size_t nb = static_cast<size_t>(reserve_scratch(nq, ki, max_rows));
  const size_t stage_rows = reserve_staging();
  for (size_t b0 = 0; b0 < nq; b0 += nb) {
    const int cnt = static_cast<int>(std::min(nb, nq - b0));
    search_batch(queries + b0 * dim_, cnt, ki, stage_rows, distances + b0 * k, slots + b0 * k);
  }
}

size_t FlatStore::rows() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rows_;
}

size_t FlatStore::device_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t bytes = 0;
  for (const auto& b : blocks_) bytes += b->on_device ? b->dev.bytes() : 0;
  return bytes;
}

size_t FlatStore::host_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t bytes = 0;
  for (const auto& b : blocks_) bytes += b->on_device ? 0 : b->host.bytes();
  return bytes;
}

size_t FlatStore::scratch_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return scratch_.cand_d.bytes() + scratch_.cand_i.bytes() + scratch_.run_d.bytes() + scratch_.run_i.bytes() +
         q_f_.bytes() + q_h_.bytes() + q_l_.bytes() + staging_[0].bytes() + staging_[1].bytes();
}

}  // namespace vidx::gpu::detail
