// Picks the kernel table once, when the library is loaded.
#include <cstdlib>

#include "vidx/simd/cpu_features.hpp"
#include "vidx/simd/kernels.hpp"

namespace vidx::simd {

const char* level_name(Level level) {
  switch (level) {
    case Level::Scalar: return "scalar";
    case Level::AVX2: return "avx2";
    case Level::AVX512: return "avx512";
    case Level::NEON: return "neon";
  }
  return "unknown";
}

bool parse_level(const std::string& name, Level* out) {
  for (Level l : kLevelsBestFirst)
    if (name == level_name(l)) {
      *out = l;
      return true;
    }
  return false;
}

const KernelTable* kernels_for(Level level) {
  const CpuFeatures& f = cpu_features();
  (void)f;
  switch (level) {
    case Level::Scalar: return &table_of<IsaScalar>();
#if defined(VIDX_X86_KERNELS)
    case Level::AVX2:
      return (f.avx2 && f.fma && f.f16c && f.popcnt) ? &table_of<IsaAvx2>() : nullptr;
    case Level::AVX512:
      return (f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl && f.avx2 && f.fma && f.f16c)
                 ? &table_of<IsaAvx512>() : nullptr;
#endif
#if defined(VIDX_NEON_KERNELS)
    case Level::NEON: return f.neon ? &table_of<IsaNeon>() : nullptr;
#endif
    default: return nullptr;
  }
}

Level best_level() {
  for (Level l : kLevelsBestFirst)
    if (kernels_for(l)) return l;
  return Level::Scalar;
}

namespace {

struct Choice {
  const KernelTable* table;
  std::string note;
};

Choice choose() {
  const Level best = best_level();
  const char* env = std::getenv("VIDX_SIMD");
  if (!env || !*env) return {kernels_for(best), "best level this CPU runs"};
  Level wanted;
  if (!parse_level(env, &wanted))
    return {kernels_for(best), std::string("VIDX_SIMD=") + env + " not understood (scalar|avx2|avx512|neon); using the best level"};
  if (!kernels_for(wanted))
    return {kernels_for(best), std::string("VIDX_SIMD=") + env + " is not available on this CPU/build; using " + level_name(best)};
  return {kernels_for(wanted), std::string("forced by VIDX_SIMD=") + env};
}

const Choice& choice() {
  static const Choice c = choose();
  return c;
}

// Resolve at load time so the first search does not pay for it.
[[maybe_unused]] const Choice& g_loaded = choice();

}  // namespace

const KernelTable& kernels() { return *choice().table; }
const std::string& dispatch_note() { return choice().note; }

}  // namespace vidx::simd
