// The vector types and the little vector maths that dvae's hand-written kernels
// share: GCC/Clang vector types of 8 floats (AVX2) and 16 floats (AVX-512),
// with unaligned loads and stores, sqrt, and Cephes-style exp and log1p written
// once for both widths. Not a SIMD library: a kernel writes its body once as a
// template on the width W and instantiates it inside functions carrying
// DVAE_TARGET_AVX2 / DVAE_TARGET_AVX512; which one runs is decided by
// kernel_path() (core/cpu_dispatch.h), never here. Include from kernel .cpp files only.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

// Vectors wider than the baseline ABI never cross a non-inlined call here.
#pragma GCC diagnostic ignored "-Wpsabi"

/// Forces inlining, so that a template body takes the target of the function it is inlined into.
#define DVAE_SIMD_INLINE inline __attribute__((always_inline))
/// Target of the AVX2 path's functions.
#define DVAE_TARGET_AVX2 __attribute__((target("avx2,fma")))
/// Target of the AVX-512 path's functions.
#define DVAE_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma")))

namespace dvae::simd {

typedef float F8 __attribute__((vector_size(32)));     ///< 8 floats (one AVX register)
typedef int32_t I8 __attribute__((vector_size(32)));   ///< 8 int32 lanes, also F8 comparison masks
typedef float F16 __attribute__((vector_size(64)));    ///< 16 floats (one AVX-512 register)
typedef int32_t I16 __attribute__((vector_size(64)));  ///< 16 int32 lanes, also F16 comparison masks

/// Vector types of W float lanes: F (floats) and I (int32 lanes, also comparison masks).
template <int W>
struct Vec;
template <>
struct Vec<8> {
  using F = F8;
  using I = I8;
};
template <>
struct Vec<16> {
  using F = F16;
  using I = I16;
};

/// All lanes x.
template <typename F>
DVAE_SIMD_INLINE F splat(float x) {
  return F{} + x;
}

/// Loads sizeof(F) / 4 floats from p (any alignment).
template <typename F>
DVAE_SIMD_INLINE F load(const float* p) {
  F v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

/// Stores v to p (any alignment).
template <typename F>
DVAE_SIMD_INLINE void store(float* p, F v) {
  std::memcpy(p, &v, sizeof(v));
}

#if defined(__clang__)
/// Square root of each lane, correctly rounded. Clang (the fuzz build) checks
/// every call in a template body before inlining and rejects passing a wide
/// vector to a function of another target, so there each lane is one scalar
/// square root: the same results, not the same speed.
template <typename F>
DVAE_SIMD_INLINE F sqrt(F v) {
  F r;
  for (size_t i = 0; i < sizeof(F) / sizeof(float); ++i) r[i] = __builtin_sqrtf(v[i]);
  return r;
}
#else
/// Square root of each lane (the correctly rounded instruction). Plain inline,
/// not always_inline: GCC inlines a template body's callees into the body before
/// the body into its target function, and would refuse these there; they are
/// inlined afterwards, into the target function.
inline DVAE_TARGET_AVX2 F8 sqrt(F8 v) { return reinterpret_cast<F8>(_mm256_sqrt_ps(reinterpret_cast<__m256>(v))); }
inline DVAE_TARGET_AVX512 F16 sqrt(F16 v) {
  return reinterpret_cast<F16>(_mm512_sqrt_ps(reinterpret_cast<__m512>(v)));
}
#endif

/// Lane-wise a < b ? a : b and a > b ? a : b.
template <typename F>
DVAE_SIMD_INLINE F min(F a, F b) {
  return a < b ? a : b;
}
template <typename F>
DVAE_SIMD_INLINE F max(F a, F b) {
  return a > b ? a : b;
}

/// exp of each lane (Cephes expf, relative error ~2e-7), inputs clamped to [-87, 88].
template <typename F, typename I>
DVAE_SIMD_INLINE F exp(F x) {
  x = min(x, splat<F>(88.0f));
  x = max(x, splat<F>(-87.0f));
  F fx = x * 1.44269504088896341f + 0.5f;
  const F t = __builtin_convertvector(__builtin_convertvector(fx, I), F);
  fx = t > fx ? t - 1.0f : t;  // floor
  x = x - fx * 0.693359375f + fx * 2.12194440e-4f;
  const F z = x * x;
  F y = splat<F>(1.9875691500e-4f);
  y = y * x + 1.3981999507e-3f;
  y = y * x + 8.3334519073e-3f;
  y = y * x + 4.1665795894e-2f;
  y = y * x + 1.6666665459e-1f;
  y = y * x + 5.0000001201e-1f;
  y = y * z + x + 1.0f;
  const I e = (__builtin_convertvector(fx, I) + 127) << 23;  // 2^n as float bits
  return y * reinterpret_cast<F>(e);
}

/// log(1 + e) of each lane for e in [0, 1] (Cephes logf's polynomial on the
/// reduced argument, taken from e itself so that tiny e keep full relative precision).
template <typename F, typename I>
DVAE_SIMD_INLINE F log1p_unit(F e) {
  // 1 + e = 2^k (1 + x) with x in [-0.293, 0.414]: k = 0, x = e, or k = 1, x = (e - 1) / 2.
  const auto big = e > 0.41421356f;
  const F x = big ? (e - 1.0f) * 0.5f : e;
  const F k = big ? splat<F>(1.0f) : splat<F>(0.0f);
  const F z = x * x;
  F y = splat<F>(7.0376836292e-2f);
  y = y * x - 1.1514610310e-1f;
  y = y * x + 1.1676998740e-1f;
  y = y * x - 1.2420140846e-1f;
  y = y * x + 1.4249322787e-1f;
  y = y * x - 1.6668057665e-1f;
  y = y * x + 2.0000714765e-1f;
  y = y * x - 2.4999993993e-1f;
  y = y * x + 3.3333331174e-1f;
  y = y * x * z;
  y = y - k * 2.12194440e-4f - 0.5f * z;
  return x + y + k * 0.693359375f;
}

/// Horizontal sum of the lanes (pairwise).
DVAE_SIMD_INLINE float hsum(F8 v) { return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7])); }
DVAE_SIMD_INLINE float hsum(F16 v) {
  F8 lo, hi;
  std::memcpy(&lo, &v, sizeof(lo));
  std::memcpy(&hi, reinterpret_cast<const char*>(&v) + sizeof(lo), sizeof(hi));
  return hsum(F8(lo + hi));
}

}  // namespace dvae::simd
