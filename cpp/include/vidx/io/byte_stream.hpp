// Little-endian serialisation of index metadata (parameters, counts, small tables).
//
// ByteWriter appends fixed-width little-endian values to a growable byte vector; ByteReader
// reads them back from a byte span with a bounds check on every read, so a corrupted or
// hostile file can only ever produce a FileFormatError, never an out-of-bounds read. Values
// are assembled byte by byte, so the encoding is the same on every host; compilers reduce
// that to a plain load/store on little-endian machines.
//
// Bulk payloads (vectors, graph adjacency) do not go through here: they are written as raw
// arrays and read back as zero-copy views (ByteReader::take, IndexFileReader::section).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace vidx::io {

// A read-only view of bytes owned by someone else (a reader's file buffer, a caller's array).
struct Span {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

class ByteWriter {
 public:
  void u8(uint8_t v) { buf_.push_back(v); }
  void u32(uint32_t v) { put_le(v, 4); }
  void u64(uint64_t v) { put_le(v, 8); }
  void i64(int64_t v) { put_le(static_cast<uint64_t>(v), 8); }  // two's complement bits
  void f32(float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);  // IEEE-754 bit pattern, NaN payloads preserved
    u32(bits);
  }
  void f64(double v) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    u64(bits);
  }
  // u32 byte length, then the bytes (no terminator).
  void str(const std::string& s);
  void bytes(const void* data, size_t n) {
    if (n == 0) return;  // data may be null for an empty range
    // resize + memcpy rather than insert(end, p, p + n): GCC 12 flags the insert into an empty
    // vector as an overflow (-Wstringop-overflow, a false positive) and -Werror builds fail.
    const size_t at = buf_.size();
    buf_.resize(at + n);
    std::memcpy(buf_.data() + at, data, n);
  }

  size_t size() const { return buf_.size(); }
  const std::vector<uint8_t>& data() const { return buf_; }
  std::vector<uint8_t> take() { return std::exchange(buf_, {}); }

 private:
  void put_le(uint64_t v, int width) {
    for (int i = 0; i < width; ++i) buf_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }

  std::vector<uint8_t> buf_;
};

class ByteReader {
 public:
  // `what` names the data in error messages, e.g. "/data/a.vidx: section 'GRPH'".
  ByteReader(Span s, std::string what) : p_(s.data), end_(s.data + s.size), begin_(s.data), what_(std::move(what)) {}

  uint8_t u8() { return *need(1); }
  uint32_t u32() { return static_cast<uint32_t>(get_le(4)); }
  uint64_t u64() { return get_le(8); }
  int64_t i64() { return static_cast<int64_t>(get_le(8)); }
  float f32() {
    const uint32_t bits = u32();
    float v;
    std::memcpy(&v, &bits, 4);
    return v;
  }
  double f64() {
    const uint64_t bits = u64();
    double v;
    std::memcpy(&v, &bits, 8);
    return v;
  }
  std::string str();  // u32 length + bytes, as ByteWriter::str writes it

  void bytes(void* out, size_t n) {
    const uint8_t* p = need(n);
    if (n) std::memcpy(out, p, n);
  }
  // A view of the next n bytes, without copying; valid as long as the underlying buffer.
  Span take(size_t n) { return Span{need(n), n}; }

  // Reads a u64 element count and checks that `count` elements of at least `min_bytes_each`
  // bytes could still follow. Call it before allocating for a count read from a file, so a
  // corrupted count fails here instead of attempting a huge allocation.
  uint64_t count(size_t min_bytes_each);

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  size_t position() const { return static_cast<size_t>(p_ - begin_); }
  bool at_end() const { return p_ == end_; }
  void expect_end() const;  // FileFormatError if bytes remain
  const std::string& what() const { return what_; }

 private:
  // Returns the current position and advances by n, or throws if fewer than n bytes remain.
  const uint8_t* need(size_t n) {
    if (n > remaining()) throw_overrun(n);
    const uint8_t* p = p_;
    p_ += n;
    return p;
  }
  uint64_t get_le(int width) {
    const uint8_t* p = need(static_cast<size_t>(width));
    uint64_t v = 0;
    for (int i = 0; i < width; ++i) v |= uint64_t(p[i]) << (8 * i);
    return v;
  }
  [[noreturn]] void throw_overrun(size_t wanted) const;

  const uint8_t* p_;
  const uint8_t* end_;
  const uint8_t* begin_;
  std::string what_;
};

}  // namespace vidx::io
