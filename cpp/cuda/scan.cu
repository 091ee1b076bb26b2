// Kernels of the CUDA path.
//
// scan_kernel: one thread block takes 128 queries and one slice of a device block of rows. For
// each tile of 128 rows it computes the 128 x 128 inner products on the tensor cores (WMMA:
// 3xTF32 or 1xTF32 for float32 rows, float16 with a hi/lo split query for float16 rows), staged
// through shared memory with cp.async double buffering, writes them to a shared-memory tile
// only, and filters them against each query's current threshold. Survivors go to a small
// per-(query, slice) buffer in global memory; when it fills, a warp-level radix select keeps the
// best `kp` and tightens the threshold. The distance matrix is never written.
//
// merge_kernel: one thread block per query re-ranks the block's candidates with exact float32
// arithmetic (the same formula as the CPU flat index: sum of squared differences, or 1 - dot),
// adds the running top-k from earlier blocks and sorts (distance, slot) with a bitonic network.
#include <cuda_fp16.h>
#include <mma.h>

#include <cfloat>
#include <cstdint>

#include "device_values.cuh"
#include "kernels.cuh"

namespace vidx::gpu::detail {
namespace {

using namespace nvcuda;

constexpr int kBQ = kScanQueries;
constexpr int kBN = kScanRows;
constexpr int kKC = kScanDepth;
constexpr int kThreads = kScanThreads;
constexpr int kWarps = kThreads / 32;
constexpr int kLDC = kBN + 4;  // distance tile row stride (floats): a multiple of 4, rows 16 B apart

static_assert(kBQ == 128 && kBN == 128 && kThreads == 256, "the warp layout below assumes 2 x 4 warps of 64 x 32");
static_assert(kKC % 16 == 0, "k-chunk must hold whole WMMA steps");

template <ScanMode M>
struct Traits {
  using Elem = float;
  static constexpr int kLD = kKC + 4;  // staged row stride (elements): 144 B, 32 B aligned every 16 rows... see below
  static constexpr int kAArrays = 1;
  using Acc = wmma::fragment<wmma::accumulator, 16, 16, 8, float>;
};
template <>
struct Traits<ScanMode::F16> {
  using Elem = __half;
  static constexpr int kLD = kKC + 8;  // 80 B rows
  static constexpr int kAArrays = 2;   // query hi and lo
  using Acc = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;
};

// WMMA needs 32-byte aligned fragment pointers: 16 rows of kLD elements must be a multiple of 32 B.
static_assert((16 * (kKC + 4) * 4) % 32 == 0 && (16 * (kKC + 8) * 2) % 32 == 0, "fragment alignment");
static_assert((16 * kLDC * 4) % 32 == 0, "tile alignment");

struct Layout {
  size_t stage;   // bytes of one staging buffer (A arrays then B)
  size_t ct;      // offset of the distance tile
  size_t region;  // bytes of staging + tile
  size_t total;   // plus norms, thresholds, counts and histograms
};

template <ScanMode M>
__host__ __device__ inline Layout scan_layout(bool alias) {
  using T = Traits<M>;
  Layout l;
  l.stage = static_cast<size_t>(T::kAArrays * kBQ + kBN) * T::kLD * sizeof(typename T::Elem);
  l.stage = (l.stage + 127) / 128 * 128;
  const size_t tile = static_cast<size_t>(kBQ) * kLDC * sizeof(float);
  if (alias) {
    l.ct = 0;
    l.region = 2 * l.stage > tile ? 2 * l.stage : tile;
  } else {
    l.ct = 2 * l.stage;
    l.region = 2 * l.stage + tile;
  }
  l.total = l.region + static_cast<size_t>(kBN + kBQ + kBQ + kWarps * 256) * 4;
  return l;
}

// ---- small device helpers ------------------------------------------------------------------

__device__ __forceinline__ void cp_async16(void* smem_dst, const void* gmem_src, bool valid) {
  const unsigned dst = static_cast<unsigned>(__cvta_generic_to_shared(smem_dst));
  const int src_bytes = valid ? 16 : 0;  // 0: fill the 16 bytes with zeros, read nothing
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(gmem_src), "r"(src_bytes)
               : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

// Order-preserving map of floats to unsigned keys (negative numbers below positive ones).
__device__ __forceinline__ uint32_t float_key(float f) {
  const uint32_t u = __float_as_uint(f);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}
__device__ __forceinline__ float key_float(uint32_t k) {
  const uint32_t u = (k & 0x80000000u) ? (k & 0x7fffffffu) : ~k;
  return __uint_as_float(u);
}

// ---- staging one k-chunk of queries (A) and rows (B) into shared memory --------------------

template <ScanMode M>
__device__ __forceinline__ void load_chunk(const ScanParams& p, typename Traits<M>::Elem* st, int q0, int row0,
                                           int r_end, int k0, int tid) {
  using T = Traits<M>;
  using Elem = typename T::Elem;
  constexpr int kVec = 16 / static_cast<int>(sizeof(Elem));  // elements per 16-byte copy
  constexpr int kPerRow = kKC / kVec;
  const Elem* qa = static_cast<const Elem*>(p.q);
  const Elem* qb = static_cast<const Elem*>(p.q_lo);
  const Elem* x = static_cast<const Elem*>(p.x);

  constexpr int kACopies = T::kAArrays * kBQ * kPerRow;
  static_assert(kACopies % kThreads == 0, "A copies split evenly");
#pragma unroll
  for (int c = 0; c < kACopies / kThreads; ++c) {
    const int t = tid + c * kThreads;
    const int row = t / kPerRow;  // A rows of all arrays, consecutive
    const int sg = t - row * kPerRow;
    const int arr = row / kBQ;
    const int q = q0 + (row - arr * kBQ);
    const bool valid = q < p.nq;
    const Elem* src = (arr == 0 ? qa : qb) + static_cast<size_t>(valid ? q : 0) * p.dp + k0 + sg * kVec;
    cp_async16(st + row * T::kLD + sg * kVec, src, valid);
  }
  constexpr int kBCopies = kBN * kPerRow;
  static_assert(kBCopies % kThreads == 0, "B copies split evenly");
  Elem* sb = st + T::kAArrays * kBQ * T::kLD;
#pragma unroll
  for (int c = 0; c < kBCopies / kThreads; ++c) {
    const int t = tid + c * kThreads;
    const int r = t / kPerRow;
    const int sg = t - r * kPerRow;
    const int row = row0 + r;
    const bool valid = row < r_end;
    const Elem* src = x + static_cast<size_t>(valid ? row : 0) * p.dp + k0 + sg * kVec;
    cp_async16(sb + r * T::kLD + sg * kVec, src, valid);
  }
}

// ---- tensor-core products of one staged k-chunk ---------------------------------------------
// Warp (wr, wc) owns queries [wr*64, wr*64+64) x rows [wc*32, wc*32+32): 4 x 2 fragments.

template <ScanMode M>
__device__ __forceinline__ void mma_chunk(const typename Traits<M>::Elem* st, typename Traits<M>::Acc (&acc)[4][2],
                                          int wr, int wc) {
  using T = Traits<M>;
  if constexpr (M == ScanMode::F16) {
    const __half* a_hi = st;
    const __half* a_lo = st + kBQ * T::kLD;
    const __half* b = st + 2 * kBQ * T::kLD;
#pragma unroll
    for (int ks = 0; ks < kKC; ks += 16) {
      wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> bf[2];
#pragma unroll
      for (int j = 0; j < 2; ++j) wmma::load_matrix_sync(bf[j], b + (wc * 32 + j * 16) * T::kLD + ks, T::kLD);
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> ah, al;
        wmma::load_matrix_sync(ah, a_hi + (wr * 64 + i * 16) * T::kLD + ks, T::kLD);
        wmma::load_matrix_sync(al, a_lo + (wr * 64 + i * 16) * T::kLD + ks, T::kLD);
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          wmma::mma_sync(acc[i][j], al, bf[j], acc[i][j]);
          wmma::mma_sync(acc[i][j], ah, bf[j], acc[i][j]);
        }
      }
    }
  } else {
    constexpr bool kExact = M == ScanMode::F32Exact;
    const float* a = st;
    const float* b = st + kBQ * T::kLD;
#pragma unroll
    for (int ks = 0; ks < kKC; ks += 8) {
      wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::col_major> bh[2], bl[2];
#pragma unroll
      for (int j = 0; j < 2; ++j) {
        wmma::load_matrix_sync(bh[j], b + (wc * 32 + j * 16) * T::kLD + ks, T::kLD);
#pragma unroll
        for (int e = 0; e < bh[j].num_elements; ++e) {
          const float v = bh[j].x[e];
          const float h = wmma::__float_to_tf32(v);
          bh[j].x[e] = h;
          if constexpr (kExact) bl[j].x[e] = wmma::__float_to_tf32(v - h);
        }
      }
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> ah, al;
        wmma::load_matrix_sync(ah, a + (wr * 64 + i * 16) * T::kLD + ks, T::kLD);
#pragma unroll
        for (int e = 0; e < ah.num_elements; ++e) {
          const float v = ah.x[e];
          const float h = wmma::__float_to_tf32(v);
          ah.x[e] = h;
          if constexpr (kExact) al.x[e] = wmma::__float_to_tf32(v - h);
        }
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          if constexpr (kExact) {  // small terms first
            wmma::mma_sync(acc[i][j], al, bh[j], acc[i][j]);
            wmma::mma_sync(acc[i][j], ah, bl[j], acc[i][j]);
          }
          wmma::mma_sync(acc[i][j], ah, bh[j], acc[i][j]);
        }
      }
    }
  }
}

// ---- candidate buffers ------------------------------------------------------------------------

// Keeps, in place, the `keep` smallest of the first `cnt` entries of (bd, bi) (cnt > keep) and
// returns the value of the keep-th smallest: later entries must beat it. One warp; `hist` is
// this warp's 256 counters in shared memory.
__device__ float warp_compact(float* bd, int* bi, int cnt, int keep, int* hist, int lane) {
  const unsigned lt_mask = (1u << lane) - 1u;
  uint32_t prefix = 0, mask = 0;
  int rank = keep;  // 1-based rank of the wanted key among the entries matching prefix/mask
  for (int shift = 24; shift >= 0; shift -= 8) {
    for (int b = lane; b < 256; b += 32) hist[b] = 0;
    __syncwarp();
    for (int i = lane; i < cnt; i += 32) {
      const uint32_t key = float_key(bd[i]);
      if ((key & mask) == prefix) atomicAdd(&hist[(key >> shift) & 255u], 1);
    }
    __syncwarp();
    int local[8];
    int sum = 0;
#pragma unroll
    for (int b = 0; b < 8; ++b) {
      local[b] = hist[lane * 8 + b];
      sum += local[b];
    }
    int incl = sum;
#pragma unroll
    for (int off = 1; off < 32; off <<= 1) {
      const int y = __shfl_up_sync(kFullWarp, incl, off);
      if (lane >= off) incl += y;
    }
    const int excl = incl - sum;
    const bool mine = excl < rank && rank <= incl;
    int bin = 0, next_rank = 0;
    if (mine) {
      int c = excl;
      bool found = false;
#pragma unroll
      for (int b = 0; b < 8; ++b) {
        if (!found && c + local[b] >= rank) {
          found = true;
          bin = lane * 8 + b;
          next_rank = rank - c;
        }
        c += local[b];
      }
    }
    const int owner = __ffs(__ballot_sync(kFullWarp, mine)) - 1;
    bin = __shfl_sync(kFullWarp, bin, owner);
    next_rank = __shfl_sync(kFullWarp, next_rank, owner);
    prefix |= static_cast<uint32_t>(bin) << shift;
    mask |= 0xffu << shift;
    rank = next_rank;
    __syncwarp();  // everyone read hist before the next round clears it
  }
  // prefix is the key of the keep-th smallest; `rank` entries equal to it are kept.
  int out = 0;
  int eq_left = rank;
  for (int i0 = 0; i0 < cnt; i0 += 32) {
    const int i = i0 + lane;
    const bool valid = i < cnt;
    const float d = valid ? bd[i] : 0.f;
    const int id = valid ? bi[i] : 0;
    const uint32_t key = float_key(d);
    const bool lt = valid && key < prefix;
    const bool eq = valid && key == prefix;
    const unsigned meq = __ballot_sync(kFullWarp, eq);
    const bool keep_it = lt || (eq && __popc(meq & lt_mask) < eq_left);
    eq_left -= min(__popc(meq), eq_left);
    const unsigned mk = __ballot_sync(kFullWarp, keep_it);
    // Writes land at or before the position read in this round: reads of later rounds are untouched.
    if (keep_it) {
      const int pos = out + __popc(mk & lt_mask);
      bd[pos] = d;
      bi[pos] = id;
    }
    out += __popc(mk);
  }
  __syncwarp();
  return key_float(prefix);
}

// Filters one 128 x 128 tile of inner products into the candidate buffers. Warp w takes query
// rows w, w + 8, ...: it alone touches their thresholds, counts and buffers.
__device__ __forceinline__ void select_tile(const ScanParams& p, const float* ct, const float* s_norm, float* s_tau,
                                            int* s_cnt, int* hist, int q0, int slice, int row0, int r_end, int warp,
                                            int lane) {
  const unsigned lt_mask = (1u << lane) - 1u;
  for (int r = warp; r < kBQ; r += kWarps) {
    const int q = q0 + r;
    if (q >= p.nq) break;
    const size_t base = (static_cast<size_t>(q) * p.num_slices + slice) * p.cap;
    float* bd = p.cand_d + base;
    int* bi = p.cand_i + base;
    int cnt = s_cnt[r];
    float tau = s_tau[r];
    if (cnt + kBN > p.cap) {
      tau = warp_compact(bd, bi, cnt, p.kp, hist, lane);
      cnt = p.kp;
    }
    const float* crow = ct + r * kLDC;
#pragma unroll
    for (int j0 = 0; j0 < kBN; j0 += 32) {
      const int j = j0 + lane;
      const int row = row0 + j;
      const float dot = crow[j];
      const float v = p.inner_product ? -dot : fmaf(-2.f, dot, s_norm[j]);
      const bool pass = row < r_end && v < tau;
      const unsigned m = __ballot_sync(kFullWarp, pass);
      if (pass) {
        const int pos = cnt + __popc(m & lt_mask);
        bd[pos] = v;
        bi[pos] = row;
      }
      cnt += __popc(m);
    }
    __syncwarp();
    if (lane == 0) {
      s_cnt[r] = cnt;
      s_tau[r] = tau;
    }
  }
}

// ---- the fused scan ----------------------------------------------------------------------------

template <ScanMode M>
__global__ void __launch_bounds__(kThreads, 1) scan_kernel(const ScanParams p, const int alias) {
  using T = Traits<M>;
  using Elem = typename T::Elem;
  extern __shared__ __align__(128) unsigned char smem[];
  const Layout L = scan_layout<M>(alias != 0);
  auto stage = [&](int i) { return reinterpret_cast<Elem*>(smem + (i & 1) * L.stage); };
  float* ct = reinterpret_cast<float*>(smem + L.ct);
  float* s_norm = reinterpret_cast<float*>(smem + L.region);
  float* s_tau = s_norm + kBN;
  int* s_cnt = reinterpret_cast<int*>(s_tau + kBQ);
  int* s_hist = s_cnt + kBQ;

  const int tid = threadIdx.x;
  const int lane = tid & 31;
  const int warp = tid >> 5;
  const int wr = warp >> 2;
  const int wc = warp & 3;
  const int q0 = blockIdx.x * kBQ;
  const int slice = blockIdx.y;
  const int r_begin = slice * p.slice_len;
  const int r_end = min(p.n, r_begin + p.slice_len);
  const int n_tiles = r_end > r_begin ? (r_end - r_begin + kBN - 1) / kBN : 0;
  const int n_k = p.dp / kKC;
  const int total = n_tiles * n_k;
  int* hist = s_hist + warp * 256;

  for (int i = tid; i < kBQ; i += kThreads) {
    s_tau[i] = inf_f();  // +inf
    s_cnt[i] = 0;
  }

  typename T::Acc acc[4][2];
  if (total > 0) load_chunk<M>(p, stage(0), q0, r_begin, r_end, 0, tid);
  cp_async_commit();

  for (int it = 0; it < total; ++it) {
    const int tile = it / n_k;
    const int kc = it - tile * n_k;
    const int row0 = r_begin + tile * kBN;
    if (kc == 0) {
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.f);
      if (tid < kBN) s_norm[tid] = (!p.inner_product && row0 + tid < r_end) ? p.norms[row0 + tid] : 0.f;
    }
    const bool last_k = kc == n_k - 1;
    // Prefetch the next chunk while this one is multiplied (with an aliased tile, only inside a tile).
    if (it + 1 < total && !(alias && last_k)) {
      const int nt = (it + 1) / n_k;
      load_chunk<M>(p, stage(it + 1), q0, r_begin + nt * kBN, r_end, ((it + 1) - nt * n_k) * kKC, tid);
    }
    cp_async_commit();
    cp_async_wait<1>();
    __syncthreads();
    mma_chunk<M>(stage(it), acc, wr, wc);
    __syncthreads();
    if (last_k) {
#pragma unroll
      for (int i = 0; i < 4; ++i)
#pragma unroll
        for (int j = 0; j < 2; ++j)
          wmma::store_matrix_sync(ct + (wr * 64 + i * 16) * kLDC + wc * 32 + j * 16, acc[i][j], kLDC,
                                  wmma::mem_row_major);
      __syncthreads();
      select_tile(p, ct, s_norm, s_tau, s_cnt, hist, q0, slice, row0, r_end, warp, lane);
      __syncthreads();
      if (alias && it + 1 < total) {
        const int nt = (it + 1) / n_k;
        load_chunk<M>(p, stage(it + 1), q0, r_begin + nt * kBN, r_end, 0, tid);
        cp_async_commit();
      }
    }
  }
  cp_async_wait<0>();
  __syncthreads();

  // Leave exactly kp entries per (query, slice): the best kp, or all there are padded with -1.
  for (int r = warp; r < kBQ; r += kWarps) {
    const int q = q0 + r;
    if (q >= p.nq) break;
    const size_t base = (static_cast<size_t>(q) * p.num_slices + slice) * p.cap;
    float* bd = p.cand_d + base;
    int* bi = p.cand_i + base;
    int cnt = s_cnt[r];
    if (cnt > p.kp) {
      warp_compact(bd, bi, cnt, p.kp, hist, lane);
      cnt = p.kp;
    }
    for (int i = cnt + lane; i < p.kp; i += 32) {
      bd[i] = inf_f();
      bi[i] = -1;
    }
  }
}

// ---- exact re-rank and merge --------------------------------------------------------------------

__device__ __forceinline__ bool entry_before(float ka, int va, float kb, int vb) {
  // Ascending distance; equal distances by slot, with -1 (empty) last.
  return ka < kb || (ka == kb && static_cast<unsigned>(va) < static_cast<unsigned>(vb));
}

template <typename Elem>
__global__ void __launch_bounds__(kMergeThreads) merge_kernel(const MergeParams p) {
  extern __shared__ __align__(128) unsigned char smem_merge[];
  float* sq = reinterpret_cast<float*>(smem_merge);
  float* keys = sq + p.dp;
  int* vals = reinterpret_cast<int*>(keys + p.sorted_entries);
  constexpr int kMWarps = kMergeThreads / 32;
  const int q = blockIdx.x;
  const int tid = threadIdx.x;
  const int lane = tid & 31;
  const int warp = tid >> 5;
  const int P = p.sorted_entries;
  const int m_total = p.k + p.num_slices * p.kp;

  const float* qrow = p.q + static_cast<size_t>(q) * p.dp;
  for (int i = tid; i < p.dim; i += kMergeThreads) sq[i] = qrow[i];
  for (int t = tid; t < P; t += kMergeThreads) {
    float kd = inf_f();
    int kv = -1;
    if (t < p.k) {
      if (!p.first) {
        kd = p.run_d[static_cast<size_t>(q) * p.k + t];
        kv = p.run_i[static_cast<size_t>(q) * p.k + t];
      }
    } else if (t < m_total) {
      const int j = t - p.k;
      const int s = j / p.kp;
      const int jj = j - s * p.kp;
      const size_t at = (static_cast<size_t>(q) * p.num_slices + s) * p.cap + jj;
      const int id = p.cand_i[at];
      kv = id < 0 ? -1 : p.base + id;
      // The few-query scan's distances are the re-rank's own arithmetic: L2 bit for bit, and
      // 1 + (-<q,x>) is 1 - <q,x> exactly.
      if (p.scored && id >= 0) kd = p.inner_product ? 1.f + p.cand_d[at] : p.cand_d[at];
    }
    keys[t] = kd;
    vals[t] = kv;
  }
  __syncthreads();

  const Elem* x = static_cast<const Elem*>(p.x);
  for (int t = p.k + warp; !p.scored && t < m_total; t += kMWarps) {
    const int g = vals[t];
    if (g < 0) continue;  // the same for the whole warp
    const Elem* xr = x + static_cast<size_t>(g - p.base) * p.dp;
    float acc = 0.f;
    if (p.inner_product) {
      for (int i = lane; i < p.dim; i += 32) acc = fmaf(sq[i], to_float(xr[i]), acc);
    } else {
      for (int i = lane; i < p.dim; i += 32) {
        const float df = sq[i] - to_float(xr[i]);
        acc = fmaf(df, df, acc);
      }
    }
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(kFullWarp, acc, off);
    if (lane == 0) keys[t] = p.inner_product ? 1.f - acc : acc;
  }
  __syncthreads();

  // Bitonic sort of P (a power of two) entries.
  for (int size = 2; size <= P; size <<= 1) {
    for (int stride = size >> 1; stride > 0; stride >>= 1) {
      for (int t = tid; t < P / 2; t += kMergeThreads) {
        const int i = 2 * t - (t & (stride - 1));
        const int j = i + stride;
        const bool ascending = (i & size) == 0;
        const float ki = keys[i], kj = keys[j];
        const int vi = vals[i], vj = vals[j];
        const bool swap = ascending ? entry_before(kj, vj, ki, vi) : entry_before(ki, vi, kj, vj);
        if (swap) {
          keys[i] = kj;
          keys[j] = ki;
          vals[i] = vj;
          vals[j] = vi;
        }
      }
      __syncthreads();
    }
  }
  for (int t = tid; t < p.k; t += kMergeThreads) {
    p.run_d[static_cast<size_t>(q) * p.k + t] = keys[t];
    p.run_i[static_cast<size_t>(q) * p.k + t] = vals[t];
  }
}

// ---- helpers ---------------------------------------------------------------------------------------

__global__ void split_half_kernel(const float* q, __half* hi, __half* lo, size_t count) {
  for (size_t i = blockIdx.x * static_cast<size_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<size_t>(gridDim.x) * blockDim.x) {
    const float v = q[i];
    const __half h = __float2half_rn(v);
    hi[i] = h;
    lo[i] = __float2half_rn(v - __half2float(h));
  }
}

__global__ void row_norms_kernel(const float* x, int n, int dp, float* norms) {
  const int warps_per_block = blockDim.x / 32;
  const int row = blockIdx.x * warps_per_block + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (row >= n) return;
  const float* xr = x + static_cast<size_t>(row) * dp;
  float acc = 0.f;
  for (int i = lane; i < dp; i += 32) acc = fmaf(xr[i], xr[i], acc);
#pragma unroll
  for (int off = 16; off > 0; off >>= 1) acc += __shfl_xor_sync(kFullWarp, acc, off);
  if (lane == 0) norms[row] = acc;
}

__global__ void centroid_update_kernel(const float* x, int dp, int dim, const int* perm, const long long* offsets,
                                       float* centroids) {
  const int c = blockIdx.x;
  const long long lo = offsets[c], hi = offsets[c + 1];
  if (hi <= lo) return;
  const double inv = 1.0 / static_cast<double>(hi - lo);
  for (int j = threadIdx.x; j < dim; j += blockDim.x) {
    double s = 0.0;
#pragma unroll 4
    for (long long t = lo; t < hi; ++t) s += static_cast<double>(x[static_cast<size_t>(perm[t]) * dp + j]);
    centroids[static_cast<size_t>(c) * dp + j] = static_cast<float>(s * inv);
  }
}

template <ScanMode M>
cudaError_t launch_scan_t(bool alias, size_t shared_bytes, const ScanParams& p, cudaStream_t stream) {
  const dim3 grid(static_cast<unsigned>((p.nq + kBQ - 1) / kBQ), static_cast<unsigned>(p.num_slices));
  scan_kernel<M><<<grid, kThreads, shared_bytes, stream>>>(p, alias ? 1 : 0);
  return cudaGetLastError();
}

}  // namespace

size_t scan_shared_bytes(ScanMode mode, bool alias) {
  switch (mode) {
    case ScanMode::F32Exact: return scan_layout<ScanMode::F32Exact>(alias).total;
    case ScanMode::F32Fast: return scan_layout<ScanMode::F32Fast>(alias).total;
    case ScanMode::F16: return scan_layout<ScanMode::F16>(alias).total;
  }
  return 0;
}

cudaError_t scan_configure(ScanMode mode, size_t shared_bytes) {
  const int bytes = static_cast<int>(shared_bytes);
  switch (mode) {
    case ScanMode::F32Exact:
      return cudaFuncSetAttribute(scan_kernel<ScanMode::F32Exact>, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
    case ScanMode::F32Fast:
      return cudaFuncSetAttribute(scan_kernel<ScanMode::F32Fast>, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
    case ScanMode::F16:
      return cudaFuncSetAttribute(scan_kernel<ScanMode::F16>, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
  }
  return cudaErrorInvalidValue;
}

cudaError_t scan_occupancy(ScanMode mode, size_t shared_bytes, int* blocks_per_sm) {
  switch (mode) {
    case ScanMode::F32Exact:
      return cudaOccupancyMaxActiveBlocksPerMultiprocessor(blocks_per_sm, scan_kernel<ScanMode::F32Exact>, kThreads,
                                                           shared_bytes);
    case ScanMode::F32Fast:
      return cudaOccupancyMaxActiveBlocksPerMultiprocessor(blocks_per_sm, scan_kernel<ScanMode::F32Fast>, kThreads,
                                                           shared_bytes);
    case ScanMode::F16:
      return cudaOccupancyMaxActiveBlocksPerMultiprocessor(blocks_per_sm, scan_kernel<ScanMode::F16>, kThreads,
                                                           shared_bytes);
  }
  return cudaErrorInvalidValue;
}

cudaError_t launch_scan(ScanMode mode, bool alias, size_t shared_bytes, const ScanParams& p, cudaStream_t stream) {
  if (p.nq <= 0 || p.num_slices <= 0) return cudaSuccess;
  switch (mode) {
    case ScanMode::F32Exact: return launch_scan_t<ScanMode::F32Exact>(alias, shared_bytes, p, stream);
    case ScanMode::F32Fast: return launch_scan_t<ScanMode::F32Fast>(alias, shared_bytes, p, stream);
    case ScanMode::F16: return launch_scan_t<ScanMode::F16>(alias, shared_bytes, p, stream);
  }
  return cudaErrorInvalidValue;
}

size_t merge_shared_bytes(int dp, int sorted_entries) {
  return static_cast<size_t>(dp) * sizeof(float) + static_cast<size_t>(sorted_entries) * (sizeof(float) + sizeof(int));
}

cudaError_t launch_merge(bool f16, const MergeParams& p, cudaStream_t stream) {
  if (p.nq <= 0) return cudaSuccess;
  const size_t bytes = merge_shared_bytes(p.dp, p.sorted_entries);
  if (bytes > 48 * 1024) {
    cudaError_t e = f16 ? cudaFuncSetAttribute(merge_kernel<__half>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                               static_cast<int>(bytes))
                        : cudaFuncSetAttribute(merge_kernel<float>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                               static_cast<int>(bytes));
    if (e != cudaSuccess) return e;
  }
  if (f16)
    merge_kernel<__half><<<static_cast<unsigned>(p.nq), kMergeThreads, bytes, stream>>>(p);
  else
    merge_kernel<float><<<static_cast<unsigned>(p.nq), kMergeThreads, bytes, stream>>>(p);
  return cudaGetLastError();
}

cudaError_t launch_split_half(const float* q, void* hi, void* lo, size_t count, cudaStream_t stream) {
  if (count == 0) return cudaSuccess;
  const size_t blocks = (count + 255) / 256;
  split_half_kernel<<<static_cast<unsigned>(blocks < 65536 ? blocks : 65536), 256, 0, stream>>>(
      q, static_cast<__half*>(hi), static_cast<__half*>(lo), count);
  return cudaGetLastError();
}

cudaError_t launch_row_norms(const float* x, int n, int dp, float* norms, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  row_norms_kernel<<<static_cast<unsigned>((n + 7) / 8), 256, 0, stream>>>(x, n, dp, norms);
  return cudaGetLastError();
}

cudaError_t launch_centroid_update(const float* x, int dp, int dim, const int* perm, const long long* offsets, int k,
                                   float* centroids, cudaStream_t stream) {
  if (k <= 0) return cudaSuccess;
  const int threads = dim >= 256 ? 256 : (dim + 31) / 32 * 32;
  centroid_update_kernel<<<static_cast<unsigned>(k), threads, 0, stream>>>(x, dp, dim, perm, offsets, centroids);
  return cudaGetLastError();
}

cudaError_t probe_kernel_image() {
  cudaFuncAttributes attr;
  cudaError_t e = cudaFuncGetAttributes(&attr, scan_kernel<ScanMode::F32Exact>);
  if (e != cudaSuccess) return e;
  e = cudaFuncGetAttributes(&attr, merge_kernel<float>);
  return e;
}

}  // namespace vidx::gpu::detail
