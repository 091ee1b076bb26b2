// AVX2 + FMA + F16C kernels (this file alone is compiled with -mavx2 -mfma -mf16c -mpopcnt).
// The loops are in loops_*.hpp, written once for every ISA; isa_avx2.hpp gives the primitives.
#include "isa_avx2.hpp"
#include "tables.hpp"

VIDX_INSTANTIATE_KERNEL_TABLES(vidx::simd::IsaAvx2);
