// Philox4x32-10 and the (seed, offset, index) -> random word mapping of
// include/pqt/random.hpp: published known-answer vectors (at compile time and
// at run time), a second, literal implementation of the cipher, the mapping
// spelled out, shard / thread / launch-shape invariance, and 6-sigma sanity
// statistics with fixed seeds. PQT_OPTIMIZE
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

#include <pqt/random.hpp>

namespace {

using pqt::u32x2;
using pqt::u32x4;

// ---- Known-answer vectors ------------------------------------------------------
// Random123 (D. E. Shaw Research) tests/kat_vectors, rows "philox4x32 10":
// counter[4] key[2] -> output[4].
struct kat {
  u32x4 ctr;
  u32x2 key;
  u32x4 out;
};
constexpr kat kats[] = {
    {{{0x00000000u, 0x00000000u, 0x00000000u, 0x00000000u}},
     {{0x00000000u, 0x00000000u}},
     {{0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u}}},
    {{{0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu}},
     {{0xffffffffu, 0xffffffffu}},
     {{0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu}}},
    {{{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}},  // digits of pi
     {{0xa4093822u, 0x299f31d0u}},
     {{0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u}}},
};

static_assert(pqt::philox4x32_10(kats[0].ctr, kats[0].key) == kats[0].out, "KAT zeros");
static_assert(pqt::philox4x32_10(kats[1].ctr, kats[1].key) == kats[1].out, "KAT all-ones");
static_assert(pqt::philox4x32_10(kats[2].ctr, kats[2].key) == kats[2].out, "KAT pi");
// The mapping is constexpr end to end. Seed 0, offset 0: block 0 is the zeros vector.
static_assert(pqt::random_word(0, 0, 0) == 0x6627e8d5u && pqt::random_word(0, 0, 3) == 0x9b00dbd8u,
              "mapping at compile time");
static_assert(pqt::random_words2(0, 0, 1).b == pqt::philox4x32_10(u32x4{{0, 0, 0, 0x80000000u}},
                                                                  u32x2{{0, 0}})[3],
              "two-word mapping at compile time");
static_assert(pqt::uniform01(0) == 0.0f && pqt::uniform01(0xFFFFFFFFu) == 1.0f - 0x1p-24f, "[0,1)");
static_assert(pqt::uniform01_open0(0) == 0x1p-24f && pqt::uniform01_open0(0xFFFFFFFFu) == 1.0f,
              "(0,1]");

// ---- A second Philox, spelled out as in the paper ----------------------------------
// Salmon et al. (SC'11) §3.3: the S-box B_k(L, R) = (mulhi(R, M) xor k xor L,
// mullo(R, M)); Philox-4x32 applies it to the pairs (X1, X2) with M1, k0 and
// (X3, X0) with M0, k1; the round key is k + r * (0x9E3779B9, 0xBB67AE85).
// Products here use 16-bit schoolbook limbs (no 64-bit multiply) and the key
// schedule is multiplied out, so nothing is shared with the library's code.
struct hilo {
  std::uint32_t hi, lo;
};
hilo mul_schoolbook(std::uint32_t a, std::uint32_t b) {
  const std::uint32_t a0 = a & 0xFFFFu, a1 = a >> 16, b0 = b & 0xFFFFu, b1 = b >> 16;
  const std::uint32_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const std::uint32_t mid = (p00 >> 16) + (p01 & 0xFFFFu) + (p10 & 0xFFFFu);  // < 3 * 2^16
  const std::uint32_t lo = (mid << 16) | (p00 & 0xFFFFu);
  const std::uint32_t hi = p11 + (p01 >> 16) + (p10 >> 16) + (mid >> 16);
  return {hi, lo};
}
void sbox(std::uint32_t& l, std::uint32_t& r, std::uint32_t m, std::uint32_t k) {
  const hilo p = mul_schoolbook(r, m);
  const std::uint32_t new_l = p.hi ^ k ^ l;
  r = p.lo;
  l = new_l;
}
std::array<std::uint32_t, 4> philox_literal(std::array<std::uint32_t, 4> x, std::uint32_t k0,
                                            std::uint32_t k1) {
  for (std::uint32_t round = 0; round < 10; ++round) {
    const std::uint32_t rk0 = k0 + round * 0x9E3779B9u;
    const std::uint32_t rk1 = k1 + round * 0xBB67AE85u;
    std::uint32_t l0 = x[1], r0 = x[2], l1 = x[3], r1 = x[0];
    sbox(l0, r0, 0xCD9E8D57u, rk0);
    sbox(l1, r1, 0xD2511F53u, rk1);
    x = {l0, r0, l1, r1};
  }
  return x;
}

// Deterministic 64-bit generator for test inputs (splitmix64: same on every platform).
struct splitmix64 {
  std::uint64_t s;
  std::uint64_t operator()() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
};

std::uint32_t lo(std::uint64_t x) { return static_cast<std::uint32_t>(x); }
std::uint32_t hi(std::uint64_t x) { return static_cast<std::uint32_t>(x >> 32); }

}  // namespace

// Doctest prints these on failure.
namespace doctest {
template <>
struct StringMaker<pqt::u32x4> {
  static String convert(const pqt::u32x4& w) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%08x %08x %08x %08x", w.v[0], w.v[1], w.v[2], w.v[3]);
    return buf;
  }
};
}  // namespace doctest

TEST_CASE("philox4x32_10 reproduces the Random123 known-answer vectors at run time") {
  for (const kat& k : kats) {
    volatile std::uint32_t c[4] = {k.ctr.v[0], k.ctr.v[1], k.ctr.v[2], k.ctr.v[3]};
    volatile std::uint32_t key[2] = {k.key.v[0], k.key.v[1]};
    const u32x4 got = pqt::philox4x32_10(u32x4{{c[0], c[1], c[2], c[3]}}, u32x2{{key[0], key[1]}});
    CHECK(got == k.out);
    const auto lit = philox_literal({c[0], c[1], c[2], c[3]}, key[0], key[1]);
    CHECK(u32x4{{lit[0], lit[1], lit[2], lit[3]}} == k.out);
  }
}

TEST_CASE("philox4x32_10 == the literal paper-form implementation on 200000 random inputs") {
  splitmix64 g{12345};
  int mismatches = 0;
  for (int t = 0; t < 200000; ++t) {
    const u32x4 c{{lo(g()), lo(g()), lo(g()), lo(g())}};
    const u32x2 k{{lo(g()), hi(g())}};
    const u32x4 a = pqt::philox4x32_10(c, k);
    const auto b = philox_literal({c.v[0], c.v[1], c.v[2], c.v[3]}, k.v[0], k.v[1]);
    mismatches += !(a.v[0] == b[0] && a.v[1] == b[1] && a.v[2] == b[2] && a.v[3] == b[3]);
  }
  CHECK(mismatches == 0);
}

TEST_CASE("the documented mapping, spelled out, for 64-bit indices and offsets") {
  splitmix64 g{777};
  std::vector<std::uint64_t> idx = {0,
                                    1,
                                    2,
                                    3,
                                    4,
                                    (std::uint64_t{1} << 32) * 4 - 1,
                                    (std::uint64_t{1} << 32) * 4,
                                    (std::uint64_t{1} << 32) * 4 + 5,
                                    (std::uint64_t{1} << 40) + 3,
                                    std::uint64_t{1} << 63,
                                    ~std::uint64_t{0} - 2,
                                    ~std::uint64_t{0}};
  for (int t = 0; t < 50; ++t) idx.push_back(g() | (std::uint64_t{1} << 34));
  const std::uint64_t seeds[] = {0, 1, 0x0123456789ABCDEFull, ~std::uint64_t{0}, g()};
  const std::uint64_t offsets[] = {0, 1, std::uint64_t{1} << 32, 0x7FFF'FFFF'FFFF'FFFFull,
                                   g() & pqt::random_offset_mask};
  for (std::uint64_t seed : seeds)
    for (std::uint64_t off : offsets)
      for (std::uint64_t i : idx) {
        CAPTURE(seed);
        CAPTURE(off);
        CAPTURE(i);
        const u32x2 key{{lo(seed), hi(seed)}};
        // One-word: word (i & 3) of P(lo(i>>2), hi(i>>2), lo(off), hi(off); key).
        const u32x4 b1 = pqt::philox4x32_10(u32x4{{lo(i >> 2), hi(i >> 2), lo(off), hi(off)}}, key);
        CHECK(pqt::random_word(seed, off, i) == b1[static_cast<int>(i & 3)]);
        CHECK(pqt::random_block4(seed, off, i >> 2) == b1);
        CHECK(pqt::philox_stream{seed, off}.word(i) == b1[static_cast<int>(i & 3)]);
        // Two-word: words 2(i&1), 2(i&1)+1 of P(lo(i>>1), hi(i>>1), lo(off), hi(off) ^ 2^31; key).
        const u32x4 b2 = pqt::philox4x32_10(
            u32x4{{lo(i >> 1), hi(i >> 1), lo(off), hi(off) ^ 0x80000000u}}, key);
        const int w = 2 * static_cast<int>(i & 1);
        const pqt::word_pair p = pqt::random_words2(seed, off, i);
        CHECK(p.a == b2[w]);
        CHECK(p.b == b2[w + 1]);
        CHECK(pqt::random_block2(seed, off, i >> 1) == b2);
        CHECK(pqt::philox_stream{seed, off}.words2(i).b == b2[w + 1]);
        // Offset bit 63 is reserved: masked off, in both streams.
        const std::uint64_t top = off | (std::uint64_t{1} << 63);
        CHECK(pqt::random_word(seed, top, i) == pqt::random_word(seed, off, i));
        CHECK(pqt::random_words2(seed, top, i).a == p.a);
        CHECK(pqt::random_words2(seed, top, i).b == p.b);
        // ... which is what keeps a one-word block of offset off + 2^63 off the
        // two-word block of offset off with the same counter low half.
        CHECK(pqt::random_block4(seed, top, i >> 1) != b2);
      }
  CHECK(pqt::block4_counter(0xFFFF'FFFF'FFFF'FFFFull, 5) == u32x4{{5, 0, 0xFFFFFFFFu, 0x7FFFFFFFu}});
  CHECK(pqt::block2_counter(0xFFFF'FFFF'FFFF'FFFFull, 5) == u32x4{{5, 0, 0xFFFFFFFFu, 0xFFFFFFFFu}});
  CHECK(pqt::block2_counter(0, std::uint64_t{1} << 32) == u32x4{{0, 1, 0, 0x80000000u}});
}

// ---- Shard invariance ----------------------------------------------------------------
namespace {

constexpr std::uint64_t shard_seed = 0x5EED'0000'C0FF'EE01ull;
constexpr std::uint64_t shard_offset = 0x0000'0001'0000'0007ull;  // both halves nonzero
constexpr std::size_t tensor_n = 1000003;  // 10^6 + 3: the tensor ends unaligned too

// Elements [base, base + count) one at a time.
void fill_scalar(std::uint64_t base, std::size_t count, std::uint32_t* out) {
  for (std::size_t j = 0; j < count; ++j) out[j] = pqt::random_word(shard_seed, shard_offset, base + j);
}

// The vectorised-kernel pattern: scalar head up to a multiple of four, one
// random_block4 per aligned group, scalar tail.
void fill_vectorised(std::uint64_t base, std::size_t count, std::uint32_t* out) {
  std::size_t j = 0;
  for (; j < count && ((base + j) & 3) != 0; ++j) out[j] = pqt::random_word(shard_seed, shard_offset, base + j);
  for (; j + 4 <= count; j += 4) {
    const u32x4 w = pqt::random_block4(shard_seed, shard_offset, (base + j) >> 2);
    for (int k = 0; k < 4; ++k) out[j + k] = w.v[k];
  }
  for (; j < count; ++j) out[j] = pqt::random_word(shard_seed, shard_offset, base + j);
}

// Two-word stream, the same pattern with pairs.
void fill_pairs_scalar(std::uint64_t base, std::size_t count, std::uint32_t* out) {
  for (std::size_t j = 0; j < count; ++j) {
    const pqt::word_pair p = pqt::random_words2(shard_seed, shard_offset, base + j);
    out[2 * j] = p.a;
    out[2 * j + 1] = p.b;
  }
}
void fill_pairs_vectorised(std::uint64_t base, std::size_t count, std::uint32_t* out) {
  std::size_t j = 0;
  auto one = [&](std::size_t jj) {
    const pqt::word_pair p = pqt::random_words2(shard_seed, shard_offset, base + jj);
    out[2 * jj] = p.a;
    out[2 * jj + 1] = p.b;
  };
  if (j < count && ((base + j) & 1) != 0) one(j++);
  for (; j + 2 <= count; j += 2) {
    const u32x4 w = pqt::random_block2(shard_seed, shard_offset, (base + j) >> 1);
    for (int k = 0; k < 4; ++k) out[2 * j + k] = w.v[k];
  }
  if (j < count) one(j++);
}

struct chunk {
  std::size_t begin, count;
};

// Random chunk boundaries from a fixed seed; the listed sizes come first so
// every one of them occurs, at varied alignments.
std::vector<chunk> make_chunks(std::size_t n, std::uint64_t rng_seed) {
  const std::size_t forced[] = {1, 3, 4, 5, 17, 1000, 1, 1, 3, 5, 17, 2, 7, 1000, 4, 3};
  splitmix64 g{rng_seed};
  std::vector<chunk> cs;
  std::size_t at = 0, k = 0;
  while (at < n) {
    std::size_t size = k < sizeof forced / sizeof forced[0] ? forced[k] : 1 + g() % 4999;
    if (at + size > n) size = n - at;
    cs.push_back({at, size});
    at += size;
    ++k;
  }
  return cs;
}

template <class Fill>
std::vector<std::uint32_t> by_chunks(const std::vector<chunk>& cs, std::size_t n, std::size_t words_per,
                                     unsigned threads, Fill fill) {
  std::vector<std::uint32_t> out(n * words_per, 0xDEADBEEFu);
  auto work = [&](unsigned t) {
    for (std::size_t c = t; c < cs.size(); c += threads)
      fill(cs[c].begin, cs[c].count, out.data() + cs[c].begin * words_per);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work, t);
  for (auto& th : pool) th.join();
  return out;
}

}  // namespace

TEST_CASE("shard invariance: chunks, index_base, threads, block4 + scalar head/tail, launch shapes") {
  // The whole tensor in one call.
  std::vector<std::uint32_t> whole(tensor_n);
  fill_scalar(0, tensor_n, whole.data());

  std::vector<std::uint32_t> v(tensor_n);
  fill_vectorised(0, tensor_n, v.data());
  CHECK(v == whole);

  for (std::uint64_t rs : {1ull, 2ull, 3ull}) {
    CAPTURE(rs);
    const auto cs = make_chunks(tensor_n, rs);
    CHECK(cs.size() > 300);
    for (unsigned threads : {1u, 2u}) {
      CAPTURE(threads);
      CHECK(by_chunks(cs, tensor_n, 1, threads, fill_scalar) == whole);
      CHECK(by_chunks(cs, tensor_n, 1, threads, fill_vectorised) == whole);
    }
  }

  // A CUDA-style grid-stride loop: "thread" t of a grid of g handles groups
  // t, t + g, ... of four, then the tail.
  for (std::size_t grid : {std::size_t{1}, std::size_t{7}, std::size_t{256}, std::size_t{65537}}) {
    CAPTURE(grid);
    std::vector<std::uint32_t> out(tensor_n, 0);
    const std::size_t groups = tensor_n / 4;
    for (std::size_t t = 0; t < grid; ++t)
      for (std::size_t q = t; q < groups; q += grid) {
        const u32x4 w = pqt::random_block4(shard_seed, shard_offset, q);
        for (int k = 0; k < 4; ++k) out[4 * q + k] = w.v[k];
      }
    for (std::size_t i = groups * 4; i < tensor_n; ++i) out[i] = pqt::random_word(shard_seed, shard_offset, i);
    CHECK(out == whole);
  }

  // A shard far into a huge tensor (index_base above 2^32) agrees with the
  // element-at-a-time definition.
  const std::uint64_t far = (std::uint64_t{1} << 35) + 3;
  std::vector<std::uint32_t> a(4099), b(4099);
  for (std::size_t j = 0; j < a.size(); ++j) a[j] = pqt::random_word(shard_seed, shard_offset, far + j);
  fill_vectorised(far, b.size(), b.data());
  CHECK(a == b);
}

TEST_CASE("shard invariance of the two-word stream") {
  std::vector<std::uint32_t> whole(2 * tensor_n);
  fill_pairs_scalar(0, tensor_n, whole.data());
  std::vector<std::uint32_t> v(2 * tensor_n);
  fill_pairs_vectorised(0, tensor_n, v.data());
  CHECK(v == whole);
  const auto cs = make_chunks(tensor_n, 4);
  for (unsigned threads : {1u, 2u}) {
    CAPTURE(threads);
    CHECK(by_chunks(cs, tensor_n, 2, threads, fill_pairs_scalar) == whole);
    CHECK(by_chunks(cs, tensor_n, 2, threads, fill_pairs_vectorised) == whole);
  }
}

// ---- Sanity statistics (fixed seeds, so the outcome is deterministic; bounds are 6 sigma) ----
namespace {

// |count - n/2| within 6 sigma for each of the 32 bit positions.
template <class Word>
void check_bit_balance(std::size_t n, Word word) {
  std::uint64_t ones[32] = {};
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t w = word(i);
    for (int b = 0; b < 32; ++b) ones[b] += (w >> b) & 1u;
  }
  const double sigma = std::sqrt(static_cast<double>(n) * 0.25);
  for (int b = 0; b < 32; ++b) {
    CAPTURE(b);
    CHECK(std::fabs(static_cast<double>(ones[b]) - 0.5 * static_cast<double>(n)) <= 6.0 * sigma);
  }
}

// Words of two streams over the same indices agree about n / 2^32 times.
template <class A, class B>
std::size_t equal_words(std::size_t n, A a, B b) {
  std::size_t same = 0;
  for (std::size_t i = 0; i < n; ++i) same += a(i) == b(i);
  return same;
}

}  // namespace

TEST_CASE("uniform01 / uniform01_open0: ranges, exact values, and the mean over 10^6 draws") {
  volatile std::uint32_t edge[] = {0u, 0xFFu, 0x100u, 0x80000000u, 0xFFFFFFFFu};
  CHECK(pqt::uniform01(edge[0]) == 0.0f);
  CHECK(pqt::uniform01(edge[1]) == 0.0f);
  CHECK(pqt::uniform01(edge[2]) == 0x1p-24f);
  CHECK(pqt::uniform01(edge[3]) == 0.5f);
  CHECK(pqt::uniform01(edge[4]) == 1.0f - 0x1p-24f);
  CHECK(pqt::uniform01_open0(edge[0]) == 0x1p-24f);
  CHECK(pqt::uniform01_open0(edge[3]) == 0.5f + 0x1p-24f);
  CHECK(pqt::uniform01_open0(edge[4]) == 1.0f);

  const std::size_t n = 1000000;
  double sum = 0.0, sum_open = 0.0;
  bool in_range = true;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t w = pqt::random_word(2024, 11, i);
    const float u = pqt::uniform01(w), v = pqt::uniform01_open0(w);
    in_range = in_range && u >= 0.0f && u < 1.0f && v > 0.0f && v <= 1.0f;
    sum += u;
    sum_open += v;
  }
  CHECK(in_range);
  const double bound = 6.0 * std::sqrt(1.0 / 12.0 / static_cast<double>(n));
  CHECK(std::fabs(sum / n - 0.5) <= bound);
  CHECK(std::fabs(sum_open / n - 0.5) <= bound + 0x1p-24);
}

TEST_CASE("every bit position is set half the time (6 sigma), both streams") {
  const std::size_t n = 1000000;
  check_bit_balance(n, [](std::size_t i) { return pqt::random_word(42, 0, i); });
  check_bit_balance(n, [](std::size_t i) { return pqt::random_word(0, 0, i); });  // all-zero key
  check_bit_balance(n / 2, [](std::size_t i) { return pqt::random_words2(42, 3, i).a; });
  check_bit_balance(n / 2, [](std::size_t i) { return pqt::random_words2(42, 3, i).b; });
}

TEST_CASE("different seeds, offsets, halves of each, and the two streams give different words") {
  const std::size_t n = 200000;  // expected coincidences n / 2^32 < 0.05
  auto word = [](std::uint64_t seed, std::uint64_t off) {
    return [=](std::size_t i) { return pqt::random_word(seed, off, i); };
  };
  const auto base = word(7, 100);
  CHECK(equal_words(n, base, word(8, 100)) <= 2);
  CHECK(equal_words(n, base, word(7 + (std::uint64_t{1} << 32), 100)) <= 2);  // hi32(seed) matters
  CHECK(equal_words(n, base, word(7, 101)) <= 2);
  CHECK(equal_words(n, base, word(7, 100 + (std::uint64_t{1} << 32))) <= 2);  // hi32(offset) matters
  // The index's high half matters: i vs i + 2^34 (block i >> 2 differs in hi32).
  CHECK(equal_words(n, base, [](std::size_t i) { return pqt::random_word(7, 100, i + (std::uint64_t{1} << 34)); }) <= 2);
  // One-word vs two-word stream at the same (seed, offset, index).
  CHECK(equal_words(n, base, [](std::size_t i) { return pqt::random_words2(7, 100, i).a; }) <= 2);
  CHECK(equal_words(n, base, [](std::size_t i) { return pqt::random_words2(7, 100, i).b; }) <= 2);
  // Neighbouring elements within a block are different words.
  CHECK(equal_words(n, base, [](std::size_t i) { return pqt::random_word(7, 100, i ^ 1); }) <= 2);
  // Whole blocks: the four words of every block are distinct from the next block's.
  std::size_t same_block = 0;
  for (std::uint64_t q = 0; q < 10000; ++q) same_block += pqt::random_block4(7, 100, q) == pqt::random_block4(7, 100, q + 1);
  CHECK(same_block == 0);
}
