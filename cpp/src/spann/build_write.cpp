// SPANN build phase 6: the posting file, filled one memory-budget-sized region per pass over
// the rows (each row encoded once per pass, copied to every list it belongs to).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "build_phases.hpp"
#include "vidx/common/rng.hpp"

namespace vidx::spann {
namespace {

// Copies [data, data + n) meant for file offset `at` into the part of it inside [r0, r1).
inline void clip_copy(uint8_t* out, uint64_t r0, uint64_t r1, uint64_t at, const uint8_t* data, size_t n) {
  if (at >= r1 || at + n <= r0) return;
  const uint64_t lo = std::max(at, r0) - at, hi = std::min<uint64_t>(at + n, r1) - at;
  std::memcpy(out + (at + lo - r0), data + lo, hi - lo);
}

struct RegionWriter {
  BuildContext& b;
  const Assignment& a;
  const Codec& codec;
  const io::PostingLayout& layout;
  size_t E, head, tail;

  // True when row v has an entry or a tail inside [r0, r1).
  bool touches(size_t v, uint64_t r0, uint64_t r1) const {
    for (size_t r = 0; r < a.replicas; ++r) {
      const uint32_t h = a.list[v * a.replicas + r];
      if (h == kNoList) continue;
      const io::PostingList& l = layout.lists[h];
      const uint32_t pos = a.position[v * a.replicas + r];
      const uint64_t off = l.offset + uint64_t(pos) * E;
      if (off < r1 && off + E > r0) return true;
      const uint64_t t = layout.tail_at(l, pos);
      if (tail && t < r1 && t + tail > r0) return true;
    }
    return false;
  }

  // scratch: E + code_size bytes, [entry | code]. stored: the row's code as the index held it
  // (a rebuild that keeps the codec), or null to encode x.
  void place_row(size_t v, const float* x, const uint8_t* stored, uint8_t* scratch, uint8_t* out, uint64_t r0,
                 uint64_t r1) const {
    if (!touches(v, r0, r1)) return;
    uint8_t* entry = scratch;
    uint8_t* code = scratch + E;
    if (stored)
      std::memcpy(code, stored, codec.code_size());
    else
      codec.encode(x, code);
    const int64_t id = b.ids ? b.ids[v] : static_cast<int64_t>(v);
    std::memcpy(entry, &id, 8);
    std::memcpy(entry + 8, code, head);
    std::memset(entry + 8 + head, 0, E - 8 - head);  // entry padding is zeros
    for (size_t r = 0; r < a.replicas; ++r) {
      const uint32_t h = a.list[v * a.replicas + r];
      if (h == kNoList) continue;
      const io::PostingList& l = layout.lists[h];
      const uint32_t pos = a.position[v * a.replicas + r];
      clip_copy(out, r0, r1, l.offset + uint64_t(pos) * E, entry, E);
      if (tail) clip_copy(out, r0, r1, layout.tail_at(l, pos), code + head, tail);
    }
  }
};

}  // namespace

WriteResult write_postings(BuildContext& b, const Assignment& a, const Codec& codec, const std::string& path) {
  const size_t head = codec.head_size(), tail = codec.code_size() - head;
  const size_t E = (8 + head + 3) / 4 * 4;
  io::PostingWriter writer(path, io::plan_postings(a.counts, E, tail));
  const io::PostingLayout& layout = writer.layout();
  const uint64_t begin_at = layout.data_offset, end_at = layout.file_size;
  // 8% of the budget is left for what the tracker does not see (allocator slack, the head
  // graph's search scratch, thread stacks).
  const uint64_t usable = b.budget - b.budget / 12;
  const uint64_t room = usable > b.mem.now + b.chunk_bytes ? usable - b.mem.now - b.chunk_bytes : 0;
  uint64_t region = std::max<uint64_t>(uint64_t(1) << 20, room / io::kPageSize * io::kPageSize);
  region = std::min<uint64_t>(region, std::max<uint64_t>(end_at - begin_at, io::kPageSize));
  const size_t row_code = E + codec.code_size();  // [entry | code] scratch per row
  std::vector<uint8_t> out(region);
  std::vector<float> buf(b.chunk * b.dim);
  std::vector<uint8_t> entries(b.chunk * row_code);
  const size_t code_bytes = codec.code_size();
  std::vector<uint8_t> stored(b.stored_codes ? b.chunk * code_bytes : 0);
  b.mem.add(region + b.chunk * (b.dim * 4 + row_code) + stored.size());
  const RegionWriter rw{b, a, codec, layout, E, head, tail};
  WriteResult result;
  result.passes = (end_at - begin_at + region - 1) / region;
  uint64_t pass = 0;
  for (uint64_t r0 = begin_at; r0 < end_at; r0 += region, ++pass) {
    const uint64_t r1 = std::min(end_at, r0 + region);
    std::memset(out.data(), 0, r1 - r0);
    for (size_t begin = 0; begin < b.n; begin += b.chunk) {
      const size_t c = std::min(b.chunk, b.n - begin);
      const size_t kept = b.stored_codes && begin < b.stored_rows ? std::min(c, b.stored_rows - begin) : 0;
      if (kept) b.stored_codes->read_exact_at(uint64_t(begin) * code_bytes, stored.data(), kept * code_bytes);
      if (kept < c) b.read_rows(begin, c, buf.data());  // rows whose codes are kept are not encoded
      b.pool.parallel_for(
          c,
          [&](size_t i, size_t) {
            rw.place_row(begin + i, buf.data() + i * b.dim, i < kept ? stored.data() + i * code_bytes : nullptr,
                         entries.data() + i * row_code, out.data(), r0, r1);
          },
          256);
      b.report("write", pass * b.n + begin + c, result.passes * b.n);
    }
    writer.write_pages(r0, out.data(), r1 - r0);
  }
  b.mem.sub(region + b.chunk * (b.dim * 4 + row_code) + stored.size());
  io::PostingHeader header;
  header.dim = static_cast<uint32_t>(b.dim);
  header.metric = b.metric;
  header.codec = codec.name();
  header.vector_count = b.n;
  header.build_id = splitmix64(static_cast<uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) ^
                               (b.options.seed * 0x9E3779B97F4A7C15ull) ^ static_cast<uint64_t>(::getpid()));
  writer.commit(header);
  result.file_bytes = layout.file_size;
  result.build_id = header.build_id;
  return result;
}

}  // namespace vidx::spann
