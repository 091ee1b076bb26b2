// AVX-512 kernels (this file alone is compiled with the AVX-512 F/BW/DQ/VL/VPOPCNTDQ flags).
// The loops are in loops_*.hpp, written once for every ISA; isa_avx512.hpp gives the primitives.
#include "isa_avx512.hpp"
#include "tables.hpp"

VIDX_INSTANTIATE_KERNEL_TABLES(vidx::simd::IsaAvx512);
