// open_vector_file: the layouts of .fvecs, .bvecs and .npy files, read here so that a build
// streams them by pread without calling back into Python.
#include <unistd.h>  // access

#include <cstring>

#include "vidx/common/error.hpp"
#include "vidx/io/positional_io.hpp"
#include "vidx/io/vector_source.hpp"

namespace vidx::io {
namespace {

struct OpenFile {
  File file;
  uint64_t size;
  explicit OpenFile(const std::string& path) : file(File::open_existing(path)), size(file.size()) {}
  // Up to n bytes at `offset` (fewer at the end of the file).
  std::string read(size_t n, uint64_t offset) const {
    std::string out(n, '\0');
    out.resize(file.read_at(offset, out.data(), n));
    return out;
  }
};

std::string extension(const std::string& path) {
  const size_t dot = path.find_last_of('.');
  const size_t slash = path.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

void check_dim(const std::string& path, size_t found, size_t dim) {
  if (found != dim)
    throw InvalidArgument(path + " holds vectors of dimension " + std::to_string(found) + ", the index has " +
                          std::to_string(dim));
}

// .fvecs / .bvecs: every row is an i32 dimension then the elements.
std::unique_ptr<VectorSource> open_vecs(const std::string& path, size_t dim, ElementType type) {
  OpenFile f(path);
  if (f.size < 4) throw InvalidArgument(path + " holds no vectors");
  int32_t d;
  std::memcpy(&d, f.read(4, 0).data(), 4);
  if (d <= 0) throw FileFormatError(path + " is not a vector file: its first row has dimension " + std::to_string(d));
  check_dim(path, static_cast<size_t>(d), dim);
  const uint64_t stride = 4 + static_cast<uint64_t>(d) * element_size(type);
  if (f.size % stride)
    throw FileFormatError(path + " is truncated or not a " + extension(path) + " file (" + std::to_string(f.size) +
                          " bytes is not a multiple of " + std::to_string(stride) + ")");
  return std::make_unique<FileSource>(path, 0, f.size / stride, dim, stride, 4, type);
}

// The value of `key` in a .npy header dict ("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }").
std::string npy_field(const std::string& header, const std::string& key, const std::string& path) {
  const size_t at = header.find("'" + key + "'");
  if (at == std::string::npos) throw FileFormatError(path + ": the .npy header has no '" + key + "'");
  size_t p = header.find(':', at);
  if (p == std::string::npos) throw FileFormatError(path + ": malformed .npy header");
  ++p;
  while (p < header.size() && header[p] == ' ') ++p;
  const char open = header[p];
  const char close = open == '(' ? ')' : open == '\'' ? '\'' : ',';
  const size_t end = header.find(close, p + 1);
  if (end == std::string::npos) throw FileFormatError(path + ": malformed .npy header");
  const size_t from = (open == '(' || open == '\'') ? p + 1 : p;  // the value inside its quotes or brackets
  return header.substr(from, end - from);
}

ElementType npy_type(const std::string& descr, const std::string& path) {
  if (descr == "<f4") return ElementType::Float32;
  if (descr == "<f8") return ElementType::Float64;
  if (descr == "<f2") return ElementType::Float16;
  if (descr == "|u1") return ElementType::UInt8;
  if (descr == "|i1") return ElementType::Int8;
  throw InvalidArgument(path + " holds elements of type '" + descr +
                        "'; supported: little-endian float32, float64, float16, uint8, int8");
}

std::unique_ptr<VectorSource> open_npy(const std::string& path, size_t dim) {
  OpenFile f(path);
  const std::string pre = f.read(12, 0);
  if (pre.size() < 10 || pre.compare(0, 6, "\x93NUMPY") != 0) throw FileFormatError(path + " is not a .npy file");
  const int major = static_cast<unsigned char>(pre[6]);
  size_t header_len, header_at;
  if (major == 1) {
    header_len = static_cast<unsigned char>(pre[8]) | static_cast<unsigned char>(pre[9]) << 8;
    header_at = 10;
  } else {
    if (pre.size() < 12) throw FileFormatError(path + " is truncated");
    uint32_t len;
    std::memcpy(&len, pre.data() + 8, 4);
    header_len = len;
    header_at = 12;
  }
  if (header_len > (1u << 20)) throw FileFormatError(path + ": implausible .npy header length");
  const std::string header = f.read(header_len, header_at);
  if (header.size() != header_len) throw FileFormatError(path + " is truncated");
  if (npy_field(header, "fortran_order", path).find("True") != std::string::npos)
    throw InvalidArgument(path + " is in Fortran order; save it in C order (numpy.ascontiguousarray)");
  const ElementType type = npy_type(npy_field(header, "descr", path), path);
  const std::string shape = npy_field(header, "shape", path);
  // %zu would read "-5" as a huge count (reported as a truncated file of 2^64 - 5 rows).
  if (shape.find('-') != std::string::npos)
    throw FileFormatError(path + ": the .npy header gives a negative shape (" + shape + ")");
  size_t rows = 0, cols = 0;
  char extra = 0;
  const int parsed = std::sscanf(shape.c_str(), " %zu , %zu %c", &rows, &cols, &extra);
  if (parsed != 2) throw InvalidArgument(path + " holds an array of shape (" + shape + "), expected (n, dim)");
  check_dim(path, cols, dim);
  if (rows == 0) throw InvalidArgument(path + " holds no vectors");
  const uint64_t data_at = header_at + header_len;
  return std::make_unique<FileSource>(path, data_at, rows, dim, dim * element_size(type), 0, type);
}

}  // namespace

std::unique_ptr<VectorSource> open_vector_file(const std::string& path, size_t dim) {
  require_path(path, "vector file path");
  const std::string ext = extension(path);
  if (ext == ".fvecs") return open_vecs(path, dim, ElementType::Float32);
  if (ext == ".bvecs") return open_vecs(path, dim, ElementType::UInt8);
  if (ext == ".npy") return open_npy(path, dim);
  if (::access(path.c_str(), F_OK) != 0) throw FileNotFound("no such file: " + path);
  throw InvalidArgument("cannot read " + path +
                        ": expected an .fvecs, .bvecs, .npy, .hdf5 or .h5 file, an array or a numpy memmap");
}

}  // namespace vidx::io
