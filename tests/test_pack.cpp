// FP4/FP6/FP8 packing (pack.hpp): the documented bit order on hand-written
// bytes and against an independent bit-stream reference, pack -> unpack
// identity on every code in every position and on random arrays of awkward
// sizes, encode -> pack -> unpack -> decode identity, and argument validation.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <pqt/convert.hpp>
#include <pqt/minifloat.hpp>
#include <pqt/pack.hpp>

using namespace pqt;
using bytes = std::vector<std::uint8_t>;

namespace {

// Independent reference: element k occupies bits k*bits .. k*bits+bits-1 of a
// little-endian bit stream (bit 0 = LSB of byte 0). Written bit by bit, so it
// shares no code with pack.hpp.
bytes reference_pack(const bytes& codes, int bits) {
  bytes out((codes.size() * static_cast<std::size_t>(bits) + 7) / 8, 0);
  for (std::size_t k = 0; k < codes.size(); ++k)
    for (int b = 0; b < bits; ++b)
      if ((codes[k] >> b) & 1u) {
        const std::size_t pos = k * static_cast<std::size_t>(bits) + static_cast<std::size_t>(b);
        out[pos / 8] = static_cast<std::uint8_t>(out[pos / 8] | (1u << (pos % 8)));
      }
  return out;
}

constexpr std::uint8_t kGuard = 0xA5;

// pack into a buffer with guard bytes after it; check the bytes against the
// reference, the guards untouched, and unpack back to the codes.
void check_roundtrip(const bytes& codes, int bits) {
  const std::size_t need = packed_bytes(codes.size(), bits);
  REQUIRE(need == (codes.size() * static_cast<std::size_t>(bits) + 7) / 8);
  bytes buf(need + 4, kGuard);
  pack(codes.data(), codes.size(), bits, buf.data(), buf.size());
  CHECK(bytes(buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(need)) == reference_pack(codes, bits));
  for (std::size_t j = need; j < buf.size(); ++j) CHECK(buf[j] == kGuard);
  bytes back(codes.size() + 4, kGuard);
  unpack(buf.data(), need, codes.size(), bits, back.data());  // exactly `need` bytes suffice
  CHECK(bytes(back.begin(), back.begin() + static_cast<std::ptrdiff_t>(codes.size())) == codes);
  for (std::size_t j = codes.size(); j < back.size(); ++j) CHECK(back[j] == kGuard);
}

constexpr bool constexpr_unpack_ok() {
  std::uint8_t c2[2] = {0, 0};
  unpack_fp4_pair(0x21, c2);
  std::uint8_t c4[4] = {0, 0, 0, 0};
  unpack_fp6_quad(0x103081u, c4);
  return c2[0] == 1 && c2[1] == 2 && c4[0] == 1 && c4[1] == 2 && c4[2] == 3 && c4[3] == 4;
}

}  // namespace

// ---- compile time -------------------------------------------------------------
static_assert(pack_fp4_pair({0x1, 0x2}) == 0x21);
static_assert(pack_fp4_pair({0xF, 0x0}) == 0x0F && pack_fp4_pair({0x0, 0xF}) == 0xF0);
static_assert(pack_fp6_quad({1, 2, 3, 4}) == (1u | 2u << 6 | 3u << 12 | 4u << 18));
static_assert(pack_fp6_quad({1, 2, 3, 4}) == 0x103081u);
static_assert(pack_fp6_quad({63, 63, 63, 63}) == 0xFFFFFFu);
static_assert(constexpr_unpack_ok());
static_assert(detail::packed_bytes_unchecked(5, 4) == 3 && detail::packed_bytes_unchecked(5, 6) == 4 &&
              detail::packed_bytes_unchecked(5, 8) == 5);

TEST_CASE("packed_bytes") {
  const std::size_t fp4[] = {0, 1, 1, 2, 2, 3, 3, 4, 4};
  const std::size_t fp6[] = {0, 1, 2, 3, 3, 4, 5, 6, 6};  // 4 codes -> 3 bytes; r codes -> r bytes
  for (std::size_t n = 0; n < 9; ++n) {
    CHECK(packed_bytes(n, 4) == fp4[n]);
    CHECK(packed_bytes(n, 6) == fp6[n]);
    CHECK(packed_bytes(n, 8) == n);
    CHECK(packed_bytes(n, 6) == (n * 6 + 7) / 8);
  }
  volatile std::size_t big = 4097;
  CHECK(packed_bytes(big, 4) == 2049);
  CHECK(packed_bytes(big, 6) == 3073);
  // Largest n whose bit count fits, and exactly ceil(n * 6 / 8) without overflowing.
  const std::size_t max = std::numeric_limits<std::size_t>::max();
  CHECK(packed_bytes(max / 6, 6) == max / 6 / 4 * 3 + (max / 6 % 4 * 6 + 7) / 8);
  CHECK(packed_bytes(max / 4, 4) == max / 8 + 1);
  CHECK(packed_bytes(max / 8, 8) == max / 8);
}

TEST_CASE("documented bit order, literally") {
  volatile std::uint8_t one = 1;  // keep the run-time checks from being folded
  SUBCASE("FP4: element 2i low nibble, 2i+1 high nibble; odd count leaves high nibble 0") {
    const bytes codes = {one, 0x2, 0xF, 0x0, 0x7};
    bytes out(3, kGuard);
    pack(codes.data(), codes.size(), 4, out.data(), out.size());
    CHECK(out == bytes{0x21, 0x0F, 0x07});
    std::uint8_t c[2];
    unpack_fp4_pair(0xA3, c);
    CHECK(c[0] == 0x3);
    CHECK(c[1] == 0xA);
  }
  SUBCASE("FP6: {1,2,3,4} -> w = 1 | 2<<6 | 3<<12 | 4<<18 = 0x103081 -> 81 30 10") {
    const bytes codes = {one, 2, 3, 4};
    bytes out(3, kGuard);
    pack(codes.data(), 4, 6, out.data(), out.size());
    CHECK(out == bytes{0x81, 0x30, 0x10});
    // Each code alone at its position: element k covers stream bits 6k..6k+5.
    for (int k = 0; k < 4; ++k) {
      bytes one_code(4, 0);
      one_code[static_cast<std::size_t>(k)] = 0x3F;
      pack(one_code.data(), 4, 6, out.data(), out.size());
      const std::uint32_t w = out[0] | out[1] << 8 | out[2] << 16;
      CHECK(w == 0x3Fu << (6 * k));
    }
    // The second group follows the first: {.., 5} -> bytes 3.. hold 5.
    const bytes eight = {0, 0, 0, 0, 5, 0, 0, 0x3F};
    bytes out2(6, kGuard);
    pack(eight.data(), 8, 6, out2.data(), out2.size());
    CHECK(out2 == bytes{0, 0, 0, 0x05, 0x00, 0xFC});
  }
  SUBCASE("FP6 partial groups: only ceil(6r/8) bytes written, unused bits 0") {
    const bytes all63 = {0x3F, 0x3F, 0x3F};
    bytes out(4, kGuard);
    pack(all63.data(), 1, 6, out.data(), out.size());
    CHECK(out == bytes{0x3F, kGuard, kGuard, kGuard});  // bits 6..7 zero
    out.assign(4, kGuard);
    pack(all63.data(), 2, 6, out.data(), out.size());
    CHECK(out == bytes{0xFF, 0x0F, kGuard, kGuard});  // bits 12..15 zero
    out.assign(4, kGuard);
    pack(all63.data(), 3, 6, out.data(), out.size());
    CHECK(out == bytes{0xFF, 0xFF, 0x03, kGuard});  // bits 18..23 zero
    // 5 codes: one full group, then one code in one byte.
    const bytes five = {1, 2, 3, 4, 0x3F};
    out.assign(5, kGuard);
    pack(five.data(), 5, 6, out.data(), out.size());
    CHECK(out == bytes{0x81, 0x30, 0x10, 0x3F, kGuard});
  }
  SUBCASE("FP4 odd count: last high nibble 0, nothing past it written") {
    const bytes codes = {0xF};
    bytes out(2, kGuard);
    pack(codes.data(), 1, 4, out.data(), out.size());
    CHECK(out == bytes{0x0F, kGuard});
  }
}

TEST_CASE("every FP4 code in every position of a pair, with neighbours set") {
  for (int pos = 0; pos < 2; ++pos)
    for (int c = 0; c < 16; ++c)
      for (int other : {0x0, 0xF, 0x5, 0xA, (c + 7) % 16}) {
        // Three pairs so that the neighbouring bytes can bleed into this one too.
        bytes codes(6, static_cast<std::uint8_t>(other));
        codes[2 + static_cast<std::size_t>(pos)] = static_cast<std::uint8_t>(c);
        check_roundtrip(codes, 4);
        std::uint8_t pair[2] = {static_cast<std::uint8_t>(other), static_cast<std::uint8_t>(other)};
        pair[pos] = static_cast<std::uint8_t>(c);
        std::uint8_t back[2];
        unpack_fp4_pair(pack_fp4_pair(pair), back);
        CHECK(back[0] == pair[0]);
        CHECK(back[1] == pair[1]);
      }
}

TEST_CASE("every FP6 code in each of the four positions, with neighbours set") {
  for (int pos = 0; pos < 4; ++pos)
    for (int c = 0; c < 64; ++c)
      for (int other : {0x00, 0x3F, 0x15, 0x2A, (c + 29) % 64}) {
        // Three groups so that neighbouring groups can bleed into this one too.
        bytes codes(12, static_cast<std::uint8_t>(other));
        codes[4 + static_cast<std::size_t>(pos)] = static_cast<std::uint8_t>(c);
        check_roundtrip(codes, 6);
        std::uint8_t quad[4] = {static_cast<std::uint8_t>(other), static_cast<std::uint8_t>(other),
                                static_cast<std::uint8_t>(other), static_cast<std::uint8_t>(other)};
        quad[pos] = static_cast<std::uint8_t>(c);
        std::uint8_t back[4];
        unpack_fp6_quad(pack_fp6_quad(quad), back);
        for (int k = 0; k < 4; ++k) CHECK(back[k] == quad[k]);
      }
}

TEST_CASE("random arrays of awkward sizes round-trip") {
  std::mt19937 rng(12345);
  for (std::size_t n : {0, 1, 2, 3, 4, 5, 15, 16, 17, 31, 33, 4097})
    for (int bits : {4, 6, 8}) {
      CAPTURE(n);
      CAPTURE(bits);
      bytes codes(n);
      for (auto& c : codes) c = static_cast<std::uint8_t>(rng() & ((1u << bits) - 1));
      check_roundtrip(codes, bits);
    }
}

namespace {
template <class Fmt>
void check_value_roundtrip() {
  constexpr int bits = Fmt::total_bits;
  const std::size_t n = std::size_t{1} << bits;
  bytes codes(n);
  std::vector<float> values(n);
  for (std::size_t c = 0; c < n; ++c) {
    values[c] = decode<Fmt>(static_cast<std::uint8_t>(c));
    REQUIRE(!std::isnan(values[c]));
    codes[c] = encode<Fmt>(values[c]);
    CHECK(codes[c] == c);  // every code of these NaN-free formats is its own value
  }
  // Two orders: ascending, and reversed so each code meets other neighbours.
  for (int pass = 0; pass < 2; ++pass) {
    bytes in = codes;
    if (pass == 1) in.assign(codes.rbegin(), codes.rend());
    bytes buf(packed_bytes(n, bits));
    pack<Fmt>(in.data(), n, buf.data(), buf.size());
    bytes out(n);
    unpack<Fmt>(buf.data(), buf.size(), n, out.data());
    for (std::size_t i = 0; i < n; ++i) {
      const float want = decode<Fmt>(in[i]);
      const float got = decode<Fmt>(out[i]);
      CHECK(got == want);
      CHECK(std::signbit(got) == std::signbit(want));  // -0 preserved
    }
  }
  // -0 specifically: the sign-bit-only code.
  const std::uint8_t neg_zero = encode<Fmt>(-0.0f);
  CHECK(neg_zero == Fmt::sign_mask);
  std::uint8_t buf[1] = {0};
  std::uint8_t back = 0xFF;
  pack<Fmt>(&neg_zero, 1, buf, 1);
  unpack<Fmt>(buf, 1, 1, &back);
  CHECK(std::signbit(decode<Fmt>(back)));
  CHECK(decode<Fmt>(back) == 0.0f);
}
}  // namespace

TEST_CASE("encode -> pack -> unpack -> decode identity on every code") {
  SUBCASE("e2m1") { check_value_roundtrip<fmt::e2m1>(); }
  SUBCASE("e3m2") { check_value_roundtrip<fmt::e3m2>(); }
  SUBCASE("e2m3") { check_value_roundtrip<fmt::e2m3>(); }
}

TEST_CASE("typed overloads take the width from the format") {
  const bytes c4 = {0x1, 0x2, 0x3};
  bytes out(2, kGuard);
  pack<fmt::e2m1>(c4.data(), 3, out.data(), out.size());
  CHECK(out == bytes{0x21, 0x03});
  pack<pqt::e2m1>(c4.data(), 3, out.data(), out.size());  // the minifloat type works too
  CHECK(out == bytes{0x21, 0x03});
  const bytes c6 = {1, 2, 3, 4};
  bytes out6(3, 0);
  pack<fmt::e2m3>(c6.data(), 4, out6.data(), out6.size());
  CHECK(out6 == bytes{0x81, 0x30, 0x10});
  // FP8: a plain copy, every byte allowed.
  bytes c8(256);
  for (std::size_t i = 0; i < 256; ++i) c8[i] = static_cast<std::uint8_t>(255 - i);
  bytes out8(256, 0), back8(256, 0);
  pack<fmt::e4m3>(c8.data(), 256, out8.data(), out8.size());
  CHECK(out8 == c8);
  unpack<fmt::e5m2>(out8.data(), out8.size(), 256, back8.data());
  CHECK(back8 == c8);
  pack<fmt::e8m0>(c8.data(), 256, out8.data(), out8.size());
  CHECK(out8 == c8);
  // A code wider than the format is rejected by the typed overload as well.
  const bytes wide = {0x10};
  CHECK_THROWS_AS(pack<fmt::e2m1>(wide.data(), 1, out.data(), out.size()), std::invalid_argument);
}

TEST_CASE("errors") {
  bytes codes = {1, 2, 3, 4, 5};
  bytes out(8, kGuard);
  SUBCASE("output too small") {
    CHECK_THROWS_AS(pack(codes.data(), 5, 4, out.data(), 2), std::invalid_argument);
    CHECK_THROWS_AS(pack(codes.data(), 5, 6, out.data(), 3), std::invalid_argument);
    CHECK_THROWS_AS(pack(codes.data(), 5, 8, out.data(), 4), std::invalid_argument);
    CHECK_THROWS_AS(unpack(out.data(), 2, 5, 4, codes.data()), std::invalid_argument);
    CHECK_THROWS_AS(unpack(out.data(), 3, 5, 6, codes.data()), std::invalid_argument);
    CHECK_THROWS_AS(unpack(out.data(), 4, 5, 8, codes.data()), std::invalid_argument);
    CHECK(out == bytes(8, kGuard));
  }
  SUBCASE("null pointers with n > 0") {
    CHECK_THROWS_AS(pack(nullptr, 5, 4, out.data(), out.size()), std::invalid_argument);
    CHECK_THROWS_AS(pack(codes.data(), 5, 6, nullptr, 8), std::invalid_argument);
    CHECK_THROWS_AS(unpack(nullptr, 8, 5, 6, codes.data()), std::invalid_argument);
    CHECK_THROWS_AS(unpack(out.data(), 8, 5, 4, nullptr), std::invalid_argument);
  }
  SUBCASE("n == 0 with null pointers is fine") {
    for (int bits : {4, 6, 8}) {
      CHECK_NOTHROW(pack(nullptr, 0, bits, nullptr, 0));
      CHECK_NOTHROW(unpack(nullptr, 0, 0, bits, nullptr));
    }
    CHECK_NOTHROW(pack<fmt::e2m1>(nullptr, 0, nullptr, 0));
    CHECK_NOTHROW(unpack<fmt::e3m2>(nullptr, 0, 0, nullptr));
  }
  SUBCASE("a code with bits above the width set; nothing written") {
    codes[3] = 0x10;  // 5 bits
    CHECK_THROWS_AS(pack(codes.data(), 5, 4, out.data(), out.size()), std::invalid_argument);
    CHECK(out == bytes(8, kGuard));
    try {
      pack(codes.data(), 5, 4, out.data(), out.size());
    } catch (const std::invalid_argument& e) {
      const std::string msg = e.what();
      CHECK(msg.find("codes[3]") != std::string::npos);
      CHECK(msg.find("0x10") != std::string::npos);
    }
    codes[3] = 0x40;  // 7 bits
    CHECK_THROWS_AS(pack(codes.data(), 5, 6, out.data(), out.size()), std::invalid_argument);
    codes[3] = 0x3F;  // fits 6 bits, not 4
    CHECK_NOTHROW(pack(codes.data(), 5, 6, out.data(), out.size()));
    CHECK_THROWS_AS(pack(codes.data(), 5, 4, out.data(), out.size()), std::invalid_argument);
    codes[3] = 0x80;  // the top bit only
    CHECK_THROWS_AS(pack(codes.data(), 5, 6, out.data(), out.size()), std::invalid_argument);
    CHECK_NOTHROW(pack(codes.data(), 5, 8, out.data(), out.size()));
  }
  SUBCASE("unsupported width") {
    for (int bits : {-1, 0, 1, 2, 3, 5, 7, 9, 16, 32}) {
      CAPTURE(bits);
      CHECK_THROWS_AS(packed_bytes(4, bits), std::invalid_argument);
      CHECK_THROWS_AS(packed_bytes(0, bits), std::invalid_argument);
      CHECK_THROWS_AS(pack(codes.data(), 4, bits, out.data(), out.size()), std::invalid_argument);
      CHECK_THROWS_AS(unpack(out.data(), out.size(), 4, bits, codes.data()), std::invalid_argument);
    }
  }
  SUBCASE("size overflow: n * bits past SIZE_MAX") {
    const std::size_t max = std::numeric_limits<std::size_t>::max();
    CHECK_THROWS_AS(packed_bytes(max, 6), std::invalid_argument);
    CHECK_THROWS_AS(packed_bytes(max / 6 + 1, 6), std::invalid_argument);
    CHECK_NOTHROW(packed_bytes(max / 6, 6));
    CHECK_THROWS_AS(packed_bytes(max, 4), std::invalid_argument);
    CHECK_THROWS_AS(packed_bytes(max / 4 + 1, 4), std::invalid_argument);
    CHECK_THROWS_AS(packed_bytes(max, 8), std::invalid_argument);
    // Rejected before any pointer is read.
    CHECK_THROWS_AS(pack(codes.data(), max, 6, out.data(), max), std::invalid_argument);
    CHECK_THROWS_AS(unpack(out.data(), max, max - 1, 6, codes.data()), std::invalid_argument);
    CHECK_THROWS_AS(pack(codes.data(), max, 4, out.data(), max), std::invalid_argument);
  }
}
