// Fills every kernel family's table for one ISA from the loops written once in loops_*.hpp.
// Included only by kernels_<name>.cpp, which instantiates table_of<Isa> for its own ISA under
// that ISA's compile flags.
#pragma once
#include "loops_codes.hpp"
#include "loops_float.hpp"
#include "vidx/codec/binary_kernels.hpp"
#include "vidx/codec/f16_kernels.hpp"
#include "vidx/codec/lvq_kernels.hpp"
#include "vidx/codec/split_f32_kernels.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx::simd {

template <class I>
const KernelTable& table_of() {
  static const KernelTable table{I::kLevel,
                                 loops::distance<I, loops::L2Term, float, float>,
                                 loops::distance<I, loops::DotTerm, float, float>,
                                 loops::batch<I, loops::L2Term>,
                                 loops::batch<I, loops::DotTerm>,
                                 loops::l2_batch_bounded<I, float>,
                                 loops::reflect<I>,
                                 loops::panel_distances<I>,
                                 loops::not_above<I>};
  return table;
}

}  // namespace vidx::simd

namespace vidx::f16k {

template <class I>
const KernelTable& table_of() {
  namespace loops = simd::loops;
  static const KernelTable table{I::kLevel,
                                 loops::distance<I, loops::L2Term, float, uint16_t>,
                                 loops::distance<I, loops::DotTerm, float, uint16_t>,
                                 loops::distance<I, loops::L2Term, uint16_t, uint16_t>,
                                 loops::distance<I, loops::DotTerm, uint16_t, uint16_t>,
                                 loops::l2_batch_bounded<I, uint16_t>};
  return table;
}

}  // namespace vidx::f16k

namespace vidx::split {

// Two stored vectors' upper halves are both bfloat16: where the rounded-query kernel runs, it is
// also their inner product (exact products, summed in its own order). Builds compare stored
// vectors this way when they choose neighbours: Intel Xeon, alternating processes, wordnet-minilm
// 4.07-4.38 -> 3.76-3.93 s, glove 25.3-26.1 -> 23.7-23.9 s, recall at equal ef unchanged
// (benchmarks/results/graph.md section 29).
template <class I>
RoundedDotFn rounded_dot() {  // the AVX512-BF16 kernels belong to the AVX-512 table alone
  return I::kLevel == simd::Level::AVX512 ? avx512bf16_dot() : nullptr;
}
template <class I>
RoundedBatchFn rounded_dot_batch() {
  return I::kLevel == simd::Level::AVX512 ? avx512bf16_dot_batch() : nullptr;
}
template <class I>
PairFn upper_dot_pair() {
  const RoundedDotFn bf16 = rounded_dot<I>();
  return bf16 ? bf16 : simd::loops::distance<I, simd::loops::DotTerm, UpperHalf, UpperHalf>;
}

template <class I>
const KernelTable& table_of() {
  namespace loops = simd::loops;
  static const KernelTable table{I::kLevel,
                                 loops::distance<I, loops::L2Term, float, UpperHalf>,
                                 loops::distance<I, loops::DotTerm, float, UpperHalf>,
                                 loops::distance<I, loops::L2Term, UpperHalf, UpperHalf>,
                                 upper_dot_pair<I>(),
                                 loops::batch<I, loops::L2Term, UpperHalf>,
                                 loops::batch<I, loops::DotTerm, UpperHalf>,
                                 loops::l2_batch_bounded<I, UpperHalf>,
                                 loops::joined_distance<I, loops::L2Term>,
                                 loops::joined_distance<I, loops::DotTerm>,
                                 rounded_dot<I>(),
                                 rounded_dot_batch<I>()};
  return table;
}

}  // namespace vidx::split

namespace vidx::lvq {

// The batched distances of rounded walks: x86's alone (lvq_distances_*.cpp).
template <class I>
RoundedDistancesFn rounded_distances() {
  if constexpr (I::kLevel == simd::Level::AVX512) return avx512_rounded_distances();
  else if constexpr (I::kLevel == simd::Level::AVX2) return avx2_rounded_distances();
  else return nullptr;
}

template <class I>
const KernelTable& table_of() {
  using P = Packing;
  namespace loops = simd::loops;
  static const KernelTable table{
      I::kLevel,
      {loops::lvq_l2<I, P::U8>, loops::lvq_l2<I, P::U4>, loops::lvq_l2<I, P::U4U4>, loops::lvq_l2<I, P::U4U8>,
       loops::lvq_l2<I, P::U8U8>},
      {loops::lvq_dot<I, P::U8>, loops::lvq_dot<I, P::U4>, loops::lvq_dot<I, P::U4U4>, loops::lvq_dot<I, P::U4U8>,
       loops::lvq_dot<I, P::U8U8>},
      {loops::lvq_decode<I, P::U8>, loops::lvq_decode<I, P::U4>, loops::lvq_decode<I, P::U4U4>,
       loops::lvq_decode<I, P::U4U8>, loops::lvq_decode<I, P::U8U8>},
      loops::lvq_u4_terms<I, true>,
      loops::lvq_u4_terms<I, false>,
      loops::lvq_u8_terms<I, true>,
      loops::lvq_u8_terms<I, false>,
      loops::lvq_u4_terms_batch<I, true>,
      loops::lvq_u4_terms_batch<I, false>,
      rounded_distances<I>()};
  return table;
}

}  // namespace vidx::lvq

namespace vidx::binary {

template <class I>
const KernelTable& table_of() {
  static const KernelTable table{I::kLevel, simd::loops::hamming<I>, simd::loops::masked_sum<I>,
                                  simd::loops::planes_dot<I>};
  return table;
}

}  // namespace vidx::binary

// Instantiates every family's table for one ISA: the whole body of a kernels_<name>.cpp.
#define VIDX_INSTANTIATE_KERNEL_TABLES(Isa)                                  \
  template const vidx::simd::KernelTable& vidx::simd::table_of<Isa>();     \
  template const vidx::f16k::KernelTable& vidx::f16k::table_of<Isa>();     \
  template const vidx::split::KernelTable& vidx::split::table_of<Isa>();   \
  template const vidx::lvq::KernelTable& vidx::lvq::table_of<Isa>();       \
  template const vidx::binary::KernelTable& vidx::binary::table_of<Isa>()
