#include "write_generation.hpp"

#include <cstring>

#include "vidx/common/error.hpp"
#include "vidx/io/atomic_file.hpp"
#include "vidx/io/byte_stream.hpp"
#include "vidx/io/crc32c.hpp"
#include "vidx/io/positional_io.hpp"

namespace vidx::spann {
namespace {

constexpr char kMagic[8] = {'V', 'X', 'S', 'P', 'G', 'E', 'N', '1'};
constexpr size_t kStampBytes = 8 + 8 + 8 + 4;  // magic, build id, generation, crc32c of the rest

std::string stamp_path(const std::string& posting_path) { return posting_path + ".gen"; }

// Format 2's stamp, in its own file beside the posting file.
uint64_t read_stamp_beside(const std::string& posting_path, uint64_t build_id) {
  const std::string path = stamp_path(posting_path);
  io::File f;
  try {
    f = io::File::open_existing(path);
  } catch (const FileNotFound&) {
    return 0;  // never written since the build, or the files were copied without it
  }
  uint8_t b[kStampBytes];
  if (f.size() != kStampBytes || f.read_at(0, b, kStampBytes) != kStampBytes || std::memcmp(b, kMagic, 8) != 0)
    throw FileFormatError(path + " is not a vidx write-generation stamp (remove it only if no other save of " +
                          posting_path + " is newer than the one loaded)");
  io::ByteReader r(io::Span{b + 8, kStampBytes - 8}, path);
  const uint64_t stamped_build = r.u64(), generation = r.u64();
  if (r.u32() != io::crc32c(b, 24)) throw FileFormatError(path + " is damaged: checksum mismatch");
  return stamped_build == build_id ? generation : 0;
}

void write_stamp_beside(const std::string& posting_path, uint64_t build_id, uint64_t generation) {
  io::ByteWriter w;
  w.bytes(kMagic, 8);
  w.u64(build_id);
  w.u64(generation);
  w.u32(io::crc32c(w.data().data(), w.data().size()));
  io::AtomicFile out(stamp_path(posting_path));
  out.write_at(0, w.data().data(), w.data().size());
  out.commit();
}

}  // namespace

uint64_t read_write_generation(const io::PostingReader& postings) {
  if (postings.stamps_generation()) return postings.stamped_generation();
  return read_stamp_beside(postings.path(), postings.header().build_id);
}

void write_write_generation(const io::PostingReader& postings, io::File& writer, uint64_t generation) {
  if (postings.stamps_generation()) return postings.stamp_generation(writer, generation);
  write_stamp_beside(postings.path(), postings.header().build_id, generation);
}

}  // namespace vidx::spann
