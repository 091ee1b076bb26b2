// RetiredSlots (vidx/common/retired_slots.hpp), step by step on one thread: which search calls
// hold a removed slot back from reuse, and when a write frees it.
//
//   retired_slots_check      (prints "ok" and exits 0 when every step holds)
#include <cstdio>
#include <memory>
#include <vector>

#include "vidx/common/retired_slots.hpp"

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
  if (!ok) {
    ++failures;
    std::printf("FAILED: %s\n", what);
  }
}

}  // namespace

int main() {
  vidx::RetiredSlots retired;
  std::vector<uint32_t> freed;
  auto collect = [&] {
    retired.collect([&](const std::vector<uint32_t>& slots) { freed.insert(freed.end(), slots.begin(), slots.end()); });
  };
  const uint32_t a[] = {1, 2}, b[] = {3}, c[] = {4};

  // No search call running: a retired slot is free at once.
  retired.retire(a, 2);
  collect();
  expect(freed == std::vector<uint32_t>({1, 2}) && retired.size() == 0, "slots retired with no call running are freed at once");

  // A call that began before the removal holds the slot until it ends.
  freed.clear();
  auto before = std::make_unique<vidx::RetiredSlots::Call>(retired);
  retired.retire(b, 1);
  collect();
  expect(freed.empty() && retired.size() == 1, "a call begun before the removal holds its slot");
  // One that begins after does not (it sees the slot's row removed): once the first ends, the
  // next write frees the slot although the later call still runs.
  auto after = std::make_unique<vidx::RetiredSlots::Call>(retired);
  collect();
  expect(freed.empty(), "the slot stays held while the earlier call runs");
  // A slot retired now waits for the calls running now, the later one included.
  retired.retire(c, 1);
  before.reset();
  collect();
  expect(freed == std::vector<uint32_t>({3}), "the earlier call's end frees its slot at the next write");
  expect(retired.size() == 1, "a slot retired during the later call is still held");
  after.reset();
  collect();
  expect(freed == std::vector<uint32_t>({3, 4}) && retired.size() == 0, "the later call's end frees the last slot");

  // collect_all: the caller holds the index's exclusive lock, so no call runs.
  freed.clear();
  {
    vidx::RetiredSlots::Call running(retired);
    retired.retire(a, 2);
    collect();
  }
  retired.retire(b, 1);
  retired.collect_all([&](const std::vector<uint32_t>& slots) { freed.insert(freed.end(), slots.begin(), slots.end()); });
  expect(freed == std::vector<uint32_t>({1, 2, 3}) && retired.size() == 0, "collect_all frees every retired slot");

  std::printf(failures ? "%d failures\n" : "ok\n", failures);
  return failures ? 1 : 0;
}
