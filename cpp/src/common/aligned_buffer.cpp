#include "vidx/common/aligned_buffer.hpp"

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace vidx {

void advise_huge_pages(void* data, size_t bytes) noexcept {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  (void)madvise(data, bytes, MADV_HUGEPAGE);
#else
  (void)data;
  (void)bytes;
#endif
}

}  // namespace vidx
