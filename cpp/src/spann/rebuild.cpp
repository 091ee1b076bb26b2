// SPANN rebuilt from its own rows (SpannIndex::rebuild, spann_index.hpp).
//
// Why: an index built on a small first collection and grown by adds keeps the heads that
// build chose; lists grow until they split, and a split's halves are cut around the old head,
// not clustered with their neighbours. Grown from 10% of glove6b-50 to all of it, such an
// index read 2.1x the entries of a fresh build of the same rows at nprobe 32 and found less
// (recall@10 0.944 against 0.954; benchmarks/spann_growth.py). A rebuild is that fresh build,
// made from the stored vectors, so the caller needs neither its data nor a second index.
//
// How: with writes paused (searches go on), every live vector is decoded once, in id order, into
// a temporary float32 file beside the new posting file. Writes then go on while the build's
// phases stream that file as they stream a user's: they change the old state, which searches
// keep using, and are noted in a journal (live_state.hpp). Under the write mutex and the
// exclusive lock the new state is swapped in and the journal's writes are made again on it
// (swapped back out, old state whole, if that fails). Ids, the next default id and the options
// carry over; stale entries, strays and split counters do not.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>
#if defined(__GLIBC__)  // known once a library header is in
#include <malloc.h>
#endif

#include "live_state.hpp"
#include "search_context.hpp"
#include "spann_paths.hpp"
#include "vidx/codec/relearning.hpp"
#include "vidx/common/error.hpp"
#include "vidx/io/atomic_file.hpp"
#include "vidx/io/positional_io.hpp"
#include "vidx/io/vector_source.hpp"

namespace vidx::spann {
namespace {

// Claims "<file>.rN" for the first N free, after dropping a ".rN" of ours the name already ends
// with (N from 1, no leading zero: a second rebuild of "x.post.r1" writes "x.post.r2", not
// "x.post.r1.r1"; a user's "x.r007" keeps its name).
std::string claim_next_name(const std::string& current) {
  std::string stem = current;
  const size_t dot = stem.rfind(".r");
  if (dot != std::string::npos && dot + 2 < stem.size() && stem[dot + 2] != '0' &&
      std::all_of(stem.begin() + static_cast<std::ptrdiff_t>(dot + 2), stem.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }))
    stem.resize(dot);
  for (uint64_t k = 1;; ++k) {
    const std::string candidate = stem + ".r" + std::to_string(k);
    if (io::create_empty_file(candidate)) return candidate;
  }
}

IoError name_taken(const std::string& path) {
  return IoError(path + " exists: rebuild() writes a new posting file and never replaces one (give another "
                        "path, or none to let the index choose)");
}

// A file of ours removed when the scope ends, unless kept, and marked in use meanwhile (for
// clean-ups that cannot see this process: io::InUseMark).
struct TemporaryFile {
  std::string path;
  io::InUseMark mark;
  ~TemporaryFile() {
    if (!path.empty()) io::remove_file(path);
  }
};

// A new temporary file beside `final_path` (named as a save's are, io::temp_path_for), created
// empty and marked.
TemporaryFile claim_temporary(const std::string& final_path) {
  const std::string path = io::temp_path_for(final_path);
  if (!io::create_empty_file(path)) throw IoError("cannot claim the temporary file " + path);
  return TemporaryFile{path, io::InUseMark(path)};
}

}  // namespace

// Two passes over the lists: the live ids first, then each vector decoded into its id's rank,
// so that the rows lie in id order whatever lists they sat in (a rebuild of float32 codes is
// then the build of the same rows given in id order, not one that depends on the old lists).
std::vector<int64_t> SpannIndex::write_stored_rows(const std::string& rows_path, const ProgressFn& progress,
                                                   const AddedRows* added, const std::string& codes_path) const {
  const Live* live = nullptr;  // none: nothing was ever added after the build or removed
  {
    std::lock_guard<std::mutex> guard(live_mutex_);
    live = live_.get();
  }
  const size_t lists = postings_->lists().size();
  ListBuffer b;
  IdTable rank;  // id -> its row; an id's replicas in other lists are the same vector
  std::vector<int64_t> ids;
  ids.reserve(static_cast<size_t>(count_));
  bool mapped = false;  // a living index keeps every stored id in its id -> list map: no pass over the lists
  if (live) {
    std::lock_guard<std::mutex> guard(live_mutex_);  // a lookup may be making the map (ensure_where)
    if (live->where_ready) {
      live->where.for_each([&](int64_t id, uint32_t) { ids.push_back(id); });
      mapped = true;
    }
  }
  if (mapped) {
    for (int64_t id : ids) rank.set(id, 0);
    report(progress, "stored", lists, 2 * lists);
  } else {
    for (uint32_t h = 0; h < lists; ++h) {
      read_list(h, b);
      for (size_t e = 0; e < b.count; ++e) {
        const int64_t raw = b.raw_id(e);
        if ((live && !live->liveness.live(raw)) || rank.contains(entry_id(raw))) continue;
        rank.set(entry_id(raw), 0);
        ids.push_back(entry_id(raw));
      }
      report(progress, "stored", h + 1, 2 * lists);
    }
  }
  if (ids.size() != count_)
    throw std::logic_error("vidx::spann::rebuild: the posting lists hold " + std::to_string(ids.size()) +
                           " live vectors, the index counts " + std::to_string(count_));
  std::sort(ids.begin(), ids.end());
  for (size_t r = 0; r < ids.size(); ++r) rank.set(ids[r], static_cast<uint32_t>(r));

  io::File out = io::File::open_existing(rows_path, io::File::Access::read_write);  // claimed by rebuild()
  const size_t row_bytes = dim() * sizeof(float);
  out.resize(uint64_t(ids.size() + (added ? added->n : 0)) * row_bytes);
  std::vector<bool> written(ids.size(), false);
  std::vector<float> row(dim());
  const size_t code_bytes = codec_->code_size(), head_bytes = codec_->head_size();
  io::File codes;
  std::vector<uint8_t> code(code_bytes);
  if (!codes_path.empty()) {
    codes = io::File::open_existing(codes_path, io::File::Access::read_write);  // claimed by rebuild_locked()
    codes.resize(uint64_t(ids.size()) * code_bytes);
  }
  for (uint32_t h = 0; h < lists; ++h) {
    read_list(h, b);
    for (size_t e = 0; e < b.count; ++e) {
      const int64_t raw = b.raw_id(e);
      if (live && !live->liveness.live(raw)) continue;
      const uint32_t r = *rank.find(entry_id(raw));
      if (written[r]) continue;
      written[r] = true;
      const uint8_t* head = b.entries.data() + e * b.E + 8;
      const uint8_t* tail = b.T ? b.tails.data() + e * b.T : nullptr;
      codec_->decode_split(head, tail, row.data());
      out.write_at(uint64_t(r) * row_bytes, row.data(), row_bytes);
      if (codes.is_open()) {  // [head | tail], as the codec made it
        std::memcpy(code.data(), head, head_bytes);
        if (tail) std::memcpy(code.data() + head_bytes, tail, code_bytes - head_bytes);
        codes.write_at(uint64_t(r) * code_bytes, code.data(), code_bytes);
      }
    }
    report(progress, "stored", lists + h + 1, 2 * lists);
  }
  if (added) {  // after the stored rows, in the add's order
    out.write_at(uint64_t(ids.size()) * row_bytes, added->x, added->n * row_bytes);
    ids.insert(ids.end(), added->ids.begin(), added->ids.end());
  }
  out.close();
  if (codes.is_open()) codes.close();
  return ids;
}

std::string SpannIndex::rebuild(const std::string& path, const ProgressFn& progress) {
  check_writable("rebuild");
  const ForkGate::Hold whole_rebuild(lock_generation());  // a fork waits for it: writes go on between its steps
  WriteGuard writing = pause_writes();  // while the stored rows are read
  if (journal_) throw InvalidArgument("this SPANN index is being rebuilt already (by another thread)");
  {
    auto lock = lock_shared();
    if (!head_) throw InvalidArgument("the SPANN index is empty: nothing to rebuild (call add first)");
  }
  if (count_ == 0) throw InvalidArgument("the SPANN index holds no vectors (all were removed): nothing to rebuild");
  return rebuild_locked(path, progress, writing, nullptr);
}

bool SpannIndex::add_by_rebuild(const float* x, size_t n, const int64_t* ids, ThreadPool& pool,
                                const ProgressFn& progress) {
  const double growth = options().spann.rebuild_growth;
  if (growth == 0) return false;
  const ForkGate::Hold whole_add(lock_generation());  // as rebuild()'s
  WriteGuard writing = pause_writes();
  // One rebuild at a time: an add beside a running one is made as usual (and again on its state).
  // After a rebuild that could not be made, the next try waits for the same growth again.
  const double since = double(std::max<uint64_t>(build_stats_.vectors, declined_at_));
  if (journal_ || !head_ || double(count_ + n) < growth * since) return false;
  if (count_ + n >= (uint64_t(1) << 31)) throw InvalidArgument("a SPANN index holds at most 2^31 - 1 vectors");
  AddedRows added{x, n, {}};
  int64_t next_before = 0, next_reserved = 0;
  {
    Live& live = this->live();
    ensure_where(live);
    added.ids = labels_for_add(live, ids, n);
    // Taken now: adds made while the rebuild builds default to the ids after these.
    std::lock_guard<std::mutex> guard(live_mutex_);
    next_before = live.next_id;
    for (int64_t id : added.ids) live.next_id = std::max(live.next_id, id + 1);
    next_reserved = live.next_id;
    live.highest_added = -1;
  }
  // An add that does not happen gives its default ids back: the next one starts where it would
  // have, past what other adds gave meanwhile (the old state's living part is in place again).
  auto give_ids_back = [&] {
    std::lock_guard<std::mutex> guard(live_mutex_);
    if (live_ && live_->next_id == next_reserved)
      live_->next_id = std::max(next_before, live_->highest_added + 1);
  };
  try {
    rebuild_locked(std::string(), progress, writing, &added);
    ++rebuilds_on_growth_;
    return true;
  } catch (const FileFormatError&) {
    give_ids_back();
    throw;  // a damaged posting file: an add would fail on it too
  } catch (const IoError&) {
    // The disk refused the rebuild's files (it needs room for the rows in float32 and a second
    // posting file beside the first).
  } catch (const InvalidArgument&) {
    // The build refused the grown rows (a sample= or memory_budget= too small for them), or an
    // add beside it took one of these ids: the add as usual decides.
  } catch (...) {
    give_ids_back();  // stopped by its progress callback, out of memory: as if never called
    throw;
  }
  // The old state is whole: the add is made as usual, and the next rebuild waits for growth.
  give_ids_back();
  declined_at_ = count_ + n;
  auto lock = lock_exclusive();  // as the base's add after a build
  add_labelled(x, n, ids, pool);
  return true;
}

// Encoding a row again from its decoded lossy code rounds it twice, and a rebuild each time the
// index doubles would do that again and again (lvq8 grown from 100 rows to 4,000: squared error
// of the first rows 0.0148 -> 0.0326, recall@10 0.975 -> 0.9625, more with each rebuild): a
// rebuild keeps the index's codec and its stored codes, unless the codec learns again as flat
// and HNSW codecs do (relearning.hpp: one that learnt from few rows, which the index has far
// outgrown; for an add, also only where a codec learnt from the rows now encodes the add's rows
// better). rebuild() encoded every row again before whatever the codec: glove6b-50's lvq8
// postings grown by adds then rebuilt read 0.9381 at nprobe 32 where the grown index read 0.9542.
// Where it is due, rebuild() still learns again from the decoded rows: a codec that learnt
// from a first build far from the rows added since makes useless 1-bit codes (a review's 300
// rows near +30 then 6,000 near -30, binary: recall@10 0.304 with the codec learnt again, 0.033
// with the first one kept), which costs more than the second rounding.
void SpannIndex::choose_codec(const std::string& rows_path, size_t stored_rows, const AddedRows* added,
                              CodecChoice& choice) const {
  const size_t n = added ? added->n : 0;
  choice.learnt_from = learning_.learnt_from;
  if (learning_.due_before(*codec_, stored_rows + n)) {
    const io::File rows = io::File::open_existing(rows_path);
    std::vector<uint32_t> slots(stored_rows);
    std::iota(slots.begin(), slots.end(), 0u);
    const size_t row_bytes = dim() * sizeof(float);
    relearning::Learnt learnt = relearning::learn_again(
        options(), dim(), metric(), *codec_, false, slots,
        [&](uint32_t slot, float* out) { rows.read_exact_at(uint64_t(slot) * row_bytes, out, row_bytes); },
        added ? added->x : nullptr, n);
    choice.learnt_from = learnt.rows;
    if (learnt.codec) {  // every row encoded again, with the learnt codec
      choice.codec = std::move(learnt.codec);
      return;
    }
  }
  choice.codec = copy_of(*codec_, metric());  // a copy: writes beside the build may widen codec_ (observe())
  choice.stored_rows = stored_rows;
}

std::string SpannIndex::rebuild_locked(const std::string& path, const ProgressFn& progress, WriteGuard& writing,
                                       const AddedRows* added) {
  std::string current;
  {
    auto lock = lock_shared();
    current = posting_path_;
  }
  // Where the new file goes. The file in use is replaced only where nothing else names it: a
  // save, to_bytes (a copy, a pickle) or a load of this state, or the process this one was
  // forked from, would otherwise lose its lists (checked again at the end: a save may come
  // while the new file builds). Otherwise it gets the caller's path or the next free
  // "<file>.rN".
  //
  // The new file builds under a temporary name in its final folder and takes its final name
  // only when the new state is swapped in; that name is claimed (created empty) then, not
  // before. Temporary names carry the writer's process id (io::temp_path_for), so what a killed
  // rebuild left, its rows and its half-built file, is removed by the next rebuild of this
  // index (a file built at its final name would stay for good, and so would a name claimed at
  // the start). Each is marked in use while it is ours (io::InUseMark), for clean-ups that
  // cannot see this process (another PID namespace).
  if (!path.empty()) require_path(path, "rebuild: path");
  const std::string given = path.empty() ? std::string() : absolute_path(path);
  if (!given.empty()) {
    // Refused now rather than after the build (created and removed: a missing folder fails too).
    if (!io::create_empty_file(given)) throw name_taken(given);
    io::remove_file(given);
  }
  const bool may_replace = given.empty() && replaceable();
  const std::string beside = given.empty() ? current : given;  // the temporaries' final folder
  io::remove_stale_temp_files(current);
  if (!given.empty()) io::remove_stale_temp_files(given);
  TemporaryFile unfinished = claim_temporary(beside);  // a failed build leaves no posting file behind
  const std::string built_at = unfinished.path;
  TemporaryFile rows = claim_temporary(beside);
  // Codes that decode exactly are the decoded rows encoded again: only lossy ones are kept aside.
  const bool keeps_codes = added || !codec_->decodes_exactly();
  TemporaryFile codes = keeps_codes ? claim_temporary(beside) : TemporaryFile{};
  const std::vector<int64_t> ids = write_stored_rows(rows.path, progress, added, codes.path);
  CodecChoice choice;
  io::File stored_codes;
  if (keeps_codes) choose_codec(rows.path, ids.size() - (added ? added->n : 0), added, choice);
  if (choice.stored_rows) {
    stored_codes = io::File::open_existing(codes.path);
    choice.stored_codes = &stored_codes;
  }
  const bool direct = postings_->direct_io();  // the new file opens as this one did (a load may have chosen)

  // The build runs with writes allowed: they change the old state, which searches keep using,
  // and are noted in the journal to be made again on the new one.
  journal_ = std::make_unique<Journal>();
  struct EndJournal {  // on every way out: writes are held again and note nothing more
    SpannIndex& index;
    WriteGuard& writing;
    ~EndJournal() {
      try {
        if (!writing.owns_lock()) writing = index.pause_writes();
      } catch (...) {  // a copy refused after a fork: nothing else writes it
      }
      index.journal_.reset();
    }
  } end_journal{*this, writing};
  writing.unlock();
  State fresh;
  std::vector<uint32_t> row_lists;
  {
    io::FileSource source(rows.path, 0, ids.size(), dim(), dim() * sizeof(float), 0, io::ElementType::Float32);
    // The build's phases report through report(), as the read above does: a callback that uses
    // this index then raises instead of waiting for this rebuild.
    const ProgressFn marked = [this, &progress](const std::string& phase, size_t done, size_t total) {
      report(progress, phase.c_str(), done, total);
    };
    BuiltParts parts =
        build_parts(source, ids.data(), progress ? marked : ProgressFn{}, built_at, direct, true, std::move(choice));
    row_lists = std::move(parts.row_lists);
    fresh = state_of(std::move(parts));
  }
  writing = pause_writes();
  // The writes made again below take the new file's writer lock (flock, exclusive), which the
  // shared mark would refuse; that lock marks it in use from here on.
  unfinished.mark = io::InUseMark();
  {
    auto lock = lock_exclusive();
    swap_state(fresh);  // `fresh` holds the old state from here
    int64_t next_id = ids.empty() ? 0 : *std::max_element(ids.begin(), ids.end()) + 1;
    if (fresh.live) next_id = std::max(next_id, fresh.live->next_id);  // removed ids stay used
    {
      auto live = std::make_unique<Live>();
      init_live(*live);
      live->limit = std::max<size_t>(16, build_stats_.posting_limit);
      live->next_id = next_id;
      if (!journal_->writes.empty() || (fresh.live && fresh.live->where_ready)) {
        // The writes made again below need the id -> list map, and a living index kept one (the
        // next rebuild reads its ids from it): the build knows it, where a scan of the new file
        // would read every list with every write waiting (the same run: 3.1 -> 2.4-2.7 s).
        for (size_t i = 0; i < ids.size(); ++i) live->where.set(ids[i], row_lists[i]);
        live->where_ready = true;
      }
      std::lock_guard<std::mutex> guard(live_mutex_);
      live_ = std::move(live);
    }
    try {
      // The writes made while it built, in their order, on the new state (taken out first: the
      // adds and removes made again here would note themselves too).
      // Consecutive adds are made as one: a living add rewrites each list it touches once per
      // call, and every other write waits meanwhile. glove6b-50 rebuilt while 40 adds of 200
      // rows ran (graph_session39/writes_during_rebuild.py): the add waiting for this swap
      // took 8.6 s with the adds made again one by one, 3.1 s merged.
      const std::unique_ptr<Journal> journal = std::move(journal_);
      ThreadPool pool(options().threads);
      Journal::Write adds{true, {}, {}};
      auto add_pending = [&] {
        if (!adds.ids.empty()) add_labelled(adds.rows.data(), adds.ids.size(), adds.ids.data(), pool);
        adds.ids.clear();
        adds.rows.clear();
      };
      for (const Journal::Write& w : journal->writes) {
        if (w.add) {
          adds.ids.insert(adds.ids.end(), w.ids.begin(), w.ids.end());
          adds.rows.insert(adds.rows.end(), w.rows.begin(), w.rows.end());
          continue;
        }
        add_pending();  // a remove may take out an id added before it
        remove_labels(w.ids.data(), w.ids.size(), pool);
      }
      add_pending();
      // The old file's name, unless a save or copy named the old file while the new one built
      // (the old one stays open until the swap is over), or the name is another index's now
      // (built over the old file, which this index still has open: its saves name that one).
      std::string final_path = current;
      if (!given.empty()) {
        if (!io::create_empty_file(given)) throw name_taken(given);  // made by someone else meanwhile
        final_path = given;
      } else if (!may_replace || fresh.named || !fresh.postings->file().still_at(current)) {
        final_path = claim_next_name(current);
      }
      try {
        io::replace_file(built_at, final_path);
      } catch (...) {
        if (final_path != current) io::remove_file(final_path);  // the name it claimed
        throw;
      }
      postings_->moved_to(final_path);
      posting_path_ = final_path;
    } catch (...) {
      swap_state(fresh);  // the old state, which holds every write: as if nothing happened
      throw;
    }
    unfinished.path.clear();
  }
  io::sync_directory(dir_name(posting_path()));  // the rename into the new file's name
#if defined(__GLIBC__)
  ::malloc_trim(0);
#endif
  return posting_path();
}

bool SpannIndex::replaceable() const {
  return !posting_named_ && posting_writer_process_ == io::current_process_id();
}

void SpannIndex::swap_state(State& other) {
  std::swap(codec_, other.codec);
  std::swap(head_, other.head);
  std::swap(postings_, other.postings);
  std::swap(build_stats_, other.stats);
  std::swap(learning_.learnt_from, other.codec_learnt_from);
  std::swap(count_, other.count);
  std::swap(head_halves_, other.head_halves);
  std::swap(posting_path_, other.posting_path);
  other.named = posting_named_.exchange(other.named);
  std::swap(posting_writer_process_, other.writer_process);
  {
    std::lock_guard<std::mutex> guard(live_mutex_);
    std::swap(live_, other.live);
  }
  contexts_.clear();
}

}  // namespace vidx::spann
