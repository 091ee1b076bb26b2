// HNSW sections of an index file. Level-0 code heads (HED0, with their stride in HLAY), lists
// (LNK0) and code tails (TAIL) are written as memory holds them, so a mapped file is searched
// in place; a reader whose head stride differs copies each head. Format version 2 files (REC0:
// head and list in one record, laid out as RLAY says) and version 1 files (CODE: whole codes,
// LNK0) are still read, by copying.
// Loading checks every link before use, except in a mapped file loaded without verify (see
// LoadOptions::mmap): that would read the whole file, which mapping exists to avoid.
#include <cstring>
#include <string>

#include "hnsw_degree.hpp"
#include "vidx/codec/finite_codes.hpp"
#include "vidx/common/error.hpp"
#include "vidx/common/zero_bytes.hpp"
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
constexpr uint32_t kRecordsSection = io::fourcc("REC0");  // version 2: [head | list] records
constexpr uint32_t kRecordLayoutSection = io::fourcc("RLAY");
constexpr uint32_t kHeadsSection = io::fourcc("HED0");  // level-0 code heads as in memory
constexpr uint32_t kHeadLayoutSection = io::fourcc("HLAY");
constexpr uint32_t kTailsSection = io::fourcc("TAIL");
// Where the next revisit of older rows starts (hnsw_revisit.cpp). Files without it start at 0.
constexpr uint32_t kRevisitSection = io::fourcc("RVST");
// The rows an automatic M that chose the default chose from (hnsw_degree.hpp). Files without it,
// and those that hold 0, keep their M for good.
constexpr uint32_t kDegreeCheckSection = io::fourcc("DCHK");

// The most padding any build puts after a level-0 head or record (line alignment: under 64
// bytes so far). A file claiming more is corrupt.
constexpr uint64_t kMaxRecordPadding = 4096;

// A section's bytes used in place. Mapped files are mapped copy-on-write (mapped_file.hpp),
// so the memory is writable even though the reader hands it out as const.
AlignedBuffer view_of(const io::Span& s) { return AlignedBuffer::view(const_cast<uint8_t*>(s.data), s.size); }

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

  io::ByteWriter layout;
  layout.u64(head_stride_);
  layout.u64(head_size_);
  out.add_section(kHeadLayoutSection, layout.take());
  // Sections still in place from a mapped file are compared with the checksums they had there.
  const auto check = [&](const AlignedBuffer& b, uint32_t tag) { return b.is_view() ? mapped_checks_.find(tag) : nullptr; };
  out.add_section_view(kHeadsSection, heads_.data(), count * head_stride_, check(heads_, kHeadsSection));
  out.add_section_view(kLevel0Section, links0_.data(), count * level0_list_words() * sizeof(uint32_t),
                       check(links0_, kLevel0Section));
  out.add_section_view(kTailsSection, tails_.data(), count * tail_size_, check(tails_, kTailsSection));
  out.add_section_view(kLevelsSection, levels_.data(), count);
  // Slots past `count` are reserved, not used: their upper lists are not written.
  const size_t upper_words = count < levels_.size() ? upper_offset_[count] : upper_.size();
  out.add_section_view(kUpperSection, upper_.data(), upper_words * sizeof(uint32_t));
  if (kept_codec_)
    out.add_section_view(kKeptSection, kept_.data(), count * kept_codec_->code_size(), check(kept_, kKeptSection));
  io::ByteWriter revisit;
  revisit.u64(revisit_cursor_);
  out.add_section(kRevisitSection, revisit.take());
  io::ByteWriter degree_check;
  degree_check.u64(degree_checked_at_);
  out.add_section(kDegreeCheckSection, degree_check.take());
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
  set_head_layout();  // the file's codec may lay its codes out as an older build did
  if (count >= (uint64_t{1} << 31)) throw bad("implausible node count");
  learning_.learnt_from = count;
  // No entry point (levels_plus_one 0) with nodes: every row was removed and none compacted
  // away; adopt_loaded_ids checks that the ids agree.
  const bool has_entry = levels_plus_one > 0;
  if (levels_plus_one > 32 || (has_entry && entry >= count) || (count == 0 && has_entry))
    throw bad("invalid entry point");

  const io::Span levels = in.section(kLevelsSection);
  const io::Span upper = in.section(kUpperSection);
  if (levels.size != count) throw bad("level section has the wrong size");
  if (upper.size % sizeof(uint32_t) != 0) throw bad("upper link section has the wrong size");
  if (kept_codec_ && in.size_of(kKeptSection) != count * kept_codec_->code_size())
    throw bad("kept vector section has the wrong size");

  count_ = 0;
  capacity_ = 0;
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

  if (in.has(kHeadsSection)) {
    read_level0(in, count);
  } else if (in.has(kRecordsSection)) {
    read_version2_records(in, count);
  } else {
    read_version1_records(in, count);
  }
  // Every link must name an existing node and fit its list, or a search could read anywhere.
  // Level 0 used in place from a mapped file that was not verified whole is not checked here
  // (reading it is the cost mapping avoids): walks read a list up to its capacity
  // (graph::load_degree) and skip slots beyond the index (VisitedSet), so damaged lists give
  // wrong answers, not stray reads. The upper levels, copied into memory, are always checked.
  const int lowest_checked = links0_.is_view() && !in.verified(kLevel0Section) ? 1 : 0;
  const uint8_t* node_level = levels_.data();  // a local: uint8_t data would otherwise be reloaded per link
  for (uint64_t s = 0; s < count; ++s) {
    for (int level = lowest_checked; level <= node_level[s]; ++level) {
      const uint32_t* lk = links(static_cast<uint32_t>(s), level);
      const uint32_t n = lk[0];
      if (n > capacity_at(level)) throw bad("node " + std::to_string(s) + " has too many links");
      bool valid = true;
      for (uint32_t j = 1; j <= n; ++j) valid &= lk[j] < count && node_level[lk[j]] >= level;
      if (!valid) throw bad("node " + std::to_string(s) + " links to an invalid node");
    }
  }
  if (has_entry && levels_[entry] != static_cast<int>(levels_plus_one) - 1)
    throw bad("entry point is not on the top level");
  check_codes_finite(in, count);
  // Tails mapped in place are not read at load (that is the point of mapping them).
  if (tails_all_zero_.load() && (tails_.is_view() || !all_zero_bytes(tails_.data(), count * tail_size_)))
    tails_all_zero_.store(false);
  // Every node live until adopt_loaded_ids frees those the ids say were removed.
  for (uint64_t s = 0; s < count; ++s) set_state(static_cast<uint32_t>(s), kLive);
  count_ = count;
  if (has_entry) set_entry(entry, static_cast<int>(levels_plus_one) - 1);
  else entry_state_.store(0);
  revisit_cursor_ = 0;
  if (in.has(kRevisitSection)) {
    const uint64_t cursor = in.reader(kRevisitSection).u64();
    if (cursor > count) throw bad("revisit cursor past the last node");
    revisit_cursor_ = cursor;
  }
  degree_checked_at_ = 0;
  if (in.has(kDegreeCheckSection)) {
    const uint64_t checked_at = in.reader(kDegreeCheckSection).u64();
    if (checked_at != 0) {
      // Only a default M, chosen (so not still pending), is chosen again, from at least the rows
      // a first choice takes.
      if (M_ != kDefaultDegree || options().M != kDefaultDegree)
        throw bad("a degree check for a graph whose M is not an automatic default");
      if (checked_at < kRowsToChooseDegree || checked_at >= (uint64_t{1} << 31))
        throw bad("implausible degree check at " + std::to_string(checked_at) + " rows");
    }
    degree_checked_at_ = static_cast<size_t>(checked_at);
  }
}

void HnswIndex::check_codes_finite(const io::IndexFileReader& in, uint64_t count) const {
  // Codes used in place from a mapped file that was not verified whole are trusted, as its
  // level-0 lists are: checking them would read the whole file.
  if (!heads_.is_view() || (in.verified(kHeadsSection) && in.verified(kTailsSection))) {
    refuse_non_finite_codes(
        *codec_, count,
        [this](size_t s) { return StoredCode{head(static_cast<uint32_t>(s)), tail(static_cast<uint32_t>(s))}; },
        in.path(), "stored vector in slot");
  }
  if (kept_codec_ && (!kept_.is_view() || in.verified(kKeptSection)))
    refuse_non_finite_rows(*kept_codec_, kept_.data(), kept_codec_->code_size(), count, in.path(),
                           "kept float32 vector in slot");
}

void HnswIndex::adopt_loaded_ids(const std::string& path) {
  // Slots freed by remove (and not compacted away) are saved with the id -1: they are free
  // again, for later adds to reuse. Their lists are empty, but an empty list does not make a
  // slot free: remove's repair can leave a live node with no out-links (every neighbour gone,
  // no replacement found), and that node keeps its row.
  const size_t count = count_.load();
  size_t live = 0;
  for (uint32_t s = 0; s < count; ++s) {
    const bool free = !slot_is_live(s);
    set_state(s, free ? kEmpty : kLive);
    live += !free;
  }
  uint32_t entry = 0;
  const bool has_entry = entry_point(entry) >= 0;
  if (live > 0 && (!has_entry || !slot_is_live(entry)))
    throw FileFormatError(path + ": the graph's entry point is not a stored row");
}

void HnswIndex::read_level0(const io::IndexFileReader& in, uint64_t count) {
  auto bad = [&](const std::string& what) { return FileFormatError(in.path() + ": " + what); };
  io::ByteReader layout = in.reader(kHeadLayoutSection);
  const uint64_t head_stride = layout.u64();
  const uint64_t head_size = layout.u64();
  layout.expect_end();
  // A stride is at most a few lines past the head (padding); a larger one is corrupt, and
  // could make count * stride wrap around to the section's size.
  if (head_size != head_size_ || head_stride < head_size || head_stride > head_size + kMaxRecordPadding)
    throw bad("level-0 head layout does not match the codec");
  const size_t list_bytes = level0_list_words() * sizeof(uint32_t);
  if (in.size_of(kHeadsSection) != count * head_stride) throw bad("level-0 head section has the wrong size");
  if (in.size_of(kLevel0Section) != count * list_bytes) throw bad("level-0 link section has the wrong size");
  if (in.size_of(kTailsSection) != count * tail_size_) throw bad("code tail section has the wrong size");

  if (in.mapped() && head_stride == head_stride_) {
    // Searched in place: the walk reads heads and lists straight from the mapped file,
    // unverified unless the whole file was (see IndexFileReader::map).
    for (uint32_t tag : {kHeadsSection, kLevel0Section, kTailsSection, kKeptSection}) in.advise_random(tag);
    heads_ = view_of(in.in_place(kHeadsSection));
    links0_ = view_of(in.in_place(kLevel0Section));
    tails_ = view_of(in.in_place(kTailsSection));
    if (kept_codec_) kept_ = view_of(in.in_place(kKeptSection));
    mapped_checks_ = io::SectionChecks();
    for (uint32_t tag : {kHeadsSection, kLevel0Section, kTailsSection, kKeptSection}) mapped_checks_.note(in, tag);
    capacity_ = count;  // no reserve_records(): the per-node arrays it sizes are sized here
    states_.reset(new std::atomic<uint8_t>[count]());
    return;
  }
  reserve_records(count);
  // Copied piece by piece, checksummed as they are read.
  if (head_stride == head_stride_) {
    in.read_into(kHeadsSection, heads_.data());
  } else {  // written by a build that padded heads differently
    in.stream(kHeadsSection, head_stride, [&](uint64_t at, const uint8_t* from, size_t n) {
      for (uint64_t s = at / head_stride, end = (at + n) / head_stride; s < end; from += head_stride, ++s)
        std::memcpy(head(static_cast<uint32_t>(s)), from, head_size_);
    });
  }
  in.read_into(kLevel0Section, links0_.data());
  in.read_into(kTailsSection, tails_.data());
  read_kept(in);
}

void HnswIndex::read_version2_records(const io::IndexFileReader& in, uint64_t count) {
  auto bad = [&](const std::string& what) { return FileFormatError(in.path() + ": " + what); };
  io::ByteReader layout = in.reader(kRecordLayoutSection);
  const uint64_t stride = layout.u64();
  const uint64_t links_offset = layout.u64();
  const uint64_t head_size = layout.u64();
  layout.expect_end();
  const size_t list_bytes = level0_list_words() * sizeof(uint32_t);
  if (head_size != head_size_ || links_offset < head_size || links_offset > head_size + kMaxRecordPadding ||
      stride < links_offset + list_bytes || stride > links_offset + list_bytes + kMaxRecordPadding)
    throw bad("level-0 record layout does not match the codec and the graph degree");
  if (in.size_of(kRecordsSection) != count * stride) throw bad("level-0 record section has the wrong size");
  if (in.size_of(kTailsSection) != count * tail_size_) throw bad("code tail section has the wrong size");
  reserve_records(count);
  in.stream(kRecordsSection, stride, [&](uint64_t at, const uint8_t* from, size_t n) {
    for (uint64_t s = at / stride, end = (at + n) / stride; s < end; from += stride, ++s) {
      std::memcpy(head(static_cast<uint32_t>(s)), from, head_size_);
      std::memcpy(links(static_cast<uint32_t>(s), 0), from + links_offset, list_bytes);
    }
  });
  in.read_into(kTailsSection, tails_.data());
  read_kept(in);
}

void HnswIndex::read_kept(const io::IndexFileReader& in) {
  if (!kept_codec_) return;
  in.read_into(kKeptSection, kept_.data());  // its size was checked by read_sections
}

void HnswIndex::read_version1_records(const io::IndexFileReader& in, uint64_t count) {
  auto bad = [&](const std::string& what) { return FileFormatError(in.path() + ": " + what); };
  const size_t cs = codec_->code_size();
  const size_t link_words = level0_list_words();
  if (in.size_of(kCodesSection) != count * cs) throw bad("code section has the wrong size");
  if (in.size_of(kLevel0Section) != count * link_words * sizeof(uint32_t))
    throw bad("level-0 link section has the wrong size");
  reserve_records(count);
  in.stream(kCodesSection, cs, [&](uint64_t at, const uint8_t* from, size_t n) {
    for (uint64_t s = at / cs, end = (at + n) / cs; s < end; from += cs, ++s) {
      std::memcpy(head(static_cast<uint32_t>(s)), from, head_size_);
      if (tail_size_) std::memcpy(tail(static_cast<uint32_t>(s)), from + head_size_, tail_size_);
    }
  });
  in.read_into(kLevel0Section, links0_.data());
  read_kept(in);
}

}  // namespace vidx
