// The search engine shared by the flat index and k-means: runs the fused scan and the exact
// merge of one block of rows for one batch of device-resident queries, and sizes the work.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "cuda_common.cuh"
#include "kernels.cuh"

namespace vidx::gpu::detail {

// What the engine needs to know about a device, read once per process and device.
struct DeviceTraits {
  int device = 0;
  int multiprocessors = 1;
  int concurrent_scan_blocks = 1;  // scan blocks that run at once on the whole device
  size_t shared_optin = 48 * 1024;
  bool alias[3] = {false, false, false};  // per ScanMode: tile aliased on the staging buffers
  size_t scan_shared[3] = {0, 0, 0};
  int few_blocks[2][8] = {};  // few-query scan blocks per multiprocessor: [float16 rows][queries - 1]
};

// Reads (once) the traits of `device` and configures the kernels for it; the device must be current.
const DeviceTraits& device_traits(int device);

// Candidates kept per (query, slice) for a given k and mode, and their buffer capacity.
int candidates_per_slice(int k, ScanMode mode);
int candidate_capacity(int kp);

// Slices for a block of `rows` rows searched by nq queries: fills the device, bounded by
// the merge (k + slices * kp <= kMergeMaxEntries) and by rows (at least 4 tiles a slice).
int choose_slices(const DeviceTraits& t, int nq, int rows, int k, int kp);
int slice_length(int rows, int slices);  // rows per slice, a multiple of kScanRows

// Whether a batch takes the few-query scan (few_scan.cu) rather than the tiled one: at most
// kFewMaxQueries queries, k small enough that the scan's kFewList-entry lists keep a margin of
// kFewMargin beyond it, and the queries and lists within the default shared memory.
constexpr int kFewMargin = 16;
constexpr int kFewMinRows = 4 * kScanRows;  // rows a few-query slice scans at least
constexpr size_t kFewSharedLimit = 48 * 1024;
bool uses_few_scan(int nq, int k, int dp);
// Slices of a few-query scan over `rows` rows: bounded by the merge (k + kFewMargin candidates
// each), by rows (kFewMinRows each) and by the blocks the device runs at once.
int few_scan_slices(const DeviceTraits& t, ScanMode mode, int nq, int rows, int k);
// Slices the scratch must hold for batches of nq queries over blocks of up to `rows` rows.
int scratch_slices(const DeviceTraits& t, ScanMode mode, int nq, int rows, int k, int dp);

struct QueryBatch {
  const float* qf = nullptr;  // float32 queries [nq x dp]
  const void* qh = nullptr;   // float16 hi / lo (F16 mode)
  const void* ql = nullptr;
  int nq = 0;
};

struct RowBlock {
  const void* x = nullptr;       // [rows x dp] float or half
  const float* norms = nullptr;  // [rows]
  int rows = 0;
  int base = 0;                  // slot of row 0
};

// Candidate buffers and running top-k lists for up to `nq` queries, `slices` slices a block.
struct Scratch {
  DeviceMemory cand_d, cand_i, run_d, run_i;
  int nq = 0, slices = 0, cap = 0, k = 0;
  void release() {
    cand_d.release();
    cand_i.release();
    run_d.release();
    run_i.release();
    nq = slices = cap = k = 0;
  }
};

// Bytes of scratch for nq queries and at most `slices` slices a block.
size_t scratch_bytes(int nq, int slices, int cap, int k);
// Grows s to hold (nq, slices, cap, k); throws DeviceOutOfMemory.
void ensure_scratch(Scratch& s, int nq, int slices, int cap, int k);

// Scan + merge of one block; `first` starts the running top-k of each query afresh. The
// running lists (s.run_d / s.run_i, nq x k) then hold the exact top-k over the blocks so far.
// Uses at most s.slices slices.
void run_block(const DeviceTraits& t, ScanMode mode, const QueryBatch& q, const RowBlock& b, int dim, int dp,
               bool inner_product, int k, bool first, Scratch& s, cudaStream_t stream);

}  // namespace vidx::gpu::detail
