#pragma once
/// Counter-based random bits: Philox4x32-10 and the (seed, offset, index) mapping.
///   std::uint32_t r = pqt::random_word(seed, offset, index_base + j);   // element j of a shard
///   pqt::u32x4 w = pqt::random_block4(seed, offset, q);                 // elements 4q .. 4q+3
///
/// ============================================================================
/// The mapping (the contract; README "Randomness" quotes this block)
/// ============================================================================
///
/// Every random word pqt uses is a pure function of three 64-bit numbers and
/// of nothing else (not thread count, vector width, launch shape, or sharding):
///
///   seed    the Philox key: key = (lo32(seed), hi32(seed))
///   offset  the stream, e.g. one per call or training step. Bit 63 is reserved
///           and masked off: o = offset & (2^63 - 1), so offset and
///           offset + 2^63 name the same stream.
///   index   the element's 0-based position in the whole logical tensor (64-bit)
///
/// With P(c0, c1, c2, c3; k0, k1) = Philox4x32-10 returning words w0..w3:
///
///   One-word draws (stochastic rounding, the GaussWS R table, uniform noise):
///     element i uses word w[i & 3] of
///       P(lo32(i >> 2), hi32(i >> 2), lo32(o), hi32(o); key)
///     so one Philox call serves elements 4q .. 4q+3 (random_block4).
///
///   Two-word draws (Box-Muller for continuous Gaussian noise):
///     element i uses words (w[2*(i & 1)], w[2*(i & 1) + 1]) of
///       P(lo32(i >> 1), hi32(i >> 1), lo32(o), hi32(o) ^ 0x80000000; key)
///     so one Philox call serves elements 2p and 2p+1 (random_block2).
///
/// The top bit of the fourth counter word keeps the two streams apart: no
/// (offset, index) pair of one ever reaches a counter of the other. That bit
/// is why offset has 63 usable bits.
///
/// Shards: a caller holding elements [a, b) of a larger tensor uses
/// index = a + j for its j-th element ("index_base = a") and gets exactly the
/// whole-tensor words restricted to [a, b). A vectorised or CUDA loop calls
/// random_block4 for each aligned group of four and random_word for an
/// unaligned head and tail; the words are the same either way.
///
/// For offset < 2^63 the one-word stream is cuRAND's Philox stream with
/// subsequence = offset and position = index: the word for element i equals
///   curandStatePhilox4_32_10_t s; curand_init(seed, offset, i, &s); curand(&s);
/// (checked by hand against CUDA 13.0's curand_kernel.h, run on the host).
/// ============================================================================

#include <cstddef>
#include <cstdint>

#include "config.hpp"

namespace pqt {

/// Four 32-bit words: a Philox counter or output block.
///   pqt::u32x4 c{{1, 2, 3, 4}};  std::uint32_t w = c[2];
struct u32x4 {
  std::uint32_t v[4];

  PQT_HD constexpr std::uint32_t operator[](int k) const noexcept { return v[k]; }
  PQT_HD constexpr std::uint32_t& operator[](int k) noexcept { return v[k]; }
  friend PQT_HD constexpr bool operator==(const u32x4& a, const u32x4& b) noexcept {
    return a.v[0] == b.v[0] && a.v[1] == b.v[1] && a.v[2] == b.v[2] && a.v[3] == b.v[3];
  }
  friend PQT_HD constexpr bool operator!=(const u32x4& a, const u32x4& b) noexcept {
    return !(a == b);
  }
};

/// Two 32-bit words: a Philox key.
///   pqt::u32x2 k{{lo, hi}};
struct u32x2 {
  std::uint32_t v[2];

  PQT_HD constexpr std::uint32_t operator[](int k) const noexcept { return v[k]; }
  PQT_HD constexpr std::uint32_t& operator[](int k) noexcept { return v[k]; }
};

/// The two words of a two-word draw (Box-Muller), in stream order.
///   auto [a, b] = pqt::random_words2(seed, offset, i);
struct word_pair {
  std::uint32_t a;
  std::uint32_t b;
};

/// Bits of offset that select a stream; bit 63 is reserved (see the mapping).
///   std::uint64_t o = offset & pqt::random_offset_mask;
constexpr std::uint64_t random_offset_mask = 0x7FFF'FFFF'FFFF'FFFFull;

namespace detail {

// Salmon et al., SC'11, Table 2 / Random123: round multipliers and the Weyl
// sequence that bumps the key between rounds.
constexpr std::uint32_t philox_m0 = 0xD2511F53u;
constexpr std::uint32_t philox_m1 = 0xCD9E8D57u;
constexpr std::uint32_t philox_w0 = 0x9E3779B9u;
constexpr std::uint32_t philox_w1 = 0xBB67AE85u;

PQT_HD PQT_FORCEINLINE constexpr std::uint32_t lo32(std::uint64_t x) noexcept {
  return static_cast<std::uint32_t>(x);
}
PQT_HD PQT_FORCEINLINE constexpr std::uint32_t hi32(std::uint64_t x) noexcept {
  return static_cast<std::uint32_t>(x >> 32);
}

// One round. The 32x32->64 products are plain uint64 multiplies: nvcc emits
// mul.wide.u32 / mul.hi.u32 for them, so no __umulhi branch is needed and the
// function stays constexpr and identical on host and device.
PQT_HD PQT_FORCEINLINE constexpr u32x4 philox_round(const u32x4& c, std::uint32_t k0,
                                                     std::uint32_t k1) noexcept {
  const std::uint64_t p0 = std::uint64_t{philox_m0} * c.v[0];
  const std::uint64_t p1 = std::uint64_t{philox_m1} * c.v[2];
  return u32x4{{hi32(p1) ^ c.v[1] ^ k0, lo32(p1), hi32(p0) ^ c.v[3] ^ k1, lo32(p0)}};
}

// Rounds 2..10: advance the key by the Weyl increments, then one round.
PQT_HD PQT_FORCEINLINE constexpr void philox_bump_round(u32x4& c, std::uint32_t& k0,
                                                        std::uint32_t& k1) noexcept {
  k0 += philox_w0;
  k1 += philox_w1;
  c = philox_round(c, k0, k1);
}

// Word k & 3 of a block by selects rather than a dynamic array index, which
// would push the block to local memory in device code.
PQT_HD PQT_FORCEINLINE constexpr std::uint32_t pick(const u32x4& b, std::uint64_t k) noexcept {
  const unsigned s = static_cast<unsigned>(k & 3);
  return s == 0 ? b.v[0] : s == 1 ? b.v[1] : s == 2 ? b.v[2] : b.v[3];
}

}  // namespace detail

/// Philox4x32 with 10 rounds (Salmon, Moraes, Dror, Shaw, SC'11): a bijection
/// of the 128-bit counter keyed by 64 bits. Bit-identical to Random123's
/// philox4x32_10 and cuRAND's curand_Philox4x32_10.
///   pqt::u32x4 w = pqt::philox4x32_10(pqt::u32x4{{0, 0, 0, 0}}, pqt::u32x2{{0, 0}});
PQT_HD PQT_FORCEINLINE constexpr u32x4 philox4x32_10(u32x4 ctr, u32x2 key) noexcept {
  // Straight-line rather than a loop, so it needs no unroll pragma on any
  // compiler (nvcc's front end warns on g++'s "GCC unroll" in its host pass).
  std::uint32_t k0 = key.v[0];
  std::uint32_t k1 = key.v[1];
  ctr = detail::philox_round(ctr, k0, k1);  // round 1
  detail::philox_bump_round(ctr, k0, k1);   // 2
  detail::philox_bump_round(ctr, k0, k1);   // 3
  detail::philox_bump_round(ctr, k0, k1);   // 4
  detail::philox_bump_round(ctr, k0, k1);   // 5
  detail::philox_bump_round(ctr, k0, k1);   // 6
  detail::philox_bump_round(ctr, k0, k1);   // 7
  detail::philox_bump_round(ctr, k0, k1);   // 8
  detail::philox_bump_round(ctr, k0, k1);   // 9
  detail::philox_bump_round(ctr, k0, k1);   // 10
  return ctr;
}

/// The Philox key of a seed: (lo32(seed), hi32(seed)).
///   pqt::u32x2 k = pqt::philox_key(seed);
PQT_HD PQT_FORCEINLINE constexpr u32x2 philox_key(std::uint64_t seed) noexcept {
  return u32x2{{detail::lo32(seed), detail::hi32(seed)}};
}

/// Counter of the one-word block q (elements 4q .. 4q+3) of stream offset.
///   pqt::u32x4 c = pqt::block4_counter(offset, index >> 2);
PQT_HD PQT_FORCEINLINE constexpr u32x4 block4_counter(std::uint64_t offset, std::uint64_t q) noexcept {
  const std::uint64_t o = offset & random_offset_mask;
  return u32x4{{detail::lo32(q), detail::hi32(q), detail::lo32(o), detail::hi32(o)}};
}

/// Counter of the two-word block p (elements 2p, 2p+1) of stream offset.
///   pqt::u32x4 c = pqt::block2_counter(offset, index >> 1);
PQT_HD PQT_FORCEINLINE constexpr u32x4 block2_counter(std::uint64_t offset, std::uint64_t p) noexcept {
  const std::uint64_t o = offset & random_offset_mask;
  return u32x4{{detail::lo32(p), detail::hi32(p), detail::lo32(o), detail::hi32(o) ^ 0x80000000u}};
}

/// The one-word draws of elements 4q .. 4q+3: element 4q + k uses word k.
///   pqt::u32x4 w = pqt::random_block4(seed, offset, (index_base + j) >> 2);
PQT_HD PQT_FORCEINLINE constexpr u32x4 random_block4(std::uint64_t seed, std::uint64_t offset,
                                     std::uint64_t q) noexcept {
  return philox4x32_10(block4_counter(offset, q), philox_key(seed));
}

/// The one-word draw of element index (stochastic rounding, R noise). For a
/// shard starting at element a, pass index = a + j.
///   std::uint32_t r = pqt::random_word(seed, offset, index_base + j);
PQT_HD PQT_FORCEINLINE constexpr std::uint32_t random_word(std::uint64_t seed, std::uint64_t offset,
                                           std::uint64_t index) noexcept {
  return detail::pick(random_block4(seed, offset, index >> 2), index);
}

/// out[j] = random_word(seed, offset, index0 + j) for j < n: one Philox call
/// per aligned group of four (a loop that vectorises across groups), the
/// unaligned head and tail word by word. What the host tensor loops use.
///   std::uint32_t w[256];  pqt::random_words(seed, offset, index_base + j0, 256, w);
PQT_HD PQT_FORCEINLINE constexpr void random_words(std::uint64_t seed, std::uint64_t offset, std::uint64_t index0,
                                                   std::size_t n, std::uint32_t* out) noexcept {
  std::size_t j = 0;
  for (; j < n && ((index0 + j) & 3) != 0; ++j) out[j] = random_word(seed, offset, index0 + j);
  const std::size_t groups = (n - j) / 4;
  const std::uint64_t q0 = (index0 + j) >> 2;
  std::uint32_t* o = out + j;
  for (std::size_t g = 0; g < groups; ++g) {
    const u32x4 w = random_block4(seed, offset, q0 + g);
    o[4 * g] = w.v[0];
    o[4 * g + 1] = w.v[1];
    o[4 * g + 2] = w.v[2];
    o[4 * g + 3] = w.v[3];
  }
  for (j += 4 * groups; j < n; ++j) out[j] = random_word(seed, offset, index0 + j);
}

/// The two-word draws of elements 2p (words 0, 1) and 2p+1 (words 2, 3).
///   pqt::u32x4 w = pqt::random_block2(seed, offset, (index_base + j) >> 1);
PQT_HD PQT_FORCEINLINE constexpr u32x4 random_block2(std::uint64_t seed, std::uint64_t offset,
                                     std::uint64_t p) noexcept {
  return philox4x32_10(block2_counter(offset, p), philox_key(seed));
}

/// The two-word draw of element index (Box-Muller). For a shard starting at
/// element a, pass index = a + j.
///   pqt::word_pair w = pqt::random_words2(seed, offset, index_base + j);
PQT_HD PQT_FORCEINLINE constexpr word_pair random_words2(std::uint64_t seed, std::uint64_t offset,
                                         std::uint64_t index) noexcept {
  const u32x4 b = random_block2(seed, offset, index >> 1);
  return (index & 1) ? word_pair{b.v[2], b.v[3]} : word_pair{b.v[0], b.v[1]};
}

/// A (seed, offset) pair carried as one value; the same words as the free functions.
///   pqt::philox_stream s{seed, offset};  std::uint32_t r = s.word(index_base + j);
struct philox_stream {
  std::uint64_t seed;
  std::uint64_t offset;

  PQT_HD constexpr std::uint32_t word(std::uint64_t index) const noexcept {
    return random_word(seed, offset, index);
  }
  PQT_HD constexpr u32x4 block4(std::uint64_t q) const noexcept {
    return random_block4(seed, offset, q);
  }
  PQT_HD constexpr word_pair words2(std::uint64_t index) const noexcept {
    return random_words2(seed, offset, index);
  }
  PQT_HD constexpr u32x4 block2(std::uint64_t p) const noexcept {
    return random_block2(seed, offset, p);
  }
};

/// Uniform float in [0, 1) from the top 24 bits of a word: (word >> 8) * 2^-24.
/// Every result is exact; 0 is possible, 1 is not.
///   float u = pqt::uniform01(pqt::random_word(seed, offset, i));
PQT_HD constexpr float uniform01(std::uint32_t word) noexcept {
  return static_cast<float>(word >> 8) * 0x1p-24f;
}

/// Uniform float in (0, 1] from the top 24 bits of a word: ((word >> 8) + 1) * 2^-24.
/// Safe for log(): the smallest result is 2^-24, so -log(u) <= 16.64
/// (a Box-Muller radius of at most sqrt(2 * 16.64) = 5.77).
///   float r = std::sqrt(-2.0f * std::log(pqt::uniform01_open0(w.a)));
PQT_HD constexpr float uniform01_open0(std::uint32_t word) noexcept {
  return static_cast<float>((word >> 8) + 1u) * 0x1p-24f;
}

}  // namespace pqt
