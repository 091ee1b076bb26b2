#include "vidx/codec/finite_codes.hpp"

#include <vector>

#include "vidx/common/error.hpp"

namespace vidx {

bool Codec::finite(const uint8_t* head, const uint8_t* tail, float* scratch) const {
  decode_split(head, tail, scratch);
  return exponents_finite<uint32_t>(reinterpret_cast<const uint8_t*>(scratch), dim(), kF32ExponentBits);
}

void refuse_non_finite_codes(const Codec& codec, size_t n, const std::function<StoredCode(size_t)>& code_of,
                             const std::string& path, const std::string& what) {
  std::vector<float> scratch(codec.dim());
  for (size_t i = 0; i < n; ++i) {
    const StoredCode code = code_of(i);
    if (!codec.finite(code.head, code.tail, scratch.data()))
      throw FileFormatError(path + ": the " + what + " " + std::to_string(i) + " holds NaN or infinite values");
  }
}

void refuse_non_finite_rows(const Codec& codec, const uint8_t* rows, size_t stride, size_t n, const std::string& path,
                            const std::string& what) {
  const size_t head = codec.head_size();
  refuse_non_finite_codes(
      codec, n, [&](size_t i) { return StoredCode{rows + i * stride, rows + i * stride + head}; }, path, what);
}

}  // namespace vidx
