// The float distance loops, written once over an ISA's primitives (isa_<name>.hpp) and
// instantiated per ISA in kernels_<name>.cpp. A: the query's element type, B: the stored
// vector's (float, uint16_t for float16 codes converted in registers, split::UpperHalf for the
// upper halves of split float32 codes), or JoinedHalves, a split code's two halves joined.
//
// Every loop runs four accumulators over 4·W dimensions per step (a fused multiply-add waits
// on the previous one into the same register for ~4-5 cycles; four chains keep both FMA
// units busy where two left them idle more than half the time), then W-wide steps into the
// first, and a partial register for the tail, so l2 with a bound never reached returns bit for
// bit what l2 returns.
#pragma once
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>

#include "vidx/codec/split_f32_kernels.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx::simd::loops {

// Where a loop reads its elements: a pointer to them, or both halves of split float32 codes,
// which an ISA joins in registers (isa.md: load_joined).
struct JoinedHalves {
  const split::UpperHalf* upper;
  const uint16_t* lower;
};

template <class I, class E>
inline typename I::F load_at(const E* p, size_t i) { return I::load(p + i); }
template <class I, class E>
inline typename I::F load_partial_at(const E* p, size_t i, size_t n) { return I::load_partial(p + i, n); }
template <class I>
inline typename I::F load_at(JoinedHalves p, size_t i) { return I::load_joined(p.upper + i, p.lower + i); }
template <class I>
inline typename I::F load_partial_at(JoinedHalves p, size_t i, size_t n) {
  return I::load_joined_partial(p.upper + i, p.lower + i, n);
}

struct L2Term {
  template <class I>
  static typename I::F apply(typename I::F a, typename I::F b, typename I::F acc) {
    const typename I::F d = I::sub(a, b);
    return I::fmadd(d, d, acc);
  }
};

struct DotTerm {
  template <class I>
  static typename I::F apply(typename I::F a, typename I::F b, typename I::F acc) { return I::fmadd(a, b, acc); }
};

template <class I>
struct Accumulators {
  typename I::F s0 = I::zero(), s1 = I::zero(), s2 = I::zero(), s3 = I::zero();
  float total() const { return I::reduce(I::add(I::add(s0, s1), I::add(s2, s3))); }
};

// Dimensions [begin, end), a multiple of 4·W apart. a, b: element pointers or JoinedHalves.
template <class I, class Term, class A, class B>
inline void accumulate(A a, B b, size_t begin, size_t end, Accumulators<I>& acc) {
  constexpr size_t W = I::kWidth;
  for (size_t i = begin; i < end; i += 4 * W) {
    acc.s0 = Term::template apply<I>(load_at<I>(a, i), load_at<I>(b, i), acc.s0);
    acc.s1 = Term::template apply<I>(load_at<I>(a, i + W), load_at<I>(b, i + W), acc.s1);
    acc.s2 = Term::template apply<I>(load_at<I>(a, i + 2 * W), load_at<I>(b, i + 2 * W), acc.s2);
    acc.s3 = Term::template apply<I>(load_at<I>(a, i + 3 * W), load_at<I>(b, i + 3 * W), acc.s3);
  }
}

// Dimensions [i, dim), fewer than 4·W, then the total.
template <class I, class Term, class A, class B>
inline float finish(A a, B b, size_t i, size_t dim, Accumulators<I> acc) {
  constexpr size_t W = I::kWidth;
  for (; i + W <= dim; i += W) acc.s0 = Term::template apply<I>(load_at<I>(a, i), load_at<I>(b, i), acc.s0);
  if (i < dim)
    acc.s1 = Term::template apply<I>(load_partial_at<I>(a, i, dim - i), load_partial_at<I>(b, i, dim - i), acc.s1);
  return acc.total();
}

template <class I>
constexpr size_t whole_steps(size_t dim) { return dim / (4 * I::kWidth) * (4 * I::kWidth); }

// sum_i term(a_i, b_i) over element pointers or JoinedHalves.
template <class I, class Term, class A, class B>
float distance_over(A a, B b, size_t dim) {
  Accumulators<I> acc;
  const size_t full = whole_steps<I>(dim);
  accumulate<I, Term>(a, b, 0, full, acc);
  return finish<I, Term>(a, b, full, dim, acc);
}

// sum_i term(a_i, b_i): squared L2 with L2Term, inner product with DotTerm.
template <class I, class Term, class A, class B>
float distance(const A* a, const B* b, size_t dim) { return distance_over<I, Term>(a, b, dim); }

// The same against split float32 codes, their halves joined: the float32 values themselves,
// summed in distance()'s order, so the result is float32's bit for bit.
template <class I, class Term>
float joined_distance(const float* q, const split::UpperHalf* upper, const uint16_t* lower, size_t dim) {
  return distance_over<I, Term>(q, JoinedHalves{upper, lower}, dim);
}

template <class I, class B>
inline void prefetch_elements(const B* x, size_t count) {
  const char* p = reinterpret_cast<const char*>(x);
  for (size_t off = 0; off < count * sizeof(B); off += 64) I::prefetch(p + off);
}

// G distances side by side: each vector keeps its own four accumulators, summed in
// distance()'s order, so every result is distance<I, Term>'s bit for bit. One vector at a time,
// each distance ended on a chain of dependent adds (its accumulators, then across lanes) that
// the next vector's loads could not start under; side by side, G chains overlap and the query's
// registers are loaded once for all G.
template <class I, class Term, size_t G, class B>
inline void distances_side_by_side(const float* q, const B* const* xs, size_t dim, float* out) {
  constexpr size_t W = I::kWidth;
  Accumulators<I> acc[G];
  const size_t full = whole_steps<I>(dim);
  size_t i = 0;
  for (; i < full; i += 4 * W) {
    const typename I::F q0 = I::load(q + i), q1 = I::load(q + i + W), q2 = I::load(q + i + 2 * W),
                        q3 = I::load(q + i + 3 * W);
    for (size_t g = 0; g < G; ++g) {
      acc[g].s0 = Term::template apply<I>(q0, load_at<I>(xs[g], i), acc[g].s0);
      acc[g].s1 = Term::template apply<I>(q1, load_at<I>(xs[g], i + W), acc[g].s1);
      acc[g].s2 = Term::template apply<I>(q2, load_at<I>(xs[g], i + 2 * W), acc[g].s2);
      acc[g].s3 = Term::template apply<I>(q3, load_at<I>(xs[g], i + 3 * W), acc[g].s3);
    }
  }
  for (; i + W <= dim; i += W) {  // finish()'s steps, side by side
    const typename I::F qi = I::load(q + i);
    for (size_t g = 0; g < G; ++g) acc[g].s0 = Term::template apply<I>(qi, load_at<I>(xs[g], i), acc[g].s0);
  }
  if (i < dim) {
    const typename I::F qi = I::load_partial(q + i, dim - i);
    for (size_t g = 0; g < G; ++g)
      acc[g].s1 = Term::template apply<I>(qi, load_partial_at<I>(xs[g], i, dim - i), acc[g].s1);
  }
  for (size_t g = 0; g < G; ++g) out[g] = acc[g].total();
}

// One query against n vectors given by pointers, I::kBatchGroup at a time; the vector
// float_batch_vectors_ahead past the ones being summed is prefetched meanwhile.
template <class I, class Term, class B = float>
void batch(const float* q, const B* const* xs, size_t n, size_t dim, float* out) {
  constexpr size_t G = I::kBatchGroup;
  const size_t ahead = float_batch_vectors_ahead(dim * sizeof(B)) + G - 1;
  for (size_t i = 1; i < ahead && i < n; ++i) prefetch_elements<I>(xs[i], dim);
  size_t i = 0;
  for (; i + G <= n; i += G) {
    for (size_t g = 0; g < G; ++g)
      if (i + g + ahead < n) prefetch_elements<I>(xs[i + g + ahead], dim);
    distances_side_by_side<I, Term, G>(q, xs + i, dim, out + i);
  }
  for (; i < n; ++i) {
    if (i + ahead < n) prefetch_elements<I>(xs[i + ahead], dim);
    out[i] = distance<I, Term>(q, xs[i], dim);
  }
}

// The bounded batch taken one block of kBoundCheckDims at a time across all the vectors still
// under the bound, instead of one vector after another: the loads of a block of every live
// candidate are in flight together, so a walk waits about once per block rather than once per
// candidate and block. Each vector keeps its own accumulators, so a distance below the bound is
// still bit for bit distance<I, L2Term>. Measured against one vector after another (the first
// 128 dimensions of the next prefetched), alternating in one process on a saved fashion-mnist
// graph: 1.15-1.24x the queries per second at ef 12 and 24, float32 and f32_pca alike.
template <class I, class B>
void l2_batch_bounded(const float* q, const B* const* xs, size_t n, size_t dim, float bound,
                      const float* check_scales, float* out) {
  constexpr size_t kMaxBatch = 64;  // a node's unvisited neighbours (<= 2M) or a descent's chunk
  for (; n > kMaxBatch; n -= kMaxBatch, xs += kMaxBatch, out += kMaxBatch)
    l2_batch_bounded<I, B>(q, xs, kMaxBatch, dim, bound, check_scales, out);
  constexpr size_t kBlock = kBoundCheckDims;
  static_assert(kBlock % (4 * I::kWidth) == 0, "checks must fall on a step boundary");
  // Check scales are one per kBoundCheckDims block (f32_pca's calibration); without them the
  // ISA may look at the bound less often (kBoundBlocks).
  const size_t block = check_scales ? kBlock : I::kBoundBlocks * kBlock;
  // Room for kMaxBatch accumulators, but only the n in use are zeroed: a plain array of them
  // was zeroed whole on every call (16 KB with AVX-512, 8 KB with AVX2), a memset that took 5%
  // of the samples of a filtered fashion-mnist walk under perf.
  alignas(alignof(Accumulators<I>)) unsigned char acc_bytes[kMaxBatch * sizeof(Accumulators<I>)];
  Accumulators<I>* const acc = reinterpret_cast<Accumulators<I>*>(acc_bytes);
  static_assert(std::is_trivially_destructible<Accumulators<I>>::value, "accumulators are never destroyed");
  uint8_t live[kMaxBatch];
  size_t live_count = n;
  for (size_t i = 0; i < n; ++i) {
    new (&acc[i]) Accumulators<I>();
    live[i] = static_cast<uint8_t>(i);
    prefetch_elements<I>(xs[i], dim < block ? dim : block);
  }
  const size_t full = whole_steps<I>(dim);
  size_t begin = 0;
  for (; begin + block <= full && live_count > 0; begin += block) {
    const size_t next = begin + block, next_len = dim - next < block ? dim - next : block;
    const float limit = check_scales ? bound * check_scales[begin / kBlock] : bound;
    size_t kept = 0;
    for (size_t j = 0; j < live_count; ++j) {
      const size_t i = live[j];
      accumulate<I, L2Term>(q, xs[i], begin, next, acc[i]);
      const float partial = acc[i].total();
      if (partial >= limit) {
        out[i] = partial >= bound ? partial : bound;  // abandoned: at least the bound
        continue;
      }
      if (next_len) prefetch_elements<I>(xs[i] + next, next_len);
      live[kept++] = static_cast<uint8_t>(i);
    }
    live_count = kept;
  }
  for (size_t j = 0; j < live_count; ++j) {
    const size_t i = live[j];
    accumulate<I, L2Term>(q, xs[i], begin, full, acc[i]);
    out[i] = finish<I, L2Term>(q, xs[i], full, dim, acc[i]);
  }
}

// y -= scale <v, y> v.
template <class I>
void reflect(const float* v, float* y, size_t n, float scale) {
  constexpr size_t W = I::kWidth;
  const float s = scale * distance<I, DotTerm>(v, y, n);
  const typename I::F minus_s = I::set1(-s);
  size_t i = 0;
  for (; i + W <= n; i += W) I::store(y + i, I::fmadd(minus_s, I::load(v + i), I::load(y + i)));
  for (; i < n; ++i) y[i] -= s * v[i];
}

// kPanelRows rows against the columns of each panel (kernels.hpp: PanelDistanceFn), S columns
// at a time: kPanelRows x S / W accumulators (8 registers), so each column register loaded feeds
// kPanelRows multiply-adds and each row value broadcast feeds S / W.
template <class I>
void panel_distances(const float* const* rows, const float* panels, const float* offsets, size_t n_panels,
                     size_t dim, float* out, size_t out_stride, float* least) {
  using F = typename I::F;
  constexpr size_t W = I::kWidth;
  constexpr size_t S = 2 * W < kPanelWidth ? 2 * W : kPanelWidth;
  constexpr size_t R = kPanelRows;
  static_assert(kPanelWidth % S == 0 && S % W == 0, "a panel is whole passes of whole registers");
  const F minus_two = I::set1(-2.f);
  F lowest[R];
  for (size_t r = 0; r < R; ++r) lowest[r] = I::set1(least[r]);
  for (size_t p = 0; p < n_panels; ++p) {
    const float* panel = panels + p * dim * kPanelWidth;
    for (size_t col = 0; col < kPanelWidth; col += S) {
      F acc[R][S / W];
      for (size_t r = 0; r < R; ++r)
        for (size_t s = 0; s < S / W; ++s) acc[r][s] = I::zero();
      for (size_t j = 0; j < dim; ++j) {
        const float* column = panel + j * kPanelWidth + col;
        F c[S / W];
        for (size_t s = 0; s < S / W; ++s) c[s] = I::load(column + s * W);
        for (size_t r = 0; r < R; ++r) {
          const F x = I::set1(rows[r][j]);
          for (size_t s = 0; s < S / W; ++s) acc[r][s] = I::fmadd(x, c[s], acc[r][s]);
        }
      }
      const size_t first = p * kPanelWidth + col;
      for (size_t s = 0; s < S / W; ++s) {
        const F offset = I::load(offsets + first + s * W);
        for (size_t r = 0; r < R; ++r) {
          const F estimate = I::fmadd(minus_two, acc[r][s], offset);
          I::store(out + r * out_stride + first + s * W, estimate);
          lowest[r] = I::min(estimate, lowest[r]);
        }
      }
    }
  }
  for (size_t r = 0; r < R; ++r) {
    float lanes[W];
    I::store(lanes, lowest[r]);
    for (size_t l = 0; l < W; ++l) least[r] = lanes[l] < least[r] ? lanes[l] : least[r];
  }
}

template <class I>
size_t not_above(const float* v, size_t n, float threshold, uint32_t* out) {
  constexpr size_t W = I::kWidth;
  static_assert(kPanelWidth % W == 0, "n is whole registers");
  const typename I::F t = I::set1(threshold);
  size_t count = 0;
  for (size_t i = 0; i < n; i += W)
    for (uint32_t bits = I::not_above_bits(I::load(v + i), t); bits; bits &= bits - 1)
      out[count++] = static_cast<uint32_t>(i + static_cast<size_t>(__builtin_ctz(bits)));
  return count;
}

}  // namespace vidx::simd::loops
