// SlotTable (vidx/common/slot_table.hpp) against std::unordered_map under random sets, overwrites,
// removals (which shift later entries back) and lookups of absent ids, with ids in runs, strides
// and at random, through several growths and back down to empty. Prints "ok <operations>".
#include <cstdint>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <unordered_map>

#include "vidx/common/slot_table.hpp"

int main() {
  std::mt19937_64 rng(7);
  size_t operations = 0;
  for (int pattern = 0; pattern < 3; ++pattern) {
    vidx::SlotTable table;
    std::unordered_map<int64_t, uint32_t> want;
    auto id_at = [&](uint64_t i) -> int64_t {
      if (pattern == 0) return static_cast<int64_t>(i);                  // a run
      if (pattern == 1) return static_cast<int64_t>(i * 1024 + 5);       // a stride
      return static_cast<int64_t>(rng() >> 1);                           // anywhere in [0, 2^63)
    };
    std::vector<int64_t> known;
    for (int round = 0; round < 200000; ++round, ++operations) {
      const unsigned op = rng() % 10;
      if (op < 5 || known.empty()) {  // set a new id or overwrite a known one
        const int64_t id = (op == 0 && !known.empty()) ? known[rng() % known.size()] : id_at(rng() % 300000);
        const uint32_t slot = static_cast<uint32_t>(rng());
        const bool added = table.set(id, slot);
        if (added != (want.count(id) == 0)) return std::printf("MISMATCH set %lld\n", (long long)id), 1;
        if (added) known.push_back(id);
        want[id] = slot;
      } else if (op < 8) {  // remove a known id (sometimes one already removed)
        const size_t k = rng() % known.size();
        const int64_t id = known[k];
        table.erase(id);
        want.erase(id);
        known[k] = known.back();
        known.pop_back();
      } else {  // look up a known id and one that is likely absent
        const int64_t present = known[rng() % known.size()], absent = id_at(rng() % 300000) + 1;
        const auto w = want.find(present);
        if (table.find(present) != (w == want.end() ? -1 : int64_t(w->second)))
          return std::printf("MISMATCH find %lld\n", (long long)present), 1;
        const auto a = want.find(absent);
        if (table.find(absent) != (a == want.end() ? -1 : int64_t(a->second)))
          return std::printf("MISMATCH find absent %lld\n", (long long)absent), 1;
      }
      if (table.size() != want.size()) return std::printf("MISMATCH size %zu != %zu\n", table.size(), want.size()), 1;
    }
    for (const auto& [id, slot] : want)
      if (table.find(id) != int64_t(slot)) return std::printf("MISMATCH final %lld\n", (long long)id), 1;
    for (const auto& entry : want) table.erase(entry.first);
    if (table.size() != 0) return std::printf("MISMATCH not empty\n"), 1;
  }
  // -1 marks empty buckets: negative ids are never found, never erased, never stored.
  vidx::SlotTable table;
  for (int64_t id = 0; id < 10; ++id) table.set(id, static_cast<uint32_t>(id));
  table.erase(-1);
  if (table.size() != 10 || table.find(-1) != -1) return std::printf("MISMATCH negative id\n"), 1;
  bool refused = false;
  try {
    table.set(-5, 1);
  } catch (const std::logic_error&) {
    refused = true;
  }
  if (!refused || table.size() != 10) return std::printf("MISMATCH negative id stored\n"), 1;
  // Ids chosen so that the unkeyed splitmix64 finaliser sends all of them to one home bucket in
  // any table of up to 2^20 buckets (the finaliser inverted on hashes that differ above bit 20):
  // without the process's key a lookup reads 10,000 buckets on average.
  const auto unmix = [](uint64_t z) {
    const auto undo_shift = [](uint64_t y, int s) {
      uint64_t x = y;
      for (int i = 0; i < 64 / s + 1; ++i) x = y ^ (x >> s);
      return x;
    };
    z = undo_shift(z, 31);
    z *= 0x319642b2d24d8ec3ull;  // inverse of 0x94d049bb133111eb mod 2^64
    z = undo_shift(z, 27);
    z *= 0x96de1b173f119089ull;  // inverse of 0xbf58476d1ce4e5b9
    z = undo_shift(z, 30);
    return z - 0x9e3779b97f4a7c15ull;
  };
  vidx::SlotTable chosen;
  std::vector<int64_t> crafted;
  for (uint64_t i = 1; crafted.size() < 20000; ++i) {
    const uint64_t id = unmix((i << 20) | 12345);
    if (static_cast<int64_t>(id) >= 0) crafted.push_back(static_cast<int64_t>(id));
  }
  for (size_t i = 0; i < crafted.size(); ++i) chosen.set(crafted[i], static_cast<uint32_t>(i));
  size_t read = 0;
  for (size_t i = 0; i < crafted.size(); ++i) {
    if (chosen.find(crafted[i]) != int64_t(i)) return std::printf("MISMATCH crafted %zu\n", i), 1;
    read += chosen.buckets_read(crafted[i]);
  }
  if (read > 8 * crafted.size()) return std::printf("MISMATCH crafted ids read %zu buckets each\n", read / crafted.size()), 1;
  std::printf("ok %zu operations\n", operations);
  return 0;
}
