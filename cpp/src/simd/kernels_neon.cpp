// NEON kernels, compiled only on aarch64 (NEON is baseline there: no extra flags).
// The loops are in loops_*.hpp, written once for every ISA; isa_neon.hpp gives the primitives.
#include "isa_neon.hpp"
#include "tables.hpp"

VIDX_INSTANTIATE_KERNEL_TABLES(vidx::simd::IsaNeon);
