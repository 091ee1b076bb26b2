// Nanoseconds per kernel call at the best level, for comparing two builds of the kernels
// (it uses only the kernel tables' public API). Data: 2000 random vectors per dimension,
// in cache; each figure is the fastest of 15 passes (on a shared, loaded machine the fastest
// pass is the one least disturbed; compare builds by the median of several such runs).
//   g++ -O2 -Icpp/include cpp/tests/kernel_bench.cpp <kernel objects> -o kernel_bench && ./kernel_bench [level]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>
#include <vector>

#include "vidx/codec/binary_kernels.hpp"
#include "vidx/codec/f16_kernels.hpp"
#include "vidx/codec/lvq_kernels.hpp"
#include "vidx/simd/kernels.hpp"

namespace {

using namespace vidx;
volatile float g_sink;

template <class Body>
double ns_per_call(size_t calls, Body body) {
  std::vector<double> runs;
  for (int r = 0; r < 15; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    body();
    runs.push_back(std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / calls);
  }
  return *std::min_element(runs.begin(), runs.end());
}

}  // namespace

int main(int argc, char** argv) {
  simd::Level level = simd::best_level();  // or the level named by the first argument
  if (argc > 1 && (!simd::parse_level(argv[1], &level) || !simd::kernels_for(level))) {
    std::fprintf(stderr, "level %s is not available\n", argv[1]);
    return 2;
  }
  const auto& t = *simd::kernels_for(level);
  const auto& h = *f16k::kernels_for(level);
  const auto& lq = *lvq::kernels_for(level);
  const auto hamming = binary::hamming_for(level);
  const auto masked_sum = binary::masked_sum_for(level);
  std::mt19937 rng(7);
  std::normal_distribution<float> g;
  constexpr size_t kN = 2000;
  for (size_t dim : {50, 128, 384, 768, 960}) {
    std::vector<float> q(dim), x(dim * kN);
    for (float& v : q) v = g(rng);
    for (float& v : x) v = g(rng);
    std::vector<uint16_t> xh(dim * kN);
    for (size_t i = 0; i < xh.size(); ++i) xh[i] = static_cast<uint16_t>(0x3c00 + (rng() & 0x3ff));
    std::vector<const uint16_t*> hrows(kN);
    for (size_t i = 0; i < kN; ++i) hrows[i] = xh.data() + i * dim;
    const size_t padded = (dim + 31) / 32 * 32;
    std::vector<uint8_t> codes(padded * kN);
    for (auto& c : codes) c = static_cast<uint8_t>(rng());
    std::vector<float> qp(padded, 0.5f);
    std::vector<const float*> rows(kN);
    for (size_t i = 0; i < kN; ++i) rows[i] = x.data() + i * dim;
    std::vector<float> out(kN);
    const float bound = 1.5f * dim;  // about half of the random vectors pass the bound (E|q-x|^2 = 2·dim)
    auto report = [&](const char* name, double ns) { std::printf("%-18s dim=%4zu %9.1f ns\n", name, dim, ns); };
    float s = 0;
    report("l2sq", ns_per_call(kN, [&] { for (size_t i = 0; i < kN; ++i) s += t.l2sq(q.data(), rows[i], dim); }));
    report("dot", ns_per_call(kN, [&] { for (size_t i = 0; i < kN; ++i) s += t.dot(q.data(), rows[i], dim); }));
    report("l2sq_batch", ns_per_call(kN, [&] { t.l2sq_batch(q.data(), rows.data(), kN, dim, out.data()); }));
    report("l2sq_bounded", ns_per_call(kN, [&] { t.l2sq_batch_bounded(q.data(), rows.data(), kN, dim, bound, nullptr, out.data()); }));
    report("f16_l2", ns_per_call(kN, [&] { for (size_t i = 0; i < kN; ++i) s += h.l2(q.data(), xh.data() + i * dim, dim); }));
    report("f16_dot", ns_per_call(kN, [&] { for (size_t i = 0; i < kN; ++i) s += h.dot(q.data(), xh.data() + i * dim, dim); }));
    report("f16_l2_pair", ns_per_call(kN, [&] { for (size_t i = 1; i < kN; ++i) s += h.l2_pair(xh.data(), xh.data() + i * dim, dim); }));
    report("f16_l2_bounded", ns_per_call(kN, [&] { h.l2_batch_bounded(q.data(), hrows.data(), kN, dim, bound, nullptr, out.data()); }));
    for (int pk : {0, 1, 2}) {
      const char* names[] = {"lvq_l2_u8", "lvq_l2_u4", "lvq_l2_u4u4"};
      report(names[pk], ns_per_call(kN / 2, [&] {
        for (size_t i = 0; i < kN / 2; ++i)
          s += lq.l2[pk](qp.data(), codes.data() + i * padded, codes.data() + (i + kN / 2) * padded, padded, 0.01f, -1.f);
      }));
    }
    std::vector<int8_t> q8(padded, 100);
    report("lvq_u4_terms", ns_per_call(kN, [&] {
      for (size_t i = 0; i < kN; ++i) s += static_cast<float>(lq.u4_terms(q8.data(), codes.data() + i * padded / 2, padded / 32).dot);
    }));
    report("lvq_dot_u8", ns_per_call(kN, [&] { for (size_t i = 0; i < kN; ++i) s += lq.dot[0](qp.data(), codes.data() + i * padded, nullptr, padded); }));
    const size_t words = padded / 64 ? padded / 64 : 1;
    const auto* bits = reinterpret_cast<const uint64_t*>(codes.data());
    report("hamming", ns_per_call(kN, [&] { for (size_t i = 1; i < kN; ++i) s += hamming(bits, bits + i * words, words); }));
    report("masked_sum", ns_per_call(kN, [&] { for (size_t i = 0; i < kN; ++i) s += masked_sum(qp.data(), bits + i * words, words); }));
    g_sink = s;
  }
  return 0;
}
