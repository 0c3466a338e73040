#pragma once
/// Sub-byte packing of format codes: FP4 two per byte, FP6 four per three bytes.
///   std::vector<std::uint8_t> buf(pqt::packed_bytes(n, 4));
///   pqt::pack<pqt::fmt::e2m1>(codes, n, buf.data(), buf.size());
///   pqt::unpack<pqt::fmt::e2m1>(buf.data(), buf.size(), n, codes_out);
///
/// Bit order (bit 0 is a byte's least significant bit):
///
/// FP4: element 2i in the low nibble of byte i, element 2i+1 in the high
/// nibble; an odd count leaves the last high nibble 0.
///   byte i:  | 7 6 5 4  | 3 2 1 0 |
///            | c[2i+1]  | c[2i]   |
///   codes {0x1, 0x2} -> byte 0x21
///
/// FP6: a little-endian bit stream in which element k occupies bits 6k..6k+5.
/// Four codes make the 24-bit word w = c0 | c1 << 6 | c2 << 12 | c3 << 18,
/// stored as b0 = w bits 0..7, b1 = bits 8..15, b2 = bits 16..23:
///   w bit:  23      18 17 16 | 15  12 11     8 | 7  6 5       0
///           [  c3 5..0 ][c2 5..4]|[c2 3..0][c1 5..2]|[c1 1..0][ c0 5..0 ]
///           <------- b2 -------> <------- b1 ------> <------- b0 ------>
///   codes {1, 2, 3, 4} -> w = 0x103081 -> bytes 0x81 0x30 0x10
/// A partial last group of r = 1..3 codes writes only ceil(6r/8) = r bytes,
/// and their unused high bits are 0.
///
/// FP8 (8-bit formats) is a plain copy.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

#include "config.hpp"
#include "format.hpp"

namespace pqt {

// ---- per-group helpers (host and device) --------------------------------------
// These mask each code to its width; the span functions below reject wider
// codes before calling them.

/// Two FP4 codes to one byte, c[0] in the low nibble.
///   std::uint8_t b = pqt::pack_fp4_pair({0x1, 0x2});   // 0x21
PQT_HD constexpr std::uint8_t pack_fp4_pair(const std::uint8_t (&c)[2]) noexcept {
  return static_cast<std::uint8_t>((c[0] & 0xFu) | ((c[1] & 0xFu) << 4));
}

/// One byte to two FP4 codes (low nibble first).
///   std::uint8_t c[2]; pqt::unpack_fp4_pair(0x21, c);   // c = {0x1, 0x2}
PQT_HD constexpr void unpack_fp4_pair(std::uint8_t b, std::uint8_t (&c)[2]) noexcept {
  c[0] = static_cast<std::uint8_t>(b & 0xFu);
  c[1] = static_cast<std::uint8_t>(b >> 4);
}

/// Four FP6 codes to the 24-bit word c0 | c1 << 6 | c2 << 12 | c3 << 18;
/// its bytes, least significant first, are the packed bytes.
///   std::uint32_t w = pqt::pack_fp6_quad({1, 2, 3, 4});   // 0x103081
PQT_HD constexpr std::uint32_t pack_fp6_quad(const std::uint8_t (&c)[4]) noexcept {
  return (c[0] & 0x3Fu) | ((c[1] & 0x3Fu) << 6) | ((c[2] & 0x3Fu) << 12) | ((c[3] & 0x3Fu) << 18);
}

/// The 24-bit word of pack_fp6_quad back to four FP6 codes (bits above 23 ignored).
///   std::uint8_t c[4]; pqt::unpack_fp6_quad(0x103081, c);   // c = {1, 2, 3, 4}
PQT_HD constexpr void unpack_fp6_quad(std::uint32_t w, std::uint8_t (&c)[4]) noexcept {
  PQT_UNROLL
  for (int k = 0; k < 4; ++k) c[k] = static_cast<std::uint8_t>((w >> (6 * k)) & 0x3Fu);
}

namespace detail {

/// Bytes for n codes without validation: bits must be 4, 6 or 8 (else 0).
/// Written so that no intermediate exceeds n (no n * bits).
PQT_HD constexpr std::size_t packed_bytes_unchecked(std::size_t n, int bits) noexcept {
  return bits == 4 ? n / 2 + n % 2
       : bits == 6 ? n / 4 * 3 + (n % 4 * 6 + 7) / 8
       : bits == 8 ? n : 0;
}

inline std::string hex_byte(std::uint8_t v) {
  const char* d = "0123456789abcdef";
  return std::string("0x") + d[v >> 4] + d[v & 0xF];
}

}  // namespace detail

/// Bytes needed to pack n codes of `bits` bits (4, 6 or 8): ceil(n * bits / 8).
/// Throws std::invalid_argument for other widths, or if n * bits (the bit
/// offset a kernel computes for the end of the stream) overflows std::size_t.
///   std::size_t nb = pqt::packed_bytes(5, 6);   // 4 = 3 (one group) + 1 (one code)
inline std::size_t packed_bytes(std::size_t n, int bits) {
  if (bits != 4 && bits != 6 && bits != 8)
    throw std::invalid_argument("pqt::packed_bytes: unsupported code width " + std::to_string(bits) +
                                " bits (4, 6 or 8)");
  if (n > std::numeric_limits<std::size_t>::max() / static_cast<std::size_t>(bits))
    throw std::invalid_argument("pqt::packed_bytes: " + std::to_string(n) + " codes of " +
                                std::to_string(bits) + " bits overflow std::size_t");
  return detail::packed_bytes_unchecked(n, bits);
}

/// Pack n codes of `bits` bits (4, 6 or 8) into out[0 .. packed_bytes(n, bits)).
/// Throws std::invalid_argument, before writing anything, on an unsupported
/// width, a null pointer with n > 0, out_size < packed_bytes(n, bits), or a
/// code with bits at or above `bits` set (the message names its index).
///   pqt::pack(codes.data(), codes.size(), 6, out.data(), out.size());
inline void pack(const std::uint8_t* codes, std::size_t n, int bits, std::uint8_t* out,
                 std::size_t out_size) {
  const std::size_t need = packed_bytes(n, bits);
  if (n == 0) return;
  if (codes == nullptr || out == nullptr) throw std::invalid_argument("pqt::pack: null pointer with n > 0");
  if (out_size < need)
    throw std::invalid_argument("pqt::pack: output has " + std::to_string(out_size) + " bytes, " +
                                std::to_string(need) + " needed");
  if (bits == 8) {
    std::copy_n(codes, n, out);
    return;
  }
  for (std::size_t i = 0; i < n; ++i)
    if ((codes[i] >> bits) != 0)
      throw std::invalid_argument("pqt::pack: codes[" + std::to_string(i) + "] = " +
                                  detail::hex_byte(codes[i]) + " does not fit in " +
                                  std::to_string(bits) + " bits");
  if (bits == 4) {
    for (std::size_t i = 0; i + 1 < n; i += 2) out[i / 2] = pack_fp4_pair({codes[i], codes[i + 1]});
    if (n % 2 != 0) out[n / 2] = pack_fp4_pair({codes[n - 1], 0});
    return;
  }
  // bits == 6: whole groups, then a partial group zero-filled.
  const std::size_t groups = n / 4, rest = n % 4;
  for (std::size_t g = 0; g < groups; ++g) {
    const std::uint8_t* c = codes + 4 * g;
    const std::uint32_t w = pack_fp6_quad({c[0], c[1], c[2], c[3]});
    for (std::size_t j = 0; j < 3; ++j) out[3 * g + j] = static_cast<std::uint8_t>(w >> (8 * j));
  }
  if (rest != 0) {
    std::uint8_t c[4] = {0, 0, 0, 0};
    std::copy_n(codes + 4 * groups, rest, c);
    const std::uint32_t w = pack_fp6_quad(c);
    for (std::size_t j = 0; j < detail::packed_bytes_unchecked(rest, 6); ++j)
      out[3 * groups + j] = static_cast<std::uint8_t>(w >> (8 * j));
  }
}

/// Unpack n codes of `bits` bits (4, 6 or 8) from packed[0 .. packed_bytes(n, bits))
/// into codes_out[0 .. n). Throws std::invalid_argument on an unsupported width,
/// a null pointer with n > 0, or packed_size < packed_bytes(n, bits).
/// Padding bits are not checked.
///   pqt::unpack(buf.data(), buf.size(), n, 4, codes.data());
inline void unpack(const std::uint8_t* packed, std::size_t packed_size, std::size_t n, int bits,
                   std::uint8_t* codes_out) {
  const std::size_t need = packed_bytes(n, bits);
  if (n == 0) return;
  if (packed == nullptr || codes_out == nullptr)
    throw std::invalid_argument("pqt::unpack: null pointer with n > 0");
  if (packed_size < need)
    throw std::invalid_argument("pqt::unpack: input has " + std::to_string(packed_size) + " bytes, " +
                                std::to_string(need) + " needed");
  if (bits == 8) {
    std::copy_n(packed, n, codes_out);
    return;
  }
  if (bits == 4) {
    for (std::size_t i = 0; i < n; i += 2) {
      std::uint8_t c[2];
      unpack_fp4_pair(packed[i / 2], c);
      std::copy_n(c, std::min<std::size_t>(2, n - i), codes_out + i);
    }
    return;
  }
  // bits == 6: a partial last group reads only the bytes it was given.
  for (std::size_t i = 0; i < n; i += 4) {
    const std::size_t r = std::min<std::size_t>(4, n - i), base = i / 4 * 3;
    std::uint32_t w = 0;
    for (std::size_t j = 0; j < detail::packed_bytes_unchecked(r, 6); ++j)
      w |= static_cast<std::uint32_t>(packed[base + j]) << (8 * j);
    std::uint8_t c[4];
    unpack_fp6_quad(w, c);
    std::copy_n(c, r, codes_out + i);
  }
}

namespace detail {
template <class Fmt>
constexpr int pack_bits() {
  static_assert(is_format<Fmt>::value, "pqt::pack: Fmt must be a pqt::format<> or pqt::minifloat<>");
  constexpr int b = Fmt::format_type::total_bits;
  static_assert(b == 4 || b == 6 || b == 8,
                "pqt::pack/unpack: only 4-bit (FP4), 6-bit (FP6) and 8-bit (FP8) formats pack");
  return b;
}
}  // namespace detail

/// pack() with the width taken from Fmt::total_bits (4, 6 or 8; others fail to compile).
///   pqt::pack<pqt::fmt::e3m2>(codes, n, out, out_size);
template <class Fmt>
void pack(const std::uint8_t* codes, std::size_t n, std::uint8_t* out, std::size_t out_size) {
  pack(codes, n, detail::pack_bits<Fmt>(), out, out_size);
}

/// unpack() with the width taken from Fmt::total_bits (4, 6 or 8; others fail to compile).
///   pqt::unpack<pqt::fmt::e2m1>(buf, buf_size, n, codes_out);
template <class Fmt>
void unpack(const std::uint8_t* packed, std::size_t packed_size, std::size_t n, std::uint8_t* codes_out) {
  unpack(packed, packed_size, n, detail::pack_bits<Fmt>(), codes_out);
}

}  // namespace pqt
