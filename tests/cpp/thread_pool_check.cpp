// Checks the helper crew every ThreadPool shares (cpp/src/common/thread_pool.cpp): each index is
// handed out once, worker numbers stay below the pool's size and are never held by two running
// calls of fn at once, calls from many threads and calls inside fn finish, a call beside a wide
// one gets helpers, an exception reaches its caller, a forked child works, and the process holds
// one crew, not one per pool. Prints "ok" and exits 0, or names the first failure and exits 1.
// Under ThreadSanitizer run it with TSAN_OPTIONS=die_after_fork=0 (the fork check).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dirent.h>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

#include "vidx/common/thread_pool.hpp"

namespace vidx::io {
uint64_t current_process_id() noexcept { return static_cast<uint64_t>(::getpid()); }
}  // namespace vidx::io

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
  if (!ok && failures++ == 0) std::printf("FAILED: %s\n", what);
}

size_t threads_in_process() {
  size_t count = 0;
  if (DIR* dir = opendir("/proc/self/task")) {
    while (dirent* e = readdir(dir)) count += e->d_name[0] != '.';
    closedir(dir);
  }
  return count;
}

// One call: every index once, worker numbers in range and never shared by two running calls of fn.
bool one_call(vidx::ThreadPool& pool, size_t n, size_t chunk, const std::function<void(size_t)>& inside = {}) {
  std::vector<std::atomic<int>> seen(n);
  std::vector<std::atomic<int>> busy(pool.size());
  std::atomic<bool> ok{true};
  pool.parallel_for(
      n,
      [&](size_t i, size_t worker) {
        if (worker >= pool.size() || busy[worker].exchange(1) != 0) ok = false;
        seen[i].fetch_add(1);
        if (inside) inside(i);
        if (worker < pool.size()) busy[worker].store(0);
      },
      chunk);
  for (auto& s : seen)
    if (s.load() != 1) ok = false;
  return ok;
}

}  // namespace

int main() {
  const size_t before = threads_in_process();

  for (size_t threads : {1, 2, 3, 8})
    for (size_t chunk : {1, 3, 64})
      for (size_t n : {1, 2, 7, 1000}) {
        vidx::ThreadPool pool(threads);
        expect(one_call(pool, n, chunk), "one caller: indices once, workers unique and in range");
      }

  // Many pools, many callers at once, one pool shared by all of them, calls inside fn.
  std::vector<std::unique_ptr<vidx::ThreadPool>> pools;
  for (int p = 0; p < 100; ++p) pools.push_back(std::make_unique<vidx::ThreadPool>(4));
  vidx::ThreadPool shared(8);
  std::atomic<bool> all_ok{true};
  std::vector<std::thread> callers;
  for (int c = 0; c < 6; ++c)
    callers.emplace_back([&, c] {
      for (int round = 0; round < 60; ++round) {
        vidx::ThreadPool& own = *pools[(c * 60 + round) % pools.size()];
        if (!one_call(own, 257, 1 + round % 5)) all_ok = false;
        if (!one_call(shared, 300, 2)) all_ok = false;
        // A call inside fn, on another pool and on the same one.
        if (!one_call(own, 16, 1, [&](size_t) {
              if (!one_call(*pools[(c + 1) % pools.size()], 40, 3)) all_ok = false;
              if (!one_call(own, 9, 2)) all_ok = false;
            }))
          all_ok = false;
      }
    });
  for (auto& t : callers) t.join();
  expect(all_ok.load(), "concurrent and nested calls");

  // An exception reaches the caller once every thread left, and the crew works afterwards.
  vidx::ThreadPool four(4);
  bool caught = false;
  try {
    four.parallel_for(1000, [](size_t i, size_t) {
      if (i == 500) throw std::runtime_error("boom");
    });
  } catch (const std::runtime_error&) {
    caught = true;
  }
  expect(caught, "an exception from fn reaches the caller");
  expect(one_call(four, 1000, 1), "a call after an exception");

  // A call beside a wide one that holds every helper: helpers move to it at their next chunk
  // (before, it ran on its caller alone until the wide one was done, 0.1 s here).
  {
    vidx::ThreadPool wide(8), narrow(8);
    std::atomic<bool> wide_started{false};
    std::thread wide_caller([&] {
      wide.parallel_for(800, [&](size_t, size_t) {
        wide_started = true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      });
    });
    while (!wide_started) std::this_thread::yield();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    std::atomic<size_t> helped{0};
    narrow.parallel_for(60, [&](size_t, size_t worker) {
      if (worker != 0) ++helped;
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    wide_caller.join();
    expect(helped.load() > 0, "a call beside a wide one gets helpers");
  }

  // 100 pools of 4, two of 8, six callers at once: as many helpers as those calls asked for
  // together, up to the cores (or the widest call, 8 - 1, beyond them), not a crew a pool.
  const size_t held = threads_in_process() - before;
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  const size_t sanitizer_threads = 1;  // a sanitizer's own thread may start meanwhile
#else
  const size_t sanitizer_threads = 0;
#endif
  const size_t cores = std::max<unsigned>(1, std::thread::hardware_concurrency());
  expect(held <= std::max<size_t>(7, cores - 1) + sanitizer_threads, "one crew of helpers for every pool");

  // A forked child has none of the parent's helpers: it starts its own.
  const pid_t child = fork();
  if (child == 0) {
    vidx::ThreadPool pool(4);
    const bool ok = one_call(pool, 5000, 1) && one_call(shared, 777, 3);
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a forked child's calls");

  if (failures) return 1;
  std::printf("ok helpers=%zu\n", held);
  return 0;
}
