// The rounded LVQ-4 walk's distances, eight codes a step with AVX-512 (rounded_distances_loop.hpp;
// this file is compiled with the AVX-512 flags and -ffp-contract=off: CMakeLists.txt). Code by
// code, that arithmetic (two float16 constants widened in software, then a dozen double
// operations) took ~7% of a wordnet-minilm lvq4x4 walk's samples (graph.md section 32).
#include <immintrin.h>

#include "rounded_distances_loop.hpp"

namespace vidx::lvq {
namespace {

struct Avx512Doubles {
  static constexpr size_t kCodes = 8;
  using D = __m512d;
  static D set1(double x) { return _mm512_set1_pd(x); }
  static D add(D a, D b) { return _mm512_add_pd(a, b); }
  static D sub(D a, D b) { return _mm512_sub_pd(a, b); }
  static D mul(D a, D b) { return _mm512_mul_pd(a, b); }
  static D max(D a, D b) { return _mm512_max_pd(a, b); }
  static D abs(D a) { return _mm512_abs_pd(a); }
  static D where_negative(D a, D then, D otherwise) {
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(a, _mm512_setzero_pd(), _CMP_LT_OQ), otherwise, then);
  }
  // Eight codes' constants widened side by side are scale0, offset0, scale1, ...
  struct Constants {
    D scale, offset;
  };
  static Constants constants(const uint32_t* stored) {
    const __m512 halves = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(stored)));
    const __m512i scales = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 0, 0, 0, 0, 0, 0, 0, 0);
    const __m512i offsets = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 0, 0, 0, 0, 0, 0, 0, 0);
    return {_mm512_cvtps_pd(_mm512_castps512_ps256(_mm512_permutexvar_ps(scales, halves))),
            _mm512_cvtps_pd(_mm512_castps512_ps256(_mm512_permutexvar_ps(offsets, halves)))};
  }
  static D column(const int* words) {
    return _mm512_cvtepi32_pd(_mm256_i32gather_epi32(words, _mm256_setr_epi32(0, 3, 6, 9, 12, 15, 18, 21), 4));
  }
  static void store(float* out, D d) { _mm256_storeu_ps(out, _mm512_cvtpd_ps(d)); }
};

}  // namespace

RoundedDistancesFn avx512_rounded_distances() { return rounded_distances_loop<Avx512Doubles>; }

}  // namespace vidx::lvq
