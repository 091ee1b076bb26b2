#include "vidx/simd/cpu_features.hpp"

#if defined(__x86_64__) || defined(_M_X64) || defined(__i386__)
#define VIDX_ARCH_X86 1
#if defined(_MSC_VER)
#include <intrin.h>
#else
#include <cpuid.h>
#endif
#endif

namespace vidx::simd {
namespace {

#if defined(VIDX_ARCH_X86)
void cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
#if defined(_MSC_VER)
  int regs[4];
  __cpuidex(regs, static_cast<int>(leaf), static_cast<int>(sub));
  for (int i = 0; i < 4; ++i) r[i] = static_cast<unsigned>(regs[i]);
#else
  __cpuid_count(leaf, sub, r[0], r[1], r[2], r[3]);
#endif
}

unsigned long long read_xcr0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  unsigned eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
#endif
}
#endif

CpuFeatures detect() {
  CpuFeatures f;
#if defined(VIDX_ARCH_X86)
  f.arch = "x86_64";
  unsigned r[4];
  cpuid(0, 0, r);
  const unsigned max_leaf = r[0];
  // Twelve characters in ebx, edx, ecx order.
  for (const unsigned word : {r[1], r[3], r[2]})
    for (int byte = 0; byte < 4; ++byte) f.vendor += static_cast<char>((word >> (8 * byte)) & 0xFF);
  cpuid(1, 0, r);
  const unsigned ecx1 = r[2];
  f.sse42 = ecx1 & (1u << 20);
  f.popcnt = ecx1 & (1u << 23);
  f.fma = ecx1 & (1u << 12);
  f.f16c = ecx1 & (1u << 29);
  const bool osxsave = ecx1 & (1u << 27);
  f.avx = ecx1 & (1u << 28);
  if (osxsave) {
    const unsigned long long xcr0 = read_xcr0();
    f.os_saves_avx = (xcr0 & 0x6) == 0x6;            // SSE + AVX state
    f.os_saves_avx512 = (xcr0 & 0xE6) == 0xE6;       // + opmask, ZMM_Hi256, Hi16_ZMM
  }
  if (max_leaf >= 7) {
    cpuid(7, 0, r);
    const unsigned ebx7 = r[1], ecx7 = r[2];
    f.avx2 = ebx7 & (1u << 5);
    f.avx512f = ebx7 & (1u << 16);
    f.avx512dq = ebx7 & (1u << 17);
    f.avx512bw = ebx7 & (1u << 30);
    f.avx512vl = ebx7 & (1u << 31);
    f.avx512vpopcntdq = ecx7 & (1u << 14);
    const unsigned max_sub7 = r[0];
    if (max_sub7 >= 1) {
      cpuid(7, 1, r);
      f.avx512bf16 = r[0] & (1u << 5);
    }
  }
  // Instructions the OS does not save registers for must be treated as absent.
  if (!f.os_saves_avx) f.avx = f.avx2 = f.fma = f.f16c = false;
  if (!f.os_saves_avx512)
    f.avx512f = f.avx512bw = f.avx512dq = f.avx512vl = f.avx512vpopcntdq = f.avx512bf16 = false;
#elif defined(__aarch64__) || defined(_M_ARM64)
  f.arch = "aarch64";
  f.neon = true;  // mandatory in ARMv8-A
#else
  f.arch = "other";
#endif
  return f;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detect();
  return features;
}

}  // namespace vidx::simd
