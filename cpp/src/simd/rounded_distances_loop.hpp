// The rounded LVQ-4 walk's distances from its codes' integer sums, a step of W::kCodes codes at
// a time: the loop of lvq_distances_avx2.cpp and lvq_distances_avx512.cpp, written once over
// their width's operations (W). Every operation is lvq::rounded_distance's, in its order, on
// doubles; the files that include this are built with -ffp-contract=off (CMakeLists.txt), so no
// product is fused and each distance is the float rounded_distance gives.
//
// W provides: kCodes; D (a register of kCodes doubles); set1, add, sub, mul, max (max(a, b):
// b unless a is larger, as std::max(b, a)), abs, where_negative(a, then, otherwise) (then where
// a's sign bit is set); constants(stored) -> {scale, offset} (an aggregate) from kCodes
// 32-bit words of two float16 each (scale, then offset: lvq.cpp's layout); column(words) -> the
// kCodes 32-bit integers three words apart (U4Terms is {dot, sum, squares}) as doubles;
// store(out, d) -> d rounded to floats.
#pragma once
#include <cstring>

#include "vidx/codec/lvq_kernels.hpp"

namespace vidx::lvq {

// kMarked: the codec scales the constants of small vectors (lvq.hpp), so a negative step is a
// marked one: its magnitude and the offset are taken times 2^-S, as rounded_distance does.
template <class W, bool kMarked>
void rounded_distances_steps(const RoundedQueryTerms& q, const uint8_t* const* codes, const U4Terms* terms, size_t n,
                             float* out) {
  using D = typename W::D;
  const D q_sum = W::set1(q.q_sum), q_mu = W::set1(q.q_mu), q_norm = W::set1(q.q_norm);
  const D step = W::set1(q.step), dim = W::set1(q.dim), unscale = W::set1(q.unscale);
  const D one = W::set1(1.0), two = W::set1(2.0), zero = W::set1(0.0);
  size_t i = 0;
  for (; i + W::kCodes <= n; i += W::kCodes) {
    uint32_t stored[W::kCodes];
    for (size_t j = 0; j < W::kCodes; ++j)
      std::memcpy(&stored[j], codes[i + j] + q.constants_offset, sizeof(uint32_t));
    auto [scale, offset] = W::constants(stored);
    if constexpr (kMarked) {
      const D factor = W::where_negative(scale, unscale, one);
      scale = W::mul(W::abs(scale), factor);
      offset = W::mul(offset, factor);
    }
    const int* words = reinterpret_cast<const int*>(terms + i);
    // offset·sum(q) + (scale·step)·dot
    const D dot = W::add(W::mul(offset, q_sum), W::mul(W::mul(scale, step), W::column(words)));
    D d;
    if (q.l2) {
      // (((|q|^2 - 2·dot) + (dim·offset)·offset) + ((2·offset)·scale)·sum) + (scale·scale)·squares
      d = W::sub(q_norm, W::mul(two, dot));
      d = W::add(d, W::mul(W::mul(dim, offset), offset));
      d = W::add(d, W::mul(W::mul(W::mul(two, offset), scale), W::column(words + 1)));
      d = W::add(d, W::mul(W::mul(scale, scale), W::column(words + 2)));
      d = W::max(zero, d);  // std::max(d, 0.0): d unless below zero
    } else {
      d = W::sub(one, W::add(q_mu, dot));
    }
    W::store(out + i, d);
  }
  for (; i < n; ++i) out[i] = rounded_distance(q, codes[i], terms[i].dot, terms[i].sum, terms[i].squares);
}

template <class W>
void rounded_distances_loop(const RoundedQueryTerms& q, const uint8_t* const* codes, const U4Terms* terms, size_t n,
                            float* out) {
  if (q.unscale != 1.0) return rounded_distances_steps<W, true>(q, codes, terms, n, out);
  rounded_distances_steps<W, false>(q, codes, terms, n, out);
}

}  // namespace vidx::lvq
