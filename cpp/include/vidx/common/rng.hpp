// Small deterministic random numbers. SplitMix64 is used both as a stream and as a hash
// (seed, index) -> value, so per-item random choices do not depend on thread scheduling.
#pragma once
#include <cstdint>

namespace vidx {

inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Uniform double in (0, 1], never 0, so -log(u) is finite.
inline double hash_to_unit(uint64_t seed, uint64_t index) {
  const uint64_t h = splitmix64(seed * 0x2545F4914F6CDD1Dull ^ splitmix64(index));
  return (static_cast<double>(h >> 11) + 1.0) * (1.0 / 9007199254740992.0);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() { return splitmix64(state_++ * 0x9E3779B97F4A7C15ull); }
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }
  uint64_t below(uint64_t n) { return n ? next() % n : 0; }

 private:
  uint64_t state_;
};

}  // namespace vidx
