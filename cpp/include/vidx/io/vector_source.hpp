// Where an index reads the vectors it adds from (a SPANN build streams them), a block of rows at a time, so that a
// collection larger than memory can be streamed: an array in memory (or memory-mapped), or a
// file of fixed-stride rows read with pread (.fvecs, .bvecs, .npy, a contiguous HDF5 dataset).
// Rows are converted to float32 as they are read.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "vidx/io/positional_io.hpp"

namespace vidx::io {

enum class ElementType : uint32_t { Float32 = 0, Float64 = 1, UInt8 = 2, Int8 = 3, Float16 = 4 };

size_t element_size(ElementType t);
// "float32", "float64", "uint8", "int8", "float16"; InvalidArgument otherwise.
ElementType parse_element_type(const std::string& name);

class VectorSource {
 public:
  virtual ~VectorSource() = default;
  virtual size_t rows() const = 0;
  virtual size_t dim() const = 0;
  // Rows [begin, begin + count) as float32 into out (count * dim floats). Called by one
  // thread at a time. Throws IoError when the data cannot be read.
  virtual void read(size_t begin, size_t count, float* out) = 0;
  // Names the data in messages ("array", a file path).
  virtual std::string describe() const = 0;
};

// Rows at `base`, `row_stride` bytes apart, each starting with `row_prefix` bytes to skip
// (4 for .fvecs/.bvecs). With release_pages, the pages read are handed back to the kernel
// afterwards (madvise DONTNEED), which keeps a read-only file mapping from growing the
// resident set; never use it on private (copy-on-write) mappings that were written to.
class MemorySource final : public VectorSource {
 public:
  MemorySource(const void* base, size_t rows, size_t dim, size_t row_stride, size_t row_prefix, ElementType type,
               bool release_pages);
  size_t rows() const override { return rows_; }
  size_t dim() const override { return dim_; }
  void read(size_t begin, size_t count, float* out) override;
  std::string describe() const override { return "array"; }

 private:
  const uint8_t* base_;
  size_t rows_, dim_, stride_, prefix_;
  ElementType type_;
  bool release_;
};

// Rows of a file starting at byte `offset`, read with pread (the page cache holds them, the
// process does not).
class FileSource final : public VectorSource {
 public:
  FileSource(const std::string& path, uint64_t offset, size_t rows, size_t dim, size_t row_stride, size_t row_prefix,
             ElementType type);
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  size_t rows() const override { return rows_; }
  size_t dim() const override { return dim_; }
  void read(size_t begin, size_t count, float* out) override;
  std::string describe() const override { return path_; }

 private:
  void check_row_header(const uint8_t* row, size_t index) const;

  std::string path_;
  File file_;
  uint64_t offset_;
  size_t rows_, dim_, stride_, prefix_;
  ElementType type_;
  std::string scratch_;
};

// An .fvecs (float32), .bvecs (uint8) or .npy (float32/float64/float16/uint8/int8, C order,
// 2-d) file, chosen by its extension and read by pread. InvalidArgument for another extension,
// a dimension other than `dim` or a layout that is not rows of a supported type;
// FileNotFound / IoError / FileFormatError for a missing, unreadable or malformed file.
std::unique_ptr<VectorSource> open_vector_file(const std::string& path, size_t dim);

// Converts `count` elements of `type` at src to float32.
void convert_to_float(const uint8_t* src, ElementType type, size_t count, float* out);

}  // namespace vidx::io
