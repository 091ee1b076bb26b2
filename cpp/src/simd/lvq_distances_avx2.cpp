// The rounded LVQ-4 walk's distances, four codes a step with AVX2 (rounded_distances_loop.hpp;
// this file is compiled with the AVX2 flags and -ffp-contract=off: CMakeLists.txt).
#include <immintrin.h>

#include "rounded_distances_loop.hpp"

namespace vidx::lvq {
namespace {

struct Avx2Doubles {
  static constexpr size_t kCodes = 4;
  using D = __m256d;
  static D set1(double x) { return _mm256_set1_pd(x); }
  static D add(D a, D b) { return _mm256_add_pd(a, b); }
  static D sub(D a, D b) { return _mm256_sub_pd(a, b); }
  static D mul(D a, D b) { return _mm256_mul_pd(a, b); }
  static D max(D a, D b) { return _mm256_max_pd(a, b); }
  static D abs(D a) { return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a); }
  static D where_negative(D a, D then, D otherwise) { return _mm256_blendv_pd(otherwise, then, a); }
  // Four codes' constants widened side by side are scale0, offset0, scale1, ...: the scales to
  // the low half, the offsets to the high one.
  struct Constants {
    D scale, offset;
  };
  static Constants constants(const uint32_t* stored) {
    const __m256 widened = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(stored)));
    const __m256 halves = _mm256_permutevar8x32_ps(widened, _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7));
    return {_mm256_cvtps_pd(_mm256_castps256_ps128(halves)), _mm256_cvtps_pd(_mm256_extractf128_ps(halves, 1))};
  }
  static D column(const int* words) {
    return _mm256_cvtepi32_pd(_mm_i32gather_epi32(words, _mm_setr_epi32(0, 3, 6, 9), 4));
  }
  static void store(float* out, D d) { _mm_storeu_ps(out, _mm256_cvtpd_ps(d)); }
};

}  // namespace

RoundedDistancesFn avx2_rounded_distances() { return rounded_distances_loop<Avx2Doubles>; }

}  // namespace vidx::lvq
