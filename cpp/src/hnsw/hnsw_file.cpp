// HNSW sections of an index file. Records are split into a code section and a link section
// so the file does not depend on in-memory padding; codes are written whole (head then tail,
// the codec's own layout) wherever memory keeps their tails. Loading checks every link
// before use.
#include <cstring>
#include <string>

#include "vidx/common/error.hpp"
#include "vidx/hnsw/hnsw_index.hpp"
#include "vidx/io/byte_stream.hpp"
#include "vidx/io/index_file.hpp"

namespace vidx {
namespace {

constexpr uint32_t kGraphSection = io::fourcc("HNSW");
constexpr uint32_t kCodecSection = io::fourcc("CDEC");
constexpr uint32_t kCodesSection = io::fourcc("CODE");
constexpr uint32_t kLevelsSection = io::fourcc("LVLS");
constexpr uint32_t kLevel0Section = io::fourcc("LNK0");
constexpr uint32_t kUpperSection = io::fourcc("LNKU");
constexpr uint32_t kKeptSection = io::fourcc("VECS");  // keep_vectors: float32 rows by slot

}  // namespace

void HnswIndex::write_sections(io::IndexFileWriter& out) const {
  const size_t count = count_.load();
  uint32_t entry = 0;
  const int max_level = entry_point(entry);
  io::ByteWriter graph;
  graph.u64(count);
  graph.u64(M_);
  graph.u64(M0_);
  graph.u32(entry);
  graph.u32(static_cast<uint32_t>(max_level + 1));  // 0 = empty graph
  graph.str(codec_->name());
  out.add_section(kGraphSection, graph.take());
  io::ByteWriter codec_params;
  codec_->save_parameters(codec_params);
  out.add_section(kCodecSection, codec_params.take());

  std::vector<io::Span> codes, links0;
  codes.reserve(tail_size_ ? 2 * count : count);
  links0.reserve(count);
  const size_t link_bytes = (M0_ + 1) * sizeof(uint32_t);
  for (uint32_t s = 0; s < count; ++s) {
    codes.push_back({code(s), head_size_});
    if (tail_size_) codes.push_back({tail(s), tail_size_});
    links0.push_back({record(s) + links_offset_, link_bytes});
  }
  out.add_section_views(kCodesSection, std::move(codes));
  out.add_section_views(kLevel0Section, std::move(links0));
  out.add_section_view(kLevelsSection, levels_.data(), count);
  // Slots past `count` are reserved, not used: their upper lists are not written.
  const size_t upper_words = count < levels_.size() ? upper_offset_[count] : upper_.size();
  out.add_section_view(kUpperSection, upper_.data(), upper_words * sizeof(uint32_t));
  if (kept_codec_) out.add_section_view(kKeptSection, kept_.data(), count * kept_codec_->code_size());
}

void HnswIndex::read_sections(const io::IndexFileReader& in) {
  const std::string& path = in.path();
  auto bad = [&](const std::string& what) { return FileFormatError(path + ": " + what); };

  io::ByteReader graph = in.reader(kGraphSection);
  const uint64_t count = graph.u64();
  const uint64_t m = graph.u64();
  const uint64_t m0 = graph.u64();
  const uint32_t entry = graph.u32();
  const uint32_t levels_plus_one = graph.u32();
  const std::string codec_name = graph.str();
  if (m != M_ || m0 != M0_) throw bad("graph degree does not match its parameters");
  if (codec_name != codec_->name()) throw bad("codec '" + codec_name + "' does not match '" + codec_->name() + "'");
  io::ByteReader codec_params = in.reader(kCodecSection);
  codec_ = load_codec(codec_name, dim(), metric(), codec_params);
  if (count >= (uint64_t{1} << 31)) throw bad("implausible node count");
  if (count > 0 && (levels_plus_one == 0 || levels_plus_one > 32 || entry >= count))
    throw bad("invalid entry point");

  const io::Span codes = in.section(kCodesSection);
  const io::Span links0 = in.section(kLevel0Section);
  const io::Span levels = in.section(kLevelsSection);
  const io::Span upper = in.section(kUpperSection);
  const size_t cs = codec_->code_size();
  const size_t link_words = M0_ + 1;
  if (codes.size != count * cs) throw bad("code section has the wrong size");
  if (links0.size != count * link_words * sizeof(uint32_t)) throw bad("level-0 link section has the wrong size");
  if (levels.size != count) throw bad("level section has the wrong size");
  if (upper.size % sizeof(uint32_t) != 0) throw bad("upper link section has the wrong size");
  io::Span kept;
  if (kept_codec_) {
    kept = in.section(kKeptSection);
    if (kept.size != count * kept_codec_->code_size()) throw bad("kept vector section has the wrong size");
  }

  count_ = 0;
  capacity_ = 0;
  reserve_records(count);
  levels_.assign(levels.data, levels.data + count);
  upper_offset_.assign(count, 0);
  uint64_t upper_words = 0;
  for (uint64_t s = 0; s < count; ++s) {
    if (levels_[s] > 31) throw bad("node " + std::to_string(s) + " has an invalid level");
    upper_offset_[s] = upper_words;
    upper_words += static_cast<uint64_t>(levels_[s]) * (M_ + 1);
  }
  if (upper_words * sizeof(uint32_t) != upper.size) throw bad("upper link section does not match the node levels");
  upper_.resize(upper_words);
  if (upper.size) std::memcpy(upper_.data(), upper.data, upper.size);

  for (uint64_t s = 0; s < count; ++s) {
    uint8_t* rec = record(static_cast<uint32_t>(s));
    std::memset(rec, 0, stride_);
    std::memcpy(rec, codes.data + s * cs, head_size_);
    if (tail_size_) std::memcpy(tail(static_cast<uint32_t>(s)), codes.data + s * cs + head_size_, tail_size_);
    std::memcpy(rec + links_offset_, links0.data + s * link_words * sizeof(uint32_t), link_words * sizeof(uint32_t));
  }
  if (kept.size) std::memcpy(kept_.data(), kept.data, kept.size);
  // Every link must name an existing node and fit its list, or a search could read anywhere.
  for (uint64_t s = 0; s < count; ++s) {
    for (int level = 0; level <= levels_[s]; ++level) {
      const uint32_t* lk = links(static_cast<uint32_t>(s), level);
      if (lk[0] > capacity_at(level)) throw bad("node " + std::to_string(s) + " has too many links");
      for (uint32_t j = 1; j <= lk[0]; ++j)
        if (lk[j] >= count || levels_[lk[j]] < level)
          throw bad("node " + std::to_string(s) + " links to an invalid node");
    }
  }
  if (count > 0 && levels_[entry] != static_cast<int>(levels_plus_one) - 1)
    throw bad("entry point is not on the top level");
  // Slots freed by remove (and not compacted away) were saved with empty lists: they are free
  // again. A live node always has a link, except the only node of a graph.
  for (uint64_t s = 0; s < count; ++s) {
    const bool freed = links(static_cast<uint32_t>(s), 0)[0] == 0 && s != entry;
    set_state(static_cast<uint32_t>(s), freed ? kEmpty : kLive);
  }
  count_ = count;
  if (count > 0) set_entry(entry, static_cast<int>(levels_plus_one) - 1);
  else entry_state_.store(0);
}

}  // namespace vidx
