#include "vidx/flat/flat_index.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <string>

#include "vidx/codec/finite_codes.hpp"
#include "vidx/codec/relearning.hpp"
#include "vidx/common/error.hpp"
#include "vidx/common/filtered_scan.hpp"
#include "vidx/common/search_limits.hpp"
#include "vidx/common/topk.hpp"
#include "vidx/io/byte_stream.hpp"
#include "vidx/io/index_file.hpp"

namespace vidx {
namespace {

constexpr uint32_t kCodesSection = io::fourcc("CODE");  // formats 1-3: codes back to back
// Format 4: codes as in memory, `stride` apart (CLAY: stride, code size), so that a mapped file
// is scanned in place whatever the code size (before, padded codes were copied out of it).
constexpr uint32_t kStridedCodesSection = io::fourcc("CODS");
constexpr uint32_t kCodeLayoutSection = io::fourcc("CLAY");
constexpr uint32_t kStridedCodesVersion = 4;  // a version 3 library would not find the codes
constexpr uint32_t kKeptSection = io::fourcc("VECS");  // keep_vectors: float32 rows by slot
// Codes are stored this far apart (code size rounded up to 8 bytes): kernels read them as
// 64-bit words, which must be aligned (UBSan found binary codes at odd offsets).
constexpr size_t kCodeAlignment = 8;

// The most padding a file may claim after a code (this build pads to 8 bytes); more is corrupt.
constexpr uint64_t kMaxCodePadding = 4096;

size_t stride_of(const Codec& codec) { return (codec.code_size() + kCodeAlignment - 1) / kCodeAlignment * kCodeAlignment; }

// Grows `buffer` geometrically to hold `needed` bytes (repeated small adds stay linear).
void grow(AlignedBuffer& buffer, size_t needed) {
  if (needed > buffer.size()) buffer.reallocate(std::max(needed, buffer.size() + buffer.size() / 2));
}

}  // namespace

FlatIndex::FlatIndex(size_t dim, Metric metric, const IndexOptions& options)
    : VectorIndex(dim, metric, options),
      codec_(make_codec(this->options().quant, dim, metric, options.seed)) {
  learning_.learns = codec_->needs_training();
  learning_.keeps_learning = true;  // sign codes settle later (codec/relearning.hpp)
  // float32 codes are the vectors already: keeping them twice would add nothing.
  if (options.keep_vectors && codec_->name() != "f32") kept_codec_ = make_codec("f32", dim, metric);
  stride_ = stride_of(*codec_);
}

void FlatIndex::resize_rows(size_t rows, bool exact) {
  const auto fit = [exact](AlignedBuffer& buffer, size_t bytes) {
    if (exact)
      buffer.reallocate(bytes);
    else
      grow(buffer, bytes);
  };
  fit(codes_, rows * stride_);
  if (kept_codec_) fit(kept_, rows * kept_codec_->code_size());
}

void FlatIndex::add_rows(const float* x, size_t n, const uint32_t* slots, ThreadPool& pool, const ProgressFn& progress) {
  const bool trains = codec_->needs_training();  // then this is the exclusive path (concurrent_writes)
  if (trains) {
    codec_->train(x, n);
    learning_.learnt_from = n;
  }
  size_t end = 0;  // slots are freed ones (below count_) or the next new ones
  for (size_t i = 0; i < n; ++i) end = std::max(end, static_cast<size_t>(slots[i]) + 1);
  resize_rows(end, false);  // a no-op when the base reserved the room (concurrent writes)
  if (kept_codec_) {
    const size_t ks = kept_codec_->code_size();
    for (size_t i = 0; i < n; ++i) std::memcpy(kept_.data() + slots[i] * ks, x + i * dim(), ks);
  }
  const size_t cs = stride_;
  // Encoding is quick: one report, before any search can see the rows, so a report that
  // throws leaves nothing to undo (the base frees the slots); nor does an encoding that fails
  // (workers that cannot start, memory), once the codec this add trained is untrained again.
  try {
    pool.parallel_for(n, [&](size_t i, size_t) { codec_->encode(x + i * dim(), codes_.data() + slots[i] * cs); }, 1024);
    report(progress, "add", n, n);
  } catch (...) {
    if (trains) codec_ = make_codec(options().quant, dim(), metric(), options().seed);  // as made: untrained
    throw;
  }
  // Raised only after the codes are written (release): a search that reads the new count sees
  // them. Other writers may raise it at the same time, on other slots.
  size_t seen = count_.load(std::memory_order_relaxed);
  while (seen < end && !count_.compare_exchange_weak(seen, end, std::memory_order_release)) {
  }
}

size_t FlatIndex::rows_to_scan(const RowFilter*& filter) const {
  const size_t rows = count_.load(std::memory_order_acquire);
  // A writer hides its new slots before it raises count_, so having read the count, this
  // sees them hidden (or already published).
  if (!filter && removed_unreclaimed() != 0) filter = &live_rows();
  return rows;
}

bool FlatIndex::relearns_codec_before(size_t n) const {
  return learning_.due_before(*codec_, live_slots() + n);
}

std::function<void()> FlatIndex::relearn_codec(const float* x, size_t n, ThreadPool& pool) {
  // The caller holds the write mutex with no write in flight, and the shared lock: only searches
  // run beside this. Free slots keep stale codes (scans skip them): those are encoded again too,
  // as an add that reuses one overwrites it.
  const size_t rows = count_.load();
  std::vector<uint32_t> live;
  for (uint32_t s = 0; s < rows; ++s)
    if (slot_is_live(s)) live.push_back(s);
  relearning::Learnt learnt = relearning::learn_again(
      options(), dim(), metric(), *codec_, kept_codec_ != nullptr, live,
      [&](uint32_t slot, float* out) { vector_of(slot, out); }, x, n);
  if (!learnt.codec) {
    learning_.learnt_from = learnt.rows;
    return {};
  }
  // Into a copy: should encoding fail partway (memory), the index keeps its codec and codes whole,
  // and the relearning stays due.
  struct Relearnt {
    std::unique_ptr<Codec> codec;
    AlignedBuffer codes;
  };
  auto next = std::make_shared<Relearnt>();
  next->codec = std::move(learnt.codec);
  next->codes.reallocate(codes_.size());
  if (codes_.size()) std::memcpy(next->codes.data(), codes_.data(), codes_.size());
  const Codec& codec = *next->codec;
  pool.parallel_for(
      rows,
      [&](size_t s, size_t) {
        thread_local std::vector<float> row;
        row.resize(dim());
        vector_of(static_cast<uint32_t>(s), row.data());
        // A stale code that decodes to NaN or infinity is left as it is (no search reads it).
        if (exponents_finite<uint32_t>(reinterpret_cast<const uint8_t*>(row.data()), dim(), kF32ExponentBits))
          codec.encode(row.data(), next->codes.data() + s * stride_);
      },
      1024);
  const size_t learnt_from = learnt.rows;
  return [this, next, learnt_from] {
    codes_ = std::move(next->codes);
    codec_ = std::move(next->codec);
    learning_.learnt_from = learnt_from;
  };
}

void FlatIndex::vector_of(uint32_t slot, float* out) const {
  if (kept_codec_)
    std::memcpy(out, kept_.data() + slot * kept_codec_->code_size(), kept_codec_->code_size());
  else
    codec_->decode(codes_.data() + slot * stride_, out);
}

bool FlatIndex::decode_rows(const uint32_t* slots, size_t n, float* out) const {
  for (size_t i = 0; i < n; ++i) vector_of(slots[i], out + i * dim());
  return kept_codec_ != nullptr || codec_->decodes_exactly();
}

std::vector<uint32_t> FlatIndex::compact_rows(ThreadPool&) {
  const size_t count = count_.load();
  std::vector<uint32_t> new_slot(count, UINT32_MAX);
  const size_t ks = kept_codec_ ? kept_codec_->code_size() : 0;
  uint32_t live = 0;
  for (uint32_t s = 0; s < count; ++s) {
    if (!slot_is_live(s)) continue;
    if (live != s) {  // rows move down only: source and destination never overlap
      std::memcpy(codes_.data() + live * stride_, codes_.data() + s * stride_, stride_);
      if (ks) std::memcpy(kept_.data() + live * ks, kept_.data() + s * ks, ks);
    }
    new_slot[s] = live++;
  }
  count_ = live;
  resize_rows(live, true);
  return new_slot;
}

void FlatIndex::search_one(const float* q, size_t k, size_t rerank, const RowFilter* filter, float* distances,
                           int64_t* slots) const {
  const size_t rows = rows_to_scan(filter);
  std::vector<Neighbor> best;
  if (kept_codec_) {
    // Precise vectors are at hand: scan them, so kind="flat" stays exact whatever the codec.
    best = nearest_allowed_rows(*kept_codec_->prepare(q), kept_.data(), kept_codec_->code_size(), rows, filter, k);
  } else {
    // An exhaustive scan of the codes; a two-level codec re-scores the best `rerank` (automatic:
    // kRerankPerResult * k) with its precise level. Exact for float32 codes, as precise as the
    // codec otherwise.
    const size_t cs = stride_;
    const size_t kept = codec_->reranks() ? std::max(k, rerank ? rerank : kRerankPerResult * k) : k;
    best = nearest_allowed_rows(*codec_->prepare(q), codes_.data(), cs, rows, filter, kept);
    if (codec_->reranks()) {
      const auto precise = codec_->prepare_precise(q);
      for (Neighbor& n : best) n.distance = precise->one(codes_.data() + n.slot * cs);
      std::sort(best.begin(), best.end(), closer);
    }
  }
  for (size_t j = 0; j < k; ++j) {
    if (j < best.size()) {
      distances[j] = best[j].distance;
      slots[j] = best[j].slot;
    } else {
      distances[j] = std::numeric_limits<float>::infinity();
      slots[j] = -1;
    }
  }
}

void FlatIndex::search_rows(const float* q, size_t nq, size_t k, const SearchParams& params, float* distances,
                            int64_t* slots, ThreadPool& pool) const {
  pool.parallel_for(nq, [&](size_t i, size_t) {
    const RowFilter* filter = params.row_filters ? params.row_filters->of(i) : nullptr;
    search_one(q + i * dim(), k, params.rerank, filter, distances + i * k, slots + i * k);
  });
}

void FlatIndex::range_search_rows(const float* q, size_t nq, float radius, const SearchParams& params,
                                  RangeResult& out, ThreadPool& pool) const {
  // Every row is compared with its most precise distance: kept vectors, else the codec's
  // precise level (codes are stored whole here), so the result is exact for float32.
  std::vector<std::vector<Neighbor>> found(nq);
  pool.parallel_for(nq, [&](size_t i, size_t) {
    const RowFilter* filter = params.row_filters ? params.row_filters->of(i) : nullptr;
    const size_t rows = rows_to_scan(filter);
    const float* query = q + i * dim();
    const auto distance = kept_codec_ ? kept_codec_->prepare(query)
                                      : (codec_->reranks() ? codec_->prepare_precise(query) : codec_->prepare(query));
    const uint8_t* base = kept_codec_ ? kept_.data() : codes_.data();
    const size_t stride = kept_codec_ ? kept_codec_->code_size() : stride_;
    scan_allowed_rows(*distance, base, stride, rows, filter, [&](float d, uint32_t s) {
      if (d < radius) found[i].push_back(Neighbor{d, s});
    });
    std::sort(found[i].begin(), found[i].end(), closer);
  });
  append_range_results(found, out);
}

std::map<std::string, size_t> FlatIndex::structure_memory_parts() const {
  // Codes stay whole here: their heads are "codes", their tails "rerank_codes".
  const size_t heads = codes_.size() / stride_ * codec_->head_size();
  std::map<std::string, size_t> parts{
      {"codes", heads}, {"rerank_codes", codes_.size() - heads}, {"codec", codec_->parameter_bytes()}};
  if (kept_codec_) parts["kept_vectors"] = kept_.size();
  return parts;
}

void FlatIndex::write_sections(io::IndexFileWriter& out) const {
  io::ByteWriter params;
  codec_->save_parameters(params);
  out.add_section(io::fourcc("CDEC"), params.take());
  io::ByteWriter layout;
  layout.u64(stride_);
  layout.u64(codec_->code_size());
  out.add_section(kCodeLayoutSection, layout.take());
  out.needs_version(kStridedCodesVersion);
  // Sections still in place from a mapped file are compared with the checksums they had there
  // (codes in place from a format 3 file came from its back-to-back section: codes that needed
  // no padding, the same bytes).
  const auto check = [&](const AlignedBuffer& b, uint32_t tag) { return b.is_view() ? mapped_checks_.find(tag) : nullptr; };
  const io::SectionCheck* codes_check = check(codes_, kStridedCodesSection);
  if (!codes_check) codes_check = check(codes_, kCodesSection);
  out.add_section_view(kStridedCodesSection, codes_.data(), count_ * stride_, codes_check);
  if (kept_codec_)
    out.add_section_view(kKeptSection, kept_.data(), count_ * kept_codec_->code_size(), check(kept_, kKeptSection));
}

void FlatIndex::read_sections(const io::IndexFileReader& in) {
  auto bad = [&](const std::string& what) { return FileFormatError(in.path() + ": " + what); };
  io::ByteReader params = in.reader(io::fourcc("CDEC"));
  codec_ = load_codec(codec_->name(), dim(), metric(), params);
  const size_t cs = codec_->code_size();
  stride_ = stride_of(*codec_);
  // Format 4 stores codes `file_stride` apart (this build's stride unless a later one pads
  // differently); older files back to back.
  const bool strided = in.has(kStridedCodesSection);
  const uint32_t codes_tag = strided ? kStridedCodesSection : kCodesSection;
  uint64_t file_stride = cs;
  if (strided) {
    io::ByteReader layout = in.reader(kCodeLayoutSection);
    file_stride = layout.u64();
    const uint64_t code_size = layout.u64();
    layout.expect_end();
    if (code_size != cs)
      throw bad("code layout names codes of " + std::to_string(code_size) + " bytes; the codec's are " +
                std::to_string(cs));
    if (file_stride < cs || file_stride > cs + kMaxCodePadding)
      throw bad("code layout stride " + std::to_string(file_stride) + " is not within " + std::to_string(cs) + ".." +
                std::to_string(cs + kMaxCodePadding) + " for codes of " + std::to_string(cs) + " bytes");
  }
  const uint64_t codes_size = in.size_of(codes_tag);
  if (codes_size % file_stride != 0)
    throw bad("code section size " + std::to_string(codes_size) + " is not a multiple of the code stride " +
              std::to_string(file_stride));
  count_ = static_cast<size_t>(codes_size / file_stride);
  learning_.learnt_from = count_;
  const uint64_t kept_size = kept_codec_ ? in.size_of(kKeptSection) : 0;
  if (kept_codec_ && kept_size != count_ * kept_codec_->code_size())
    throw bad("kept vector section holds " + std::to_string(kept_size) + " bytes, expected " +
              std::to_string(count_ * kept_codec_->code_size()));
  // A mapped file is scanned in place when it lays codes out as memory does.
  // (Mapped files are copy-on-write, so the const section memory is writable: mapped_file.hpp.)
  auto view_of = [](const io::Span& s) { return AlignedBuffer::view(const_cast<uint8_t*>(s.data), s.size); };
  if (in.mapped() && file_stride == stride_) {
    codes_ = view_of(in.in_place(codes_tag));  // verified below only where the whole file was
    if (kept_codec_) kept_ = view_of(in.in_place(kKeptSection));
    mapped_checks_ = io::SectionChecks();
    mapped_checks_.note(in, codes_tag);
    if (kept_codec_) mapped_checks_.note(in, kKeptSection);
  } else {
    if (file_stride == stride_) {
      codes_ = AlignedBuffer::for_overwrite(count_ * stride_);
      in.read_into(codes_tag, codes_.data());
    } else {  // copied piece by piece into this build's rows, checksummed as they are read
      codes_ = AlignedBuffer(count_ * stride_);  // zeroed: the padding after each code
      const size_t from_stride = static_cast<size_t>(file_stride);
      in.stream(codes_tag, from_stride, [&](uint64_t at, const uint8_t* rows, size_t n) {
        for (size_t i = 0, first = static_cast<size_t>(at / from_stride); i < n / from_stride; ++i)
          std::memcpy(codes_.data() + (first + i) * stride_, rows + i * from_stride, cs);
      });
    }
    kept_.reallocate(static_cast<size_t>(kept_size));
    if (kept_codec_) in.read_into(kKeptSection, kept_.data());
  }
  // Codes scanned in place from a mapped file that was not verified whole are trusted:
  // checking them would read the whole file.
  if (!codes_.is_view() || in.verified(codes_tag))
    refuse_non_finite_rows(*codec_, codes_.data(), stride_, count_, in.path(), "stored vector in row");
  if (kept_codec_ && (!kept_.is_view() || in.verified(kKeptSection)))
    refuse_non_finite_rows(*kept_codec_, kept_.data(), kept_codec_->code_size(), count_, in.path(),
                           "kept float32 vector in row");
}

}  // namespace vidx
