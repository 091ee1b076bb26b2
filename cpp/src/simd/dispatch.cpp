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
  }
  return "unknown";
}

bool parse_level(const std::string& name, Level* out) {
  if (name == "scalar") *out = Level::Scalar;
  else if (name == "avx2") *out = Level::AVX2;
  else if (name == "avx512") *out = Level::AVX512;
  else return false;
  return true;
}

const KernelTable* kernels_for(Level level) {
  const CpuFeatures& f = cpu_features();
  switch (level) {
    case Level::Scalar: return &scalar_kernels();
#if defined(VIDX_X86_KERNELS)
    case Level::AVX2:
      return (f.avx2 && f.fma && f.f16c && f.popcnt) ? &avx2_kernels() : nullptr;
    case Level::AVX512:
      return (f.avx512f && f.avx512bw && f.avx512dq && f.avx512vl && f.avx2 && f.fma && f.f16c)
                 ? &avx512_kernels() : nullptr;
#else
    default: (void)f; return nullptr;
#endif
  }
  return nullptr;
}

Level best_level() {
  for (Level l : {Level::AVX512, Level::AVX2})
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
    return {kernels_for(best), std::string("VIDX_SIMD=") + env + " not understood (scalar|avx2|avx512); using the best level"};
  if (static_cast<int>(wanted) > static_cast<int>(best))
    return {kernels_for(best), std::string("VIDX_SIMD=") + env + " is above what this CPU/build runs; using " + level_name(best)};
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
