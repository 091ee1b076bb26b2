#include "vidx/io/byte_stream.hpp"

#include <limits>

#include "vidx/common/error.hpp"

namespace vidx::io {

void ByteWriter::str(const std::string& s) {
  // The length prefix is 32 bits; a longer string would be silently cut short.
  if (s.size() > std::numeric_limits<uint32_t>::max())
    throw InvalidArgument("string of " + std::to_string(s.size()) + " bytes is too long to serialise");
  u32(static_cast<uint32_t>(s.size()));
  bytes(s.data(), s.size());
}

std::string ByteReader::str() {
  const uint32_t n = u32();
  const uint8_t* p = need(n);
  return std::string(reinterpret_cast<const char*>(p), n);
}

uint64_t ByteReader::count(size_t min_bytes_each) {
  const size_t at = position();
  const uint64_t n = u64();
  // n * min_bytes_each > remaining, written without the multiplication that could overflow.
  if (min_bytes_each > 0 && n > remaining() / min_bytes_each)
    throw FileFormatError(what_ + ": count " + std::to_string(n) + " at offset " + std::to_string(at) +
                          " is larger than the data that follows (" + std::to_string(remaining()) +
                          " bytes); the data is corrupted");
  return n;
}

void ByteReader::expect_end() const {
  if (!at_end())
    throw FileFormatError(what_ + ": " + std::to_string(remaining()) + " unexpected bytes after offset " +
                          std::to_string(position()) + "; the data is corrupted or from an incompatible writer");
}

void ByteReader::throw_overrun(size_t wanted) const {
  throw FileFormatError(what_ + ": unexpected end of data: needed " + std::to_string(wanted) +
                        " bytes at offset " + std::to_string(position()) + " but only " +
                        std::to_string(remaining()) + " remain; the data is truncated or corrupted");
}

}  // namespace vidx::io
