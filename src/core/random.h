// Portable, seedable randomness for everything that must give the same result
// on every machine and standard library: subset sampling, shuffles, seeds for
// LibTorch. Not for tensors: torch's own generator is seeded from here.
#pragma once

#include <mutex>

#include <cstdint>
#include <initializer_list>
#include <vector>

namespace dvae {

/// SplitMix64 step: a well-mixed 64-bit hash of a counter (Steele et al. 2014).
uint64_t splitmix64(uint64_t& state);

/// Derives an independent 64-bit seed from a base seed and a list of stream ids
/// (for example trial number, class, purpose), identically on every platform.
uint64_t derive_seed(uint64_t seed, std::initializer_list<uint64_t> stream);

/// xoshiro256** generator with explicit, portable bounded draws.
class Rng {
 public:
  /// Seeds the four state words from SplitMix64(seed).
  explicit Rng(uint64_t seed);
  /// Next raw 64-bit value.
  uint64_t next();
  /// Uniform integer in [0, n), unbiased (rejection sampling); n > 0.
  uint64_t below(uint64_t n);
  /// Uniform double in [0, 1) with 53 random bits.
  double uniform();
  /// Fisher-Yates shuffle of v in place, using below().
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) {
      const size_t j = static_cast<size_t>(below(i));
      std::swap(v[i - 1], v[j]);
    }
  }

 private:
  uint64_t s_[4];
};

/// Seeds LibTorch's CPU (and CUDA, when present) generators from seed.
void seed_torch(uint64_t seed);

/// Held by code that seeds LibTorch's default generator and then draws from it
/// (module initialisation), so that trainings running in parallel threads each
/// get the draws of their own seed.
std::mutex& default_generator_mutex();

}  // namespace dvae
