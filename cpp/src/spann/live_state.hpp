// What a SPANN index keeps once it lives (add/remove after the build), see live_store.hpp.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "live_store.hpp"
#include "vidx/spann/spann_index.hpp"

namespace vidx::spann {

// Rows stored far from every head of their lists (live_strays.cpp), with their vectors and the
// squared distance to the nearest head of a list holding them.
struct Strays {
  std::vector<int64_t> ids;
  std::vector<float> vectors;
  std::vector<float> reach;
};

// Adds and removes made while a rebuild builds (rebuild.cpp), in their order, to be made again
// on the rebuilt state: the rows an add stored (as add_labelled got them) under the ids it gave
// them, and the ids a remove took out.
struct SpannIndex::Journal {
  struct Write {
    bool add = false;
    std::vector<int64_t> ids;
    std::vector<float> rows;  // adds: ids.size() x dim
  };
  std::vector<Write> writes;
  size_t bytes() const {
    size_t b = 0;
    for (const Write& w : writes) b += w.ids.size() * 8 + w.rows.size() * 4;
    return b;
  }
};

// What rebuild() swaps: everything a build makes, and the living state on top of it.
struct SpannIndex::State {
  std::unique_ptr<Codec> codec;
  std::unique_ptr<VectorIndex> head;
  std::unique_ptr<io::PostingReader> postings;
  BuildStats stats;
  uint64_t count = 0;
  std::vector<uint16_t> head_halves;
  std::string posting_path;
  bool named = false;
  uint64_t writer_process = 0;
  std::unique_ptr<Live> live;
  size_t codec_learnt_from = 0;
};

struct SpannIndex::Live {
  io::File writer;          // the posting file opened for writing, on the first write
  uint64_t writer_process = 0;  // the process that opened it (a forked child shares its lock)
  std::vector<float> head_vectors;  // H x dim, expanded from head_halves_
  PageAllocator pages;      // the pages past the build's region
  Liveness liveness;        // stale entries (removed ids, old versions)
  IdTable where;            // id -> a list holding a live entry of it (built by a scan)
  bool where_ready = false;
  int64_t next_id = 0;      // the first id a call without ids assigns
  int64_t highest_added = -1;  // the largest id an add gave since add_by_rebuild last reset it (not saved)
  size_t limit = 0;         // a list past it splits
  uint64_t splits = 0, rewrites = 0, sweeps = 0, reassigned = 0;
  std::vector<std::pair<uint32_t, uint32_t>> split_into;  // (list, new list) of the add running
  // While an upsert runs: no sweep, and the replaced ids' old entries (id -> their version) stay
  // in the lists its add rewrites, so that a refused add can put the rows back.
  bool upsert_running = false;
  IdTable upsert_held;   // replaced id -> the version of its old entries
  IdTable upsert_where;  // replaced id -> a list holding its old entry (followed through splits)
  Strays strays;            // remembered while the index is open
  float typical_reach = 0;  // median squared distance of a member to its head; 0: not measured yet
  // The write generation of this state (write_generation.hpp): the one it was loaded with, or
  // the last one it saved; `changed` once it wrote since; `pending` between writing a saved
  // state's index file and stamping the posting file with its generation.
  uint64_t generation = 0, pending_generation = 0;
  bool changed = false;
  // Read from the index file, installed into the posting reader by attach_storage.
  bool loaded = false;
  std::vector<io::PostingList> loaded_lists;
  std::vector<uint32_t> loaded_crc;
  uint64_t loaded_end = 0;
  size_t memory_usage() const {
    return sizeof(*this) + head_vectors.capacity() * 4 + pages.memory_usage() + liveness.memory_usage() +
           where.memory_usage() + strays.ids.capacity() * 8 + (strays.vectors.capacity() + strays.reach.capacity()) * 4;
  }
};

// The ids an add of n rows takes: `ids`, or the next defaults; checked (>= 0, below 2^56, not
// stored, distinct) before anything changes (live_write.cpp).
std::vector<int64_t> labels_for_add(const SpannIndex::Live& live, const int64_t* ids, size_t n);

// A trained codec like `codec`, made for an index of `index_metric`: its parameters written and
// read back, as a file would (spann_index.cpp).
std::unique_ptr<Codec> copy_of(const Codec& codec, Metric index_metric);

}  // namespace vidx::spann
