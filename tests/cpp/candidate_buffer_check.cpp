// Checks CandidateBuffer::insert_many against insert() called once per candidate, the rule it
// stands in for: random beams (full or not, some candidates expanded, a split window or none)
// take random batches whose distances tie often (drawn from a few values), and both must leave
// the same entries in the same order, the same expanded flags and the same next candidate to
// expand; insert_many must report exactly the newcomers still in the beam; both must hold what
// a stable sort of every candidate so far keeps (beams past the room a reset gives grow as
// candidates come: some trials take thousands). Prints "ok <trials>";
// exit status 1 on a mismatch. tests/test_candidate_buffer.py builds and runs it.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <unordered_map>
#include <vector>

#include "vidx/graph/candidate_buffer.hpp"

namespace {

struct Snapshot {
  std::vector<uint32_t> slots;
  std::vector<float> distances;
  std::vector<bool> expanded;
  bool has_unexpanded;
  uint32_t next;
};

// Reads a beam without changing it: slot(i) and distance(i) for every entry, and the expanded
// flags by popping a copy until nothing is left to expand.
Snapshot snapshot(const vidx::CandidateBuffer& beam) {
  Snapshot s;
  for (size_t i = 0; i < beam.size(); ++i) {
    s.slots.push_back(beam.slot(i));
    s.distances.push_back(beam.distance(i));
  }
  s.has_unexpanded = beam.has_unexpanded();
  s.next = s.has_unexpanded ? beam.nearest_unexpanded() : 0;
  vidx::CandidateBuffer copy = beam;
  s.expanded.assign(beam.size(), true);
  std::unordered_map<uint32_t, size_t> entry_of;  // slots are distinct
  for (size_t i = 0; i < s.slots.size(); ++i) entry_of[s.slots[i]] = i;
  while (copy.has_unexpanded()) s.expanded[entry_of.at(copy.pop_nearest_unexpanded())] = false;
  return s;
}

bool same(const Snapshot& a, const Snapshot& b) {
  return a.slots == b.slots && a.distances == b.distances && a.expanded == b.expanded &&
         a.has_unexpanded == b.has_unexpanded && a.next == b.next;
}

}  // namespace

int main() {
  std::mt19937_64 rng(20261204);
  int failures = 0;
  const int trials = 20000;
  uint32_t next_slot = 0;
  for (int t = 0; t < trials && failures < 10; ++t) {
    const bool wide = t % 50 == 0;  // past CandidateBuffer's first room (1,024 entries)
    const size_t capacity = wide ? 900 + rng() % 3000 : 1 + rng() % 40;
    const size_t window = rng() % 3 == 0 ? 1 + rng() % capacity : 0;
    std::vector<std::pair<float, uint32_t>> model;  // every candidate so far, in arrival order
    const int levels = 2 + static_cast<int>(rng() % 30);  // few distinct distances: many ties
    const auto draw = [&] { return static_cast<float>(rng() % levels) * 0.25f; };
    vidx::CandidateBuffer one_by_one, merged;
    one_by_one.reset(capacity, window);
    merged.reset(capacity, window);
    // A walk's history: batches, each followed by a few expansions, the last batch checked.
    const int rounds = wide ? 8 + static_cast<int>(rng() % 8) : 1 + static_cast<int>(rng() % 6);
    for (int r = 0; r < rounds; ++r) {
      const size_t n = wide ? 100 + rng() % 200 : rng() % 48;
      std::vector<float> distances(n);
      std::vector<uint32_t> slots(n), order(n), entered(n);
      for (size_t j = 0; j < n; ++j) {
        distances[j] = draw();
        slots[j] = next_slot++ & 0x7FFFFFFFu;
      }
      for (size_t j = 0; j < n; ++j) one_by_one.insert(distances[j], slots[j]);
      const size_t count = merged.insert_many(distances.data(), slots.data(), n, order.data(), entered.data());
      const Snapshot a = snapshot(one_by_one), b = snapshot(merged);
      for (size_t j = 0; j < n; ++j) model.emplace_back(distances[j], slots[j]);
      std::stable_sort(model.begin(), model.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
      if (model.size() > capacity) model.resize(capacity);  // what fell off never comes back
      std::vector<uint32_t> kept(model.size());
      for (size_t i = 0; i < model.size(); ++i) kept[i] = model[i].second;
      if (a.slots != kept) {
        std::printf("FAIL trial %d round %d: capacity %zu: the beam is not the %zu nearest so far\n", t, r, capacity,
                    kept.size());
        ++failures;
        break;
      }
      if (!same(a, b)) {
        std::printf("FAIL trial %d round %d: capacity %zu window %zu batch %zu: beams differ\n", t, r, capacity, window,
                    n);
        ++failures;
        break;
      }
      // Exactly the newcomers that are in the beam now, nearest first.
      std::vector<uint32_t> present;
      for (uint32_t s : b.slots)
        for (size_t j = 0; j < n; ++j)
          if (slots[j] == s) present.push_back(s);
      if (present != std::vector<uint32_t>(entered.begin(), entered.begin() + count)) {
        std::printf("FAIL trial %d round %d: entered %zu slots, %zu newcomers in the beam\n", t, r, count,
                    present.size());
        ++failures;
        break;
      }
      const size_t expansions = rng() % 4;
      for (size_t e = 0; e < expansions && one_by_one.has_unexpanded(); ++e) {
        one_by_one.pop_nearest_unexpanded();
        merged.pop_nearest_unexpanded();
      }
    }
  }
  if (failures) return 1;
  std::printf("ok %d\n", trials);
  return 0;
}
