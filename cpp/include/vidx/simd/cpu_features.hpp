// What the CPU can run, read once with cpuid (x86) or assumed (other architectures).
#pragma once
#include <string>

namespace vidx::simd {

struct CpuFeatures {
  std::string arch;  // "x86_64", "aarch64", ...
  // x86: cpuid's vendor string ("GenuineIntel", "AuthenticAMD", ...); empty elsewhere. Cores
  // of one ISA level differ in how they handle memory requests (walk_prefetch.cpp).
  std::string vendor;
  bool intel() const { return vendor == "GenuineIntel"; }
  bool sse42 = false;
  bool avx = false;
  bool avx2 = false;
  bool fma = false;
  bool f16c = false;
  bool popcnt = false;
  bool avx512f = false;
  bool avx512bw = false;
  bool avx512dq = false;
  bool avx512vl = false;
  bool avx512vpopcntdq = false;
  bool avx512bf16 = false;  // vdpbf16ps: bfloat16 pairs' products summed into float32
  bool os_saves_avx = false;     // XSAVE enabled for YMM state
  bool os_saves_avx512 = false;  // XSAVE enabled for ZMM/opmask state
  bool neon = false;
};

const CpuFeatures& cpu_features();

}  // namespace vidx::simd
