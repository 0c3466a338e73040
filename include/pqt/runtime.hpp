#pragma once
/// format_desc: a format chosen at run time, with exactly the bits of the
/// compile-time path for the same format and mode (both call the same routine).
///   pqt::format_desc f = pqt::format_desc::parse("e4m3");
///   std::uint32_t b = f.encode(1.3f, pqt::rounding::toward_zero, pqt::overflow::saturate);
///   pqt::format_desc g{3, 4, pqt::encoding::fnuz};   // throws if it cannot exist

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "convert.hpp"
#include "noise.hpp"
#include "format.hpp"
#include "rounding.hpp"

namespace pqt {

/// Changes to a named or eXmY format (the CLI's --encoding, --bias, --unsigned;
/// is_signed rebuilds an unsigned named format, e8m0, as signed). A new
/// encoding brings its own default bias unless bias is given.
struct format_modifiers {
  std::optional<encoding> enc;
  std::optional<int> bias;
  bool is_unsigned = false;
  bool is_signed = false;
  bool any() const { return enc || bias || is_unsigned || is_signed; }
};

class format_desc {
 public:
  /// Validates; throws std::invalid_argument saying why a format cannot exist.
  explicit format_desc(int e, int m, encoding enc = encoding::ieee, int bias = default_bias,
                       bool is_signed = true)
      : f_{e, m, enc, bias == default_bias && e >= 1 && e <= 30 ? detail::default_bias_for(e, enc) : bias,
           is_signed} {
    if (const char* why = f_.invalid_reason())
      throw std::invalid_argument("pqt::format_desc: E" + std::to_string(e) + "M" + std::to_string(m) +
                                  " " + to_string(enc) + (is_signed ? "" : " unsigned") + ": " + why);
  }

  /// The descriptor of a compile-time format (or minifloat).
  template <class Fmt>
  static format_desc of() {
    using F = typename Fmt::format_type;
    return format_desc(F::exponent_bits, F::mantissa_bits, F::enc, F::bias, F::is_signed);
  }

  /// Named formats (README "Formats") and "eXmY" (IEEE encoding, default bias).
  /// Throws std::invalid_argument listing the valid names on failure.
  static format_desc parse(std::string_view name);
  /// parse, then the modifiers: the format is rebuilt from its E and M (an
  /// eXmY name is never first built as IEEE, which may not exist where the
  /// modified format does, e.g. e1m0 finite).
  ///   auto f = pqt::format_desc::parse("e3m4", {pqt::encoding::fnuz, 5, false});
  static format_desc parse(std::string_view name, const format_modifiers& mod);

  int exponent_bits() const { return f_.e; }
  int mantissa_bits() const { return f_.m; }
  encoding enc() const { return f_.enc; }
  int bias() const { return f_.bias; }
  bool is_signed() const { return f_.is_signed; }
  int total_bits() const { return f_.total_bits(); }
  /// Bytes of the storage type: 1, 2 or 4.
  int storage_bytes() const { return total_bits() <= 8 ? 1 : total_bits() <= 16 ? 2 : 4; }
  const detail::format_facts& facts() const { return f_; }

  bool has_inf() const { return f_.has_inf(); }
  bool has_nan() const { return f_.has_nan(); }
  bool has_zero() const { return f_.has_zero(); }
  bool has_negative_zero() const { return f_.has_negative_zero(); }
  bool has_subnormals() const { return f_.has_subnormals(); }
  int emin() const { return f_.emin(); }
  int emax() const { return f_.emax(); }
  std::uint32_t max_code() const { return f_.max_mag_code(); }
  std::uint32_t lowest_code() const { return f_.is_signed ? f_.max_mag_code() | f_.sign_mask() : 0u; }
  std::uint32_t nan_code() const { return f_.nan_code(); }
  std::uint32_t inf_code() const { return f_.inf_code(); }
  std::uint32_t sign_mask() const { return f_.sign_mask(); }
  float max() const { return decode(max_code()); }
  float lowest() const { return decode(lowest_code()); }
  float min_normal() const { return detail::exp2f_exact(f_.emin()); }
  float min_subnormal() const { return detail::exp2f_exact(f_.emin_value()); }
  float epsilon() const { return detail::exp2f_exact(-f_.m); }
  std::uint64_t finite_codes() const {
    return (std::uint64_t{f_.max_mag_code()} + 1) * (f_.is_signed ? 2 : 1) - (f_.enc == encoding::fnuz ? 1 : 0);
  }
  std::uint64_t finite_values() const { return finite_codes() - (f_.has_negative_zero() ? 1 : 0); }
  /// Number of codes (2^total_bits).
  std::uint64_t code_count() const { return std::uint64_t{1} << total_bits(); }

  /// Encode with a run-time rounding mode; k (1..32) random bits for stochastic.
  std::uint32_t encode(float x, rounding r = rounding::nearest_even, overflow o = overflow::nonsaturating,
                       std::uint32_t random_bits = 0, int k = 32) const {
    check(r, k);
    return detail::encode_float(f_, x, r, o, random_bits, k);
  }
  std::uint32_t encode(double x, rounding r = rounding::nearest_even, overflow o = overflow::nonsaturating,
                       std::uint32_t random_bits = 0, int k = 32) const {
    check(r, k);
    return detail::encode_double(f_, x, r, o, random_bits, k);
  }
  /// Gaussian rounding (noise.hpp): RNE(x + sigma * g * ulp(x)) with g
  /// from the two words; the same bits as pqt::gaussian_round<Fmt>.
  std::uint32_t gaussian_round(float x, float sigma, word_pair w, overflow o = overflow::saturate) const {
    return detail::gaussian_round_facts(f_, x, sigma, w, o);
  }

  /// Exact value of a code; throws if the code has bits beyond the format's width.
  float decode(std::uint32_t code) const {
    if (total_bits() < 32 && (code >> total_bits()) != 0)
      throw std::invalid_argument("pqt::format_desc::decode: code wider than " + std::to_string(total_bits()) +
                                  " bits");
    return detail::decode_facts(f_, code);
  }

  /// "e4m3"-style name for named formats, else "eXmY[ encoding][ bias B][ unsigned]"
  /// (the encoding also when a bare eXmY would name another format); parse(name()) == *this.
  std::string name() const;

  friend bool operator==(const format_desc& a, const format_desc& b) {
    return a.f_.e == b.f_.e && a.f_.m == b.f_.m && a.f_.enc == b.f_.enc && a.f_.bias == b.f_.bias &&
           a.f_.is_signed == b.f_.is_signed;
  }
  friend bool operator!=(const format_desc& a, const format_desc& b) { return !(a == b); }

 private:
  static bool parse_int(std::string_view s, int& out) {
    if (s.empty() || s.size() > 3 || (s.size() > 1 && s[0] == '0')) return false;  // no leading zeros: one spelling
    int v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    out = v;
    return true;
  }
  static void check(rounding r, int k) {
    if (r == rounding::gaussian)
      throw std::invalid_argument("pqt::format_desc::encode: gaussian rounding needs a noise sample: use format_desc::gaussian_round");
    if (static_cast<int>(r) < 0 || static_cast<int>(r) >= rounding_count)
      throw std::invalid_argument("pqt::format_desc::encode: invalid rounding mode");
    if (k < 1 || k > 32)
      throw std::invalid_argument("pqt::format_desc::encode: stochastic rounding uses 1..32 random bits, got " +
                                  std::to_string(k));
  }

  detail::format_facts f_;
};

/// A named format and its descriptor.
struct named_format {
  const char* name;
  format_desc desc;
};

/// Every named format, in README order.
inline const std::vector<named_format>& named_formats() {
  static const std::vector<named_format> v = {
      {"e4m3", format_desc::of<fmt::e4m3>()},         {"e5m2", format_desc::of<fmt::e5m2>()},
      {"e4m3fnuz", format_desc::of<fmt::e4m3fnuz>()}, {"e5m2fnuz", format_desc::of<fmt::e5m2fnuz>()},
      {"e3m2", format_desc::of<fmt::e3m2>()},         {"e2m3", format_desc::of<fmt::e2m3>()},
      {"e2m1", format_desc::of<fmt::e2m1>()},         {"ue4m3", format_desc::of<fmt::ue4m3>()},
      {"e8m0", format_desc::of<fmt::e8m0>()},         {"bf16", format_desc::of<fmt::bf16>()},
      {"fp16", format_desc::of<fmt::fp16>()},         {"fp32", format_desc::of<fmt::fp32>()},
  };
  return v;
}

encoding parse_encoding(std::string_view s);

inline format_desc format_desc::parse(std::string_view name) {
  // "NAME ENCODING bias B unsigned|signed" (each part after NAME optional):
  // what name() writes for a format that is not a bare named or eXmY one.
  if (const auto sp = name.find(' '); sp != std::string_view::npos) {
    format_modifiers mod;
    std::string_view rest = name.substr(sp + 1);
    auto bad = [&]() -> format_desc {
      throw std::invalid_argument("unknown format '" + std::string(name) +
                                  "'; after the name: an encoding, 'bias B', 'unsigned' or 'signed', separated by one space");
    };
    auto take = [&]() {  // the next space-separated word
      const auto next = rest.find(' ');
      const std::string_view word = rest.substr(0, next);
      rest = next == std::string_view::npos ? std::string_view{} : rest.substr(next + 1);
      return word;
    };
    while (!rest.empty()) {
      const std::string_view tok = take();
      const bool sign_given = mod.is_unsigned || mod.is_signed;
      if (tok == "unsigned" && !sign_given) {
        mod.is_unsigned = true;
      } else if (tok == "signed" && !sign_given) {
        mod.is_signed = true;
      } else if (tok == "bias" && !mod.bias) {
        const std::string_view num = take();
        int v = 0;
        const bool neg = !num.empty() && num[0] == '-';
        if (!parse_int(neg ? num.substr(1) : num, v)) bad();
        mod.bias = neg ? -v : v;
      } else if (!mod.any()) {
        try {
          mod.enc = parse_encoding(tok);
        } catch (const std::invalid_argument&) {
          bad();
        }
      } else {
        bad();
      }
    }
    if (!mod.any()) bad();
    return parse(name.substr(0, sp), mod);
  }
  for (const auto& n : named_formats())
    if (n.name == name) return n.desc;
  // eXmY, e.g. e3m4, e8m3, e5m10
  const auto mpos = name.find('m');
  if (name.size() >= 4 && name[0] == 'e' && mpos != std::string_view::npos && mpos > 1) {
    int e = 0, m = 0;
    if (parse_int(name.substr(1, mpos - 1), e) && parse_int(name.substr(mpos + 1), m)) return format_desc(e, m);
  }
  std::string valid;
  for (const auto& n : named_formats()) valid += (valid.empty() ? "" : ", ") + std::string(n.name);
  throw std::invalid_argument("unknown format '" + std::string(name) + "'; valid: " + valid +
                              ", or eXmY (E in 1..8, M in 0..23)");
}

inline format_desc format_desc::parse(std::string_view name, const format_modifiers& mod) {
  if (!mod.any()) return parse(name);
  int e = 0, m = 0, bias = default_bias;
  encoding enc = encoding::ieee;
  bool is_signed = true, known = false;
  for (const auto& n : named_formats())
    if (n.name == name) {
      e = n.desc.exponent_bits(), m = n.desc.mantissa_bits(), enc = n.desc.enc();
      bias = n.desc.bias(), is_signed = n.desc.is_signed(), known = true;
    }
  const auto mpos = name.find('m');
  if (!known && !(name.size() >= 4 && name[0] == 'e' && mpos != std::string_view::npos && mpos > 1 &&
                  parse_int(name.substr(1, mpos - 1), e) && parse_int(name.substr(mpos + 1), m)))
    return parse(name);  // throws, listing the valid names
  if (mod.enc) bias = default_bias;
  return format_desc(e, m, mod.enc.value_or(enc), mod.bias.value_or(bias), (is_signed || mod.is_signed) && !mod.is_unsigned);
}

inline std::string format_desc::name() const {
  for (const auto& n : named_formats())
    if (n.desc == *this) return n.name;
  std::string s = "e" + std::to_string(f_.e) + "m" + std::to_string(f_.m);
  // A bare "eXmY" that is also a named format (e4m3, e3m2, e2m3, e2m1, e8m0)
  // would parse as that format: the encoding is spelled out then, ieee too.
  const named_format* named = nullptr;
  for (const auto& n : named_formats())
    if (s == n.name) named = &n;
  if (f_.enc != encoding::ieee || named) s += std::string(" ") + to_string(f_.enc);
  if (f_.bias != detail::default_bias_for(f_.e, f_.enc)) s += " bias " + std::to_string(f_.bias);
  if (!f_.is_signed) s += " unsigned";
  if (f_.is_signed && named && !named->desc.is_signed()) s += " signed";  // e8m0 is unsigned
  return s;
}

/// Parse an encoding name ("ieee", "fn", "fnuz", "finite", "scale"); throws
/// std::invalid_argument listing the valid names.
inline encoding parse_encoding(std::string_view s) {
  constexpr encoding all[] = {encoding::ieee, encoding::fn, encoding::fnuz, encoding::finite, encoding::scale};
  std::string valid;
  for (encoding e : all) {
    if (s == to_string(e)) return e;
    valid += (valid.empty() ? "" : ", ") + std::string(to_string(e));
  }
  throw std::invalid_argument("unknown encoding '" + std::string(s) + "'; valid: " + valid);
}

/// Parse a rounding-mode name ("nearest_even", "rne", "stochastic", ...);
/// throws std::invalid_argument listing the valid names.
inline rounding parse_rounding(std::string_view s) {
  for (int i = 0; i < rounding_count; ++i)
    if (s == to_string(static_cast<rounding>(i))) return static_cast<rounding>(i);
  if (s == "rne") return rounding::nearest_even;
  if (s == "rz" || s == "truncate") return rounding::toward_zero;
  if (s == "sr") return rounding::stochastic;
  std::string valid;
  for (int i = 0; i < rounding_count; ++i) valid += std::string(i ? ", " : "") + to_string(static_cast<rounding>(i));
  throw std::invalid_argument("unknown rounding mode '" + std::string(s) + "'; valid: " + valid +
                              " (aliases: rne, rz, truncate, sr)");
}

}  // namespace pqt
