// Picks the codec kernel tables (float16, split float32, LVQ, binary) of the level the main table runs at, so
// one choice (best level, lowered by VIDX_SIMD) governs every kernel in the library; on Intel,
// LVQ's runs at AVX2's width instead of AVX-512's (lvq::kernels).
#include "vidx/codec/binary_kernels.hpp"
#include "vidx/codec/f16_kernels.hpp"
#include "vidx/codec/lvq_kernels.hpp"
#include "vidx/codec/split_f32_kernels.hpp"
#include "vidx/simd/cpu_features.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx::simd {
namespace {

// A family's table of `level`, or nullptr when kernels_for(level) cannot run.
template <class Table, template <class> class Getter>
const Table* family_table(Level level) {
  if (!kernels_for(level)) return nullptr;
  switch (level) {
    case Level::Scalar: return &Getter<IsaScalar>::get();
#if defined(VIDX_X86_KERNELS)
    case Level::AVX2: return &Getter<IsaAvx2>::get();
    case Level::AVX512: return &Getter<IsaAvx512>::get();
#endif
#if defined(VIDX_NEON_KERNELS)
    case Level::NEON: return &Getter<IsaNeon>::get();
#endif
    default: return nullptr;
  }
}

template <class I>
struct F16Table {
  static const f16k::KernelTable& get() { return f16k::table_of<I>(); }
};
template <class I>
struct SplitTable {
  static const split::KernelTable& get() { return split::table_of<I>(); }
};
template <class I>
struct LvqTable {
  static const lvq::KernelTable& get() { return lvq::table_of<I>(); }
};
template <class I>
struct BinaryTable {
  static const binary::KernelTable& get() { return binary::table_of<I>(); }
};

// The family's table of the level simd::kernels() runs at, resolved once.
template <class Table, template <class> class Getter>
const Table& chosen_table() {
  static const Table& chosen = *family_table<Table, Getter>(kernels().level);
  return chosen;
}

}  // namespace
}  // namespace vidx::simd

namespace vidx::f16k {

const KernelTable* kernels_for(simd::Level level) { return simd::family_table<KernelTable, simd::F16Table>(level); }
const KernelTable& kernels() { return simd::chosen_table<KernelTable, simd::F16Table>(); }

}  // namespace vidx::f16k

namespace vidx::split {

const KernelTable* kernels_for(simd::Level level) { return simd::family_table<KernelTable, simd::SplitTable>(level); }
const KernelTable& kernels() { return simd::chosen_table<KernelTable, simd::SplitTable>(); }

}  // namespace vidx::split

namespace vidx::lvq {

const KernelTable* kernels_for(simd::Level level) { return simd::family_table<KernelTable, simd::LvqTable>(level); }
// Intel cores run the LVQ family at AVX2's width where AVX-512 is the chosen level: a query that
// issued any 512-bit instruction (its kernels, its setup's float dot products) ran its whole
// walk slower, which Intel's lower clock for 512-bit work would explain (inferred: this VM has
// no counters). Intel Xeon, saved wordnet-minilm lvq4x4 graph at ef 24, ratio to hnswlib in
// alternating processes: 3.42x -> 3.68x single-thread, 3.12x -> 3.20x 2-thread batch (a scratch
// with the setup's dot products left at 512 bits: 3.45x against 3.72x, and no gain from any one
// kernel alone at 256); fashion-mnist lvq4x4 level (3.24x / 3.22x); recall the same on every
// query (graph.md section 33). AMD's cores keep AVX-512 (not measured against AVX2 there; Zen 4
// is documented to run 512-bit instructions at its full clock).
const KernelTable& kernels() {
  static const KernelTable& chosen = []() -> const KernelTable& {
    const KernelTable& best = simd::chosen_table<KernelTable, simd::LvqTable>();
    if (best.level == simd::Level::AVX512 && simd::cpu_features().intel())
      if (const KernelTable* narrower = lvq::kernels_for(simd::Level::AVX2)) return *narrower;
    return best;
  }();
  return chosen;
}

}  // namespace vidx::lvq

namespace vidx::binary {

namespace {

// The table whose bit counts a level uses: the AVX-512 level does not require VPOPCNTDQ, and
// without it AVX2's POPCNT loops count.
const KernelTable* counting_table(simd::Level level) {
  const KernelTable* t = simd::family_table<KernelTable, simd::BinaryTable>(level);
#if defined(VIDX_X86_KERNELS)
  if (t && level == simd::Level::AVX512 && !simd::cpu_features().avx512vpopcntdq)
    return &binary::table_of<simd::IsaAvx2>();
#endif
  return t;
}

}  // namespace

HammingFn hamming_for(simd::Level level) {
  const KernelTable* t = counting_table(level);
  return t ? t->hamming : nullptr;
}

PlanesDotFn planes_dot_for(simd::Level level) {
  const KernelTable* t = counting_table(level);
  return t ? t->planes_dot : nullptr;
}

PlanesDotFn planes_dot() {
  static const PlanesDotFn chosen = planes_dot_for(simd::kernels().level);
  return chosen;
}

MaskedSumFn masked_sum_for(simd::Level level) {
  const KernelTable* t = simd::family_table<KernelTable, simd::BinaryTable>(level);
  return t ? t->masked_sum : nullptr;
}

HammingFn hamming() {
  static const HammingFn chosen = hamming_for(simd::kernels().level);
  return chosen;
}

MaskedSumFn masked_sum() {
  static const MaskedSumFn chosen = masked_sum_for(simd::kernels().level);
  return chosen;
}

}  // namespace vidx::binary
