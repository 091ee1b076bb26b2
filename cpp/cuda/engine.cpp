#include "engine.cuh"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "vidx/common/error.hpp"

namespace vidx::gpu::detail {

const DeviceTraits& device_traits(int device) {
  static std::mutex mu;
  static std::map<int, DeviceTraits> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(device);
  if (it != cache.end()) return it->second;

  DeviceTraits t;
  t.device = device;
  check(cudaDeviceGetAttribute(&t.multiprocessors, cudaDevAttrMultiProcessorCount, device),
        "cudaDeviceGetAttribute(MultiProcessorCount)");
  int optin = 0;
  check(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device),
        "cudaDeviceGetAttribute(MaxSharedMemoryPerBlockOptin)");
  t.shared_optin = static_cast<size_t>(optin);
  int min_blocks = 1 << 30;
  for (int m = 0; m < 3; ++m) {
    const ScanMode mode = static_cast<ScanMode>(m);
    bool alias = scan_shared_bytes(mode, false) > t.shared_optin;
    size_t bytes = scan_shared_bytes(mode, alias);
    if (bytes > t.shared_optin)
      throw DeviceError("GPU " + std::to_string(device) + " offers " + format_bytes(t.shared_optin) +
                        " of shared memory per block; the scan kernel needs " + format_bytes(bytes));
    check(scan_configure(mode, bytes), "cudaFuncSetAttribute(scan kernel, MaxDynamicSharedMemorySize)");
    t.alias[m] = alias;
    t.scan_shared[m] = bytes;
    // Blocks of this kernel that run at once on one multiprocessor (registers, shared memory).
    int per_sm = 0;
    check(scan_occupancy(mode, bytes, &per_sm), "cudaOccupancyMaxActiveBlocksPerMultiprocessor(scan kernel)");
    if (per_sm < 1) throw DeviceError("the scan kernel cannot run on GPU " + std::to_string(device) +
                                      " (no block fits on a multiprocessor)");
    min_blocks = std::min(min_blocks, per_sm);
  }
  t.concurrent_scan_blocks = t.multiprocessors * min_blocks;
  // The few-query scan at the most shared memory it takes: registers and that bound its blocks.
  for (int f16 = 0; f16 < 2; ++f16)
    for (int nq = 1; nq <= kFewMaxQueries; ++nq) {
      int per_sm = 0;
      check(few_scan_occupancy(f16 == 1, nq, kFewSharedLimit, &per_sm),
            "cudaOccupancyMaxActiveBlocksPerMultiprocessor(few-query scan kernel)");
      t.few_blocks[f16][nq - 1] = std::max(1, per_sm);
    }
  return cache.emplace(device, t).first->second;
}

namespace {

// VIDX_CUDA_DEBUG=1: wait for every kernel, so that a fault is reported against the kernel
// that caused it rather than a later call.
bool debug_sync() {
  static const bool on = [] {
    const char* v = std::getenv("VIDX_CUDA_DEBUG");
    return v && *v && *v != '0';
  }();
  return on;
}

void after_launch(cudaStream_t stream, const char* kernel) {
  if (debug_sync()) check(cudaStreamSynchronize(stream), std::string(kernel) + " (VIDX_CUDA_DEBUG sync)");
}

}  // namespace

int candidates_per_slice(int k, ScanMode mode) {
  const int margin = mode == ScanMode::F32Fast ? std::max(32, k / 2) : std::max(16, k / 8);
  return k + margin;
}

int candidate_capacity(int kp) { return (2 * kp + kScanRows + 31) / 32 * 32; }

namespace {

// A block's rows cut into at most `slices` slices of whole tiles: their length, and how many
// hold rows (fewer than asked when the rounding up to tiles covers the rows sooner).
struct RowSlices {
  int length;
  int count;
};
RowSlices cut_rows(int rows, int slices) {
  const int len = slice_length(rows, slices);
  return {len, static_cast<int>((static_cast<long long>(rows) + len - 1) / len)};
}

// Time of one row block's search, in units of one scan tile (kScanRows rows against
// kScanQueries queries on one multiprocessor): the waves of scan blocks times the tiles each
// block scans, plus the merge, whose blocks (one per query, about eight at once on a
// multiprocessor) re-rank k + slices * kp entries. One merge round of 256 entries costs about
// one tile: on an H200, 10,000 queries merging 8 slices of 26 candidates took 0.26 ms, a 3xTF32
// scan tile 22 us. The scan dominates wherever there are rows to scan, so this only has to
// rank the slice counts, and it must see that a few queries need many slices to fill the device
// (100 queries over 1M rows: 17 slices took 10.3 ms, 4x PyTorch's time).
double block_search_tiles(const DeviceTraits& t, long long query_blocks, int nq, int rows, int k, int kp,
                          int slices) {
  const RowSlices cut = cut_rows(rows, slices);
  const long long used = cut.count;
  const long long lanes = std::max(1, t.concurrent_scan_blocks);
  const long long waves = (query_blocks * used + lanes - 1) / lanes;
  const double scan = static_cast<double>(waves) * (cut.length / kScanRows);
  const long long merge_lanes = 8LL * std::max(1, t.multiprocessors);
  const long long merge_rounds = (nq + merge_lanes - 1) / merge_lanes;
  const double merge = static_cast<double>(merge_rounds) * (k + used * kp) / 256.0;
  return scan + merge;
}

}  // namespace

int choose_slices(const DeviceTraits& t, int nq, int rows, int k, int kp) {
  if (rows <= 0 || nq <= 0) return 1;
  const long long query_blocks = (nq + kScanQueries - 1) / kScanQueries;
  const int by_rows = std::max(1, (rows + 4 * kScanRows - 1) / (4 * kScanRows));
  const int by_merge = std::max(1, (kMergeMaxEntries - k) / kp);
  const int hi = std::min({by_rows, by_merge, 65535});
  // The smallest slice count within 3% of the fastest: fewer slices, less merge and scratch.
  std::vector<double> cost(static_cast<size_t>(hi) + 1);
  double best = 1e300;
  for (int s = 1; s <= hi; ++s) {
    cost[static_cast<size_t>(s)] = block_search_tiles(t, query_blocks, nq, rows, k, kp, s);
    best = std::min(best, cost[static_cast<size_t>(s)]);
  }
  for (int s = 1; s <= hi; ++s)
    if (cost[static_cast<size_t>(s)] <= best * 1.03) return s;
  return 1;
}

int slice_length(int rows, int slices) {
  const long long per = (static_cast<long long>(rows) + slices - 1) / slices;
  return static_cast<int>((per + kScanRows - 1) / kScanRows * kScanRows);
}

size_t scratch_bytes(int nq, int slices, int cap, int k) {
  const size_t cand = static_cast<size_t>(nq) * slices * cap;
  const size_t run = static_cast<size_t>(nq) * k;
  return cand * (sizeof(float) + sizeof(int)) + run * (sizeof(float) + sizeof(int));
}

void ensure_scratch(Scratch& s, int nq, int slices, int cap, int k) {
  if (nq <= s.nq && slices <= s.slices && cap <= s.cap && k <= s.k && s.cand_d.bytes() > 0) return;
  s.release();
  const size_t cand = static_cast<size_t>(std::max(nq, 1)) * slices * cap;
  const size_t run = static_cast<size_t>(std::max(nq, 1)) * k;
  s.cand_d.allocate(cand * sizeof(float), "candidate distances");
  s.cand_i.allocate(cand * sizeof(int), "candidate ids");
  s.run_d.allocate(run * sizeof(float), "top-k distances");
  s.run_i.allocate(run * sizeof(int), "top-k ids");
  s.nq = nq;
  s.slices = slices;
  s.cap = cap;
  s.k = k;
}

bool uses_few_scan(int nq, int k, int dp) {
  return nq <= kFewMaxQueries && k + kFewMargin <= kFewList && few_scan_shared_bytes(nq, dp) <= kFewSharedLimit;
}

int few_scan_slices(const DeviceTraits& t, ScanMode mode, int nq, int rows, int k) {
  const int by_merge = (kMergeMaxEntries - k) / (k + kFewMargin);
  const int by_rows = std::max(1, rows / kFewMinRows);
  const int by_device = t.multiprocessors * t.few_blocks[mode == ScanMode::F16 ? 1 : 0][nq - 1];
  return std::max(1, std::min({by_merge, by_rows, by_device}));
}

int scratch_slices(const DeviceTraits& t, ScanMode mode, int nq, int rows, int k, int dp) {
  const int tiled = choose_slices(t, nq, rows, k, candidates_per_slice(k, mode));
  return uses_few_scan(nq, k, dp) ? std::max(tiled, few_scan_slices(t, mode, nq, rows, k)) : tiled;
}

namespace {

// The few-query scan over one block, in as many slices as few_scan_slices allows and the
// scratch holds.
int run_few_scan(const DeviceTraits& t, ScanMode mode, const QueryBatch& q, const RowBlock& b, int dp,
                 bool inner_product, int k, Scratch& s, cudaStream_t stream) {
  const RowSlices cut = cut_rows(b.rows, std::min(s.slices, few_scan_slices(t, mode, q.nq, b.rows, k)));
  FewScanParams fp;
  fp.q = q.qf;
  fp.nq = q.nq;
  fp.x = b.x;
  fp.n = b.rows;
  fp.dp = dp;
  fp.slice_len = cut.length;
  fp.num_slices = cut.count;
  fp.cap = s.cap;
  fp.inner_product = inner_product ? 1 : 0;
  fp.cand_d = s.cand_d.as<float>();
  fp.cand_i = s.cand_i.as<int>();
  check(launch_few_scan(mode == ScanMode::F16, fp, stream), "launch of the few-query scan kernel");
  after_launch(stream, "few-query scan kernel");
  return fp.num_slices;
}

// The tiled tensor-core scan over one block, in choose_slices' slices (at most the scratch's).
int run_tiled_scan(const DeviceTraits& t, ScanMode mode, const QueryBatch& q, const RowBlock& b, int dp,
                   bool inner_product, int k, int kp, Scratch& s, cudaStream_t stream) {
  const int m = static_cast<int>(mode);
  const RowSlices cut = cut_rows(b.rows, std::min(choose_slices(t, q.nq, b.rows, k, kp), s.slices));
  ScanParams sp;
  sp.q = mode == ScanMode::F16 ? q.qh : static_cast<const void*>(q.qf);
  sp.q_lo = q.ql;
  sp.nq = q.nq;
  sp.x = b.x;
  sp.norms = b.norms;
  sp.n = b.rows;
  sp.dp = dp;
  sp.slice_len = cut.length;
  sp.num_slices = cut.count;
  sp.kp = kp;
  sp.cap = s.cap;
  sp.inner_product = inner_product ? 1 : 0;
  sp.cand_d = s.cand_d.as<float>();
  sp.cand_i = s.cand_i.as<int>();
  check(launch_scan(mode, t.alias[m], t.scan_shared[m], sp, stream), "launch of the scan kernel");
  after_launch(stream, "scan kernel");
  return sp.num_slices;
}

}  // namespace

void run_block(const DeviceTraits& t, ScanMode mode, const QueryBatch& q, const RowBlock& b, int dim, int dp,
               bool inner_product, int k, bool first, Scratch& s, cudaStream_t stream) {
  if (q.nq <= 0) return;
  if (q.nq > s.nq || k > s.k) throw InvalidArgument("internal: scratch too small for this batch");
  const bool few = uses_few_scan(q.nq, k, dp);
  const int kp = few ? k + kFewMargin : candidates_per_slice(k, mode);
  const int cap = candidate_capacity(kp);
  if (cap > s.cap) throw InvalidArgument("internal: candidate buffers too small");

  // Each scan leaves per (query, slice) the candidates the merge reads; the number of slices it used.
  int slices = 0;
  if (b.rows > 0)
    slices = few ? run_few_scan(t, mode, q, b, dp, inner_product, k, s, stream)
                 : run_tiled_scan(t, mode, q, b, dp, inner_product, k, kp, s, stream);

  MergeParams mp;
  mp.q = q.qf;
  mp.nq = q.nq;
  mp.dp = dp;
  mp.dim = dim;
  mp.x = b.x;
  mp.base = b.base;
  mp.cand_i = s.cand_i.as<int>();
  mp.cand_d = s.cand_d.as<float>();
  mp.scored = few ? 1 : 0;
  mp.num_slices = slices;
  mp.kp = kp;
  mp.cap = s.cap;
  mp.k = k;
  mp.first = first ? 1 : 0;
  mp.inner_product = inner_product ? 1 : 0;
  int entries = 2;
  while (entries < k + slices * kp) entries <<= 1;
  if (entries > kMergeMaxEntries) throw InvalidArgument("internal: merge too large");
  mp.sorted_entries = entries;
  mp.run_d = s.run_d.as<float>();
  mp.run_i = s.run_i.as<int>();
  check(launch_merge(mode == ScanMode::F16, mp, stream), "launch of the merge kernel");
  after_launch(stream, "merge kernel");
}

}  // namespace vidx::gpu::detail
