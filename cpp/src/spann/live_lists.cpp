// SPANN living state: creating it, reading a posting list into memory, writing one
// copy-on-write into free pages, the id -> list map, and the sweep of stale entries.
#include <algorithm>
#include <cstring>

#include "live_state.hpp"
#include "write_generation.hpp"
#include "vidx/codec/float16.hpp"
#include "vidx/common/error.hpp"
#include "vidx/io/crc32c.hpp"

namespace vidx::spann {
namespace {

constexpr size_t kPage = io::kPageSize;

// Bytes [begin, begin + n) of the posting file, read as whole pages and verified.
void read_bytes(const io::PostingReader& p, uint64_t begin, size_t n, uint8_t* out, const char* what, size_t which) {
  if (n == 0) return;
  const uint64_t first = begin / kPage * kPage, last = io::round_up_page(begin + n);
  io::PageBuffer buffer;
  uint8_t* pages = buffer.reserve(static_cast<size_t>(last - first));
  p.file().read_exact_at(first, pages, static_cast<size_t>(last - first));
  p.verify_pages(first, pages, static_cast<size_t>((last - first) / kPage), what, which);
  std::memcpy(out, pages + (begin - first), n);
}

}  // namespace

SpannIndex::Live& SpannIndex::live() const {
  std::lock_guard<std::mutex> guard(live_mutex_);
  if (live_) return *live_;
  if (!head_) throw InvalidArgument("the SPANN index is empty (call add first)");
  if (head_halves_.size() != head_->size() * dim())
    throw InvalidArgument("this SPANN index was saved without its head vectors (an older vidx): rebuild it to add "
                          "or remove vectors");
  auto live = std::make_unique<Live>();
  init_live(*live);
  live->limit = std::max<size_t>(16, build_stats_.posting_limit);
  live_ = std::move(live);
  return *live_;
}

// The head vectors in float32; the pages past the build's region: those the directory names
// are the saved state's, the rest (a killed writer's leftovers included) are free.
void SpannIndex::init_live(Live& live) const {
  live.head_vectors.resize(head_halves_.size());
  for (size_t i = 0; i < head_halves_.size(); ++i) live.head_vectors[i] = f16::to_float(head_halves_[i]);
  const uint64_t built = postings_->built_end();
  const uint64_t file_end = postings_->file().size() / kPage * kPage;
  live.pages.reset(built, std::max(built, file_end));
  const size_t T = postings_->layout().tail_bytes;
  for (const io::PostingList& l : postings_->lists())
    if (l.count && l.offset >= built) live.pages.mark_saved(l.first_page_offset(), run_pages(l, T));
  live.pages.rebuild_free_runs();
}

void SpannIndex::read_list(uint32_t list, ListBuffer& out) const {
  const io::PostingList& l = postings_->lists()[list];
  const io::PostingLayout& layout = postings_->layout();
  out.clear(layout.entry_bytes, layout.tail_bytes);
  out.count = l.count;
  out.entries.resize(size_t(l.count) * out.E);
  out.tails.resize(size_t(l.count) * out.T);
  read_bytes(*postings_, l.offset, out.entries.size(), out.entries.data(), "posting list", list);
  read_bytes(*postings_, l.tail_base, out.tails.size(), out.tails.data(), "posting tails of list", list);
}

void SpannIndex::open_writer(Live& live) const {
  // A child made by fork() shares its parent's open posting file and the lock on it, so the
  // lock cannot keep the two from writing the same pages: the child may search, not write.
  if (live.writer.is_open() && live.writer_process != io::current_process_id())
    throw IoError("this SPANN index was opened for writing by the process this one was forked from, which "
                  "may still write " + postings_->path() + ": a forked process may search it but not add to or "
                  "remove from it (load its files, or copies of them, in the child to write)");
  if (!live.writer.is_open()) {
    // Opened by its name, which another build may have given to a file of its own since this
    // index opened its file: writing there would overwrite that index's lists.
    const char* refused = "this index can no longer write it";
    refuse_if_posting_file_replaced(refused);
    io::File writer = io::File::open_existing(postings_->path(), io::File::Access::read_write);
    refuse_if_posting_file_replaced(refused);  // replaced between the check and the open
    // Each index places its rewritten lists in the pages it believes free; two writing one file
    // would overwrite each other's lists (a copy, a pickle, from_bytes or a second load of the
    // same files all name the same posting file). So one index at a time may write it.
    if (!writer.try_lock_exclusive())
      throw IoError("the posting file " + postings_->path() +
                    " is being written by another open index (a copy of this one, or the same files loaded "
                    "twice): one index at a time may add to or remove from a SPANN posting file. Close the "
                    "other one, or give this one a posting file of its own (copy both files and load the copy)");
    live.writer = std::move(writer);
    live.writer_process = io::current_process_id();
  }
  if (live.changed) return;
  // The first write since this state was loaded or saved: a newer saved state of the file may
  // exist (this one is an older save, or a copy taken before it), whose lists sit in pages
  // this one believes free.
  const uint64_t stamped = read_write_generation(*postings_);
  if (stamped > live.generation)
    throw IoError("this SPANN index is older than its posting file: a state saved after it (generation " +
                  std::to_string(stamped) + ", this one " + std::to_string(live.generation) + ") keeps lists in " +
                  postings_->path() + " in pages this one would reuse. Searches work until writes to that state "
                  "reuse this one's pages; to write, load the newest save, or copy this one's index and posting "
                  "files together before its newer state is written");
  live.changed = true;
}

void SpannIndex::write_list(Live& live, uint32_t list, const ListBuffer& b) { install_list(live, list, write_pages(live, b)); }

io::PostingList SpannIndex::write_pages(Live& live, const ListBuffer& b) {
  open_writer(live);
  io::PostingList l;
  l.count = static_cast<uint32_t>(b.count);
  if (!b.count) return l;
  const size_t entry_pages = static_cast<size_t>(io::round_up_page(b.entries.size()) / kPage);
  const size_t total = entry_pages + static_cast<size_t>(io::round_up_page(b.tails.size()) / kPage);
  const uint64_t at = live.pages.allocate(total);
  io::PageBuffer buffer;
  uint8_t* pages = buffer.reserve(total * kPage);
  std::memset(pages, 0, total * kPage);
  std::memcpy(pages, b.entries.data(), b.entries.size());
  if (!b.tails.empty()) std::memcpy(pages + entry_pages * kPage, b.tails.data(), b.tails.size());
  try {
    // The file grows first, in whole pages: a kill never leaves a torn page count at its end.
    if (live.writer.size() < live.pages.end()) live.writer.resize(live.pages.end());
    live.writer.write_at(at, pages, total * kPage);
  } catch (...) {  // refused (a full disk): the new pages are free again
    live.pages.release(at, total);
    throw;
  }
  for (size_t p = 0; p < total; ++p) postings_->set_page_crc(at + p * kPage, io::crc32c(pages + p * kPage, kPage));
  l.offset = at;
  l.pages = static_cast<uint32_t>(entry_pages);
  l.tail_base = at + entry_pages * kPage;
  return l;
}

void SpannIndex::install_list(Live& live, uint32_t list, const io::PostingList& l) {
  const io::PostingList old = list < postings_->lists().size() ? postings_->lists()[list] : io::PostingList{};
  postings_->set_list(list, l);
  release_pages(live, old);
  ++live.rewrites;
}

void SpannIndex::release_pages(Live& live, const io::PostingList& l) {
  if (l.count && l.offset >= postings_->built_end())
    live.pages.release(l.first_page_offset(), run_pages(l, postings_->layout().tail_bytes));
}

void SpannIndex::ensure_where(Live& live) const {
  std::lock_guard<std::mutex> guard(live_mutex_);
  if (live.where_ready) return;
  ListBuffer b;
  for (uint32_t h = 0; h < postings_->lists().size(); ++h) {
    read_list(h, b);
    for (size_t i = 0; i < b.count; ++i) {
      const int64_t raw = b.raw_id(i);
      if (!live.liveness.live(raw)) continue;
      const int64_t id = entry_id(raw);
      if (!live.where.contains(id)) live.where.set(id, h);
      live.next_id = std::max(live.next_id, id + 1);
    }
  }
  live.where_ready = true;
}

// Rewrites every list holding a stale entry or a versioned one, so that every entry left
// has version 0 and nothing needs the stale table any more. A refused write (a full disk) must
// leave every row readable: a list only dropping stale entries is rewritten at once (whatever
// happens next, the stale table still says the same of every entry), while lists whose versions
// go back to 0 take their places only once all of them are written. One of those rewritten alone
// while the stale table still expected another version hid its rows, and a sweep refused
// part-way lost them for good. (Writing only those last keeps the sweep's extra disk space to
// the lists of re-added ids.)
void SpannIndex::sweep_stale(Live& live) {
  ListBuffer b;
  std::vector<std::pair<uint32_t, io::PostingList>> versioned;
  try {
    for (uint32_t h = 0; h < postings_->lists().size(); ++h) {
      if (postings_->lists()[h].count == 0) continue;
      read_list(h, b);
      const bool dropped = b.keep_if([&](int64_t raw) { return live.liveness.live(raw); }) > 0;
      bool reset = false;
      for (size_t i = 0; i < b.count; ++i)
        if (entry_version(b.raw_id(i)) != 0) {
          b.set_raw_id(i, entry_id(b.raw_id(i)));
          reset = true;
        }
      if (reset)
        versioned.emplace_back(h, write_pages(live, b));
      else if (dropped)
        write_list(live, h, b);
    }
  } catch (...) {
    for (const auto& [h, l] : versioned) release_pages(live, l);
    throw;
  }
  for (const auto& [h, l] : versioned) install_list(live, h, l);
  live.liveness.clear();
  ++live.sweeps;
}

}  // namespace vidx::spann
