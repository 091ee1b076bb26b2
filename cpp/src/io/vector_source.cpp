#include "vidx/io/vector_source.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "vidx/common/error.hpp"

namespace vidx::io {
namespace {

float half_to_float(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000) << 16;
  const uint32_t exp = (h >> 10) & 0x1F;
  const uint32_t mant = h & 0x3FF;
  float f;
  if (exp == 0) {
    f = std::ldexp(static_cast<float>(mant), -24);
  } else if (exp == 31) {
    f = mant ? std::numeric_limits<float>::quiet_NaN() : std::numeric_limits<float>::infinity();
  } else {
    f = std::ldexp(static_cast<float>(mant | 0x400), static_cast<int>(exp) - 25);
  }
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  bits |= sign;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace

size_t element_size(ElementType t) {
  switch (t) {
    case ElementType::Float32: return 4;
    case ElementType::Float64: return 8;
    case ElementType::UInt8: return 1;
    case ElementType::Int8: return 1;
    case ElementType::Float16: return 2;
  }
  return 0;
}

ElementType parse_element_type(const std::string& name) {
  if (name == "float32") return ElementType::Float32;
  if (name == "float64") return ElementType::Float64;
  if (name == "uint8") return ElementType::UInt8;
  if (name == "int8") return ElementType::Int8;
  if (name == "float16") return ElementType::Float16;
  throw InvalidArgument("unsupported element type '" + name +
                        "' (expected float32, float64, float16, uint8 or int8)");
}

void convert_to_float(const uint8_t* src, ElementType type, size_t count, float* out) {
  switch (type) {
    case ElementType::Float32: std::memcpy(out, src, count * 4); return;
    case ElementType::Float64:
      for (size_t i = 0; i < count; ++i) {
        double v;
        std::memcpy(&v, src + 8 * i, 8);
        out[i] = static_cast<float>(v);
      }
      return;
    case ElementType::UInt8:
      for (size_t i = 0; i < count; ++i) out[i] = static_cast<float>(src[i]);
      return;
    case ElementType::Int8:
      for (size_t i = 0; i < count; ++i) out[i] = static_cast<float>(static_cast<int8_t>(src[i]));
      return;
    case ElementType::Float16:
      for (size_t i = 0; i < count; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        out[i] = half_to_float(h);
      }
      return;
  }
}

// ---- MemorySource ----

MemorySource::MemorySource(const void* base, size_t rows, size_t dim, size_t row_stride, size_t row_prefix,
                           ElementType type, bool release_pages)
    : base_(static_cast<const uint8_t*>(base)),
      rows_(rows),
      dim_(dim),
      stride_(row_stride),
      prefix_(row_prefix),
      type_(type),
      release_(release_pages) {
  if (row_stride < row_prefix + dim * element_size(type))
    throw InvalidArgument("row stride of " + std::to_string(row_stride) + " bytes is too small for " +
                          std::to_string(dim) + " elements");
  require_data(base, rows, row_stride, "vector source: rows");
}

void MemorySource::read(size_t begin, size_t count, float* out) {
  if (begin + count > rows_) throw InvalidArgument("read past the last row");
  const size_t row_bytes = dim_ * element_size(type_);
  for (size_t r = 0; r < count; ++r)
    convert_to_float(base_ + (begin + r) * stride_ + prefix_, type_, dim_, out + r * dim_);
#if defined(__linux__) && defined(MADV_DONTNEED)
  if (release_ && count > 0) {
    // Only whole pages inside the rows just read: the neighbours' pages stay.
    const long page = ::sysconf(_SC_PAGESIZE);
    const uintptr_t lo = reinterpret_cast<uintptr_t>(base_ + begin * stride_);
    const uintptr_t hi = reinterpret_cast<uintptr_t>(base_ + (begin + count - 1) * stride_ + prefix_ + row_bytes);
    const uintptr_t a = (lo + page - 1) / page * page;
    const uintptr_t b = hi / page * page;
    if (b > a) ::madvise(reinterpret_cast<void*>(a), b - a, MADV_DONTNEED);  // a hint; failure is harmless
  }
#endif
}

// ---- FileSource ----

FileSource::FileSource(const std::string& path, uint64_t offset, size_t rows, size_t dim, size_t row_stride,
                       size_t row_prefix, ElementType type)
    : path_(path), offset_(offset), rows_(rows), dim_(dim), stride_(row_stride), prefix_(row_prefix), type_(type) {
  if (row_stride < row_prefix + dim * element_size(type))
    throw InvalidArgument("row stride of " + std::to_string(row_stride) + " bytes is too small for " +
                          std::to_string(dim) + " elements");
  file_ = File::open_existing(path);
  const uint64_t size = file_.size();
  // A header may claim any row count: the product is checked, not trusted to fit (a wrapped
  // product would pass as small and the reads would run far past the buffer).
  const uint64_t room = std::numeric_limits<uint64_t>::max() - offset;
  if (rows != 0 && row_stride > room / rows)
    throw IoError(path + " is truncated: " + std::to_string(rows) + " rows of " + std::to_string(row_stride) +
                  " bytes are more than any file holds");
  const uint64_t need = offset + static_cast<uint64_t>(rows) * row_stride;
  if (size < need) {
    throw IoError(path + " is truncated: " + std::to_string(rows) + " rows need " + std::to_string(need) +
                  " bytes, the file has " + std::to_string(size));
  }
}

void FileSource::read(size_t begin, size_t count, float* out) {
  if (begin + count > rows_) throw InvalidArgument("read past the last row");
  const size_t bytes = count * stride_;
  scratch_.resize(bytes);
  auto* p = reinterpret_cast<uint8_t*>(scratch_.data());
  const uint64_t at = offset_ + static_cast<uint64_t>(begin) * stride_;
  if (file_.read_at(at, p, bytes) < bytes)
    throw IoError(path_ + " is truncated: it ended while reading row " + std::to_string(begin));
  for (size_t r = 0; r < count; ++r) {
    if (prefix_ == sizeof(int32_t)) check_row_header(p + r * stride_, begin + r);
    convert_to_float(p + r * stride_ + prefix_, type_, dim_, out + r * dim_);
  }
}

void FileSource::check_row_header(const uint8_t* row, size_t index) const {
  // Every .fvecs/.bvecs row repeats its dimension. Rows of mixed lengths can still add up to a
  // multiple of the first row's size; without this check they would be read misaligned.
  int32_t d;
  std::memcpy(&d, row, sizeof d);
  if (d < 0 || static_cast<size_t>(d) != dim_)
    throw FileFormatError(path_ + ": row " + std::to_string(index) + " declares dimension " + std::to_string(d) +
                          " where the first row declares " + std::to_string(dim_) +
                          "; every row of a vecs file must have the same dimension");
}

}  // namespace vidx::io
