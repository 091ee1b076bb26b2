// Portable kernels: the reference every SIMD level is tested against, and the only level on
// architectures without a dedicated file.
// The loops are in loops_*.hpp, written once for every ISA; isa_scalar.hpp gives the primitives.
#include "isa_scalar.hpp"
#include "tables.hpp"

VIDX_INSTANTIATE_KERNEL_TABLES(vidx::simd::IsaScalar);
