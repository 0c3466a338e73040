// pqt_codes: bulk encode/decode through pqt::format_desc, and MX block
// quantization through the tensor API, for the Python differential tests
// (test_ml_dtypes.py, test_gfloat_mx.py). Files are raw little-endian arrays.
//
//   pqt_codes encode FORMAT ROUNDING OVERFLOW IN.f32 OUT.u32 [FORMAT OPTIONS]
//       each float32 of IN -> its code in FORMAT, written as a uint32
//   pqt_codes decode FORMAT OUT.f32 [FORMAT OPTIONS]
//       the value of every code 0 .. 2^bits - 1 (formats of at most 16 bits), as float32
//   pqt_codes mx FORMAT IN.f32 SCALES.u8 VALUES.f32 [CODES.u32] [--e8m0 RULE]
//       pqt::quantize of IN under pqt::quant_config::mx(format_desc::parse(FORMAT))
//       (blocks of 32, the last one partial; nearest_even, saturate): the e8m0
//       scale codes, one byte per block; dequantize's float32 values; and, when
//       CODES.u32 is given, the unpacked element codes as uint32. RULE is the
//       e8m0 rule: floor (default, OCP MX v1.0), ceil, nearest_even, rceil.
//       Also checks that fake_quant (serial) gives the same bits as
//       dequantize(quantize) (OpenMP threads when built with them): exit 1 if not.
//
// FORMAT is a named format or eXmY; FORMAT OPTIONS, as in the `pqt` tool:
//   --encoding ieee|fn|fnuz|finite|scale   (the default bias follows it)
//   --bias B
//   --unsigned
// ROUNDING: nearest_even, nearest_away, toward_zero, upward, downward, odd
// (and the aliases of pqt::parse_rounding); stochastic and gaussian need random
// input and are refused. OVERFLOW: saturate or nonsaturating.
// Exit status: 0 on success, 1 on an I/O error, 2 on bad usage.
//
// PQT_OPTIMIZE: ~10^7 conversions per test run, so -O2 even in Debug trees.
// PQT_USES_OPENMP: the mx command's quantize runs on OpenMP threads where available.
// PQT_USES_TENSOR_LIB (CMake marker: the tensor API comes from pqt::tensor, compiled once per tree)

#include <pqt/fake_quant.hpp>
#include <pqt/pack.hpp>
#include <pqt/runtime.hpp>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace {

struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct io_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr const char* usage_text =
    "usage: pqt_codes encode FORMAT ROUNDING OVERFLOW IN.f32 OUT.u32 [--encoding ENC] [--bias B] [--unsigned]\n"
    "       pqt_codes decode FORMAT OUT.f32 [--encoding ENC] [--bias B] [--unsigned]\n"
    "       pqt_codes mx FORMAT IN.f32 SCALES.u8 VALUES.f32 [CODES.u32] [--e8m0 floor|ceil|nearest_even|rceil]\n"
    "ROUNDING: nearest_even, nearest_away, toward_zero, upward, downward, odd\n"
    "OVERFLOW: saturate, nonsaturating\n"
    "Files are little-endian float32 / uint32 arrays; decode writes every code's value\n"
    "(formats of at most 16 bits); mx writes one e8m0 scale byte per block of 32.\n";

struct format_options {
  std::optional<pqt::encoding> enc;
  std::optional<int> bias;
  bool is_unsigned = false;
};

pqt::encoding parse_encoding(const std::string& s) {
  try {
    return pqt::parse_encoding(s);
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }
}

int parse_bias(const std::string& s) {
  int v = 0;
  const char* first = s.data();
  const char* last = s.data() + s.size();
  const auto [end, ec] = std::from_chars(first, last, v);
  if (first == last || ec != std::errc{} || end != last || v < -1000 || v > 1000)
    throw usage_error("--bias must be an integer in -1000..1000, got '" + s + "'");
  return v;
}

/// Consumes the format options in args[from..]; anything else is an error.
format_options parse_format_options(const std::vector<std::string>& args, std::size_t from) {
  format_options o;
  for (std::size_t i = from; i < args.size(); ++i) {
    const std::string& a = args[i];
    const auto value = [&](const char* name) -> std::string {
      if (i + 1 >= args.size()) throw usage_error(std::string(name) + " needs a value");
      return args[++i];
    };
    if (a == "--encoding") {
      o.enc = parse_encoding(value("--encoding"));
    } else if (a == "--bias") {
      o.bias = parse_bias(value("--bias"));
    } else if (a == "--unsigned") {
      o.is_unsigned = true;
    } else {
      throw usage_error("unexpected argument '" + a + "'; valid options: --encoding ENC, --bias B, --unsigned");
    }
  }
  return o;
}

/// Named format or eXmY, changed by the options (format_desc::parse, as the `pqt` tool).
pqt::format_desc make_format(const std::string& name, const format_options& o) {
  try {
    return pqt::format_desc::parse(name, {o.enc, o.bias, o.is_unsigned});
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }
}

pqt::rounding parse_mode(const std::string& s) {
  pqt::rounding r;
  try {
    r = pqt::parse_rounding(s);
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }
  if (r == pqt::rounding::stochastic || r == pqt::rounding::gaussian)
    throw usage_error(std::string(pqt::to_string(r)) +
                      " rounding needs random input, which pqt_codes does not take; use a deterministic mode");
  return r;
}

pqt::overflow parse_overflow(const std::string& s) {
  if (s == "saturate") return pqt::overflow::saturate;
  if (s == "nonsaturating") return pqt::overflow::nonsaturating;
  throw usage_error("unknown overflow policy '" + s + "'; valid: saturate, nonsaturating");
}

std::vector<unsigned char> read_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw io_error("cannot open '" + path + "' for reading: " + std::strerror(errno));
  std::vector<unsigned char> data;
  unsigned char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) data.insert(data.end(), buf, buf + n);
  const bool bad = std::ferror(f) != 0;
  std::fclose(f);
  if (bad) throw io_error("error reading '" + path + "'");
  return data;
}

void write_file(const std::string& path, const std::vector<unsigned char>& data) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw io_error("cannot open '" + path + "' for writing: " + std::strerror(errno));
  const bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
  if (std::fclose(f) != 0 || !ok) throw io_error("error writing '" + path + "'");
}

// Explicit little-endian (de)serialisation: independent of the host's byte order.
std::uint32_t load_le32(const unsigned char* p) {
  return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24;
}
void store_le32(unsigned char* p, std::uint32_t v) {
  p[0] = static_cast<unsigned char>(v);
  p[1] = static_cast<unsigned char>(v >> 8);
  p[2] = static_cast<unsigned char>(v >> 16);
  p[3] = static_cast<unsigned char>(v >> 24);
}
float bits_to_float(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
std::uint32_t float_to_bits(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

int cmd_encode(const std::vector<std::string>& args) {
  if (args.size() < 6) throw usage_error("encode needs FORMAT ROUNDING OVERFLOW IN.f32 OUT.u32");
  const pqt::format_desc f = make_format(args[1], parse_format_options(args, 6));
  const pqt::rounding r = parse_mode(args[2]);
  const pqt::overflow o = parse_overflow(args[3]);
  const std::vector<unsigned char> in = read_file(args[4]);
  if (in.size() % 4 != 0) throw io_error("'" + args[4] + "' is not a whole number of float32 values");
  std::vector<unsigned char> out(in.size());
  for (std::size_t i = 0; i < in.size(); i += 4)
    store_le32(&out[i], f.encode(bits_to_float(load_le32(&in[i])), r, o));
  write_file(args[5], out);
  return 0;
}

int cmd_decode(const std::vector<std::string>& args) {
  if (args.size() < 3) throw usage_error("decode needs FORMAT OUT.f32");
  const pqt::format_desc f = make_format(args[1], parse_format_options(args, 3));
  if (f.total_bits() > 16)
    throw usage_error("decode writes every code: " + f.name() + " has " + std::to_string(f.total_bits()) +
                      " bits, at most 16 allowed");
  const std::uint64_t n = f.code_count();
  std::vector<unsigned char> out(n * 4);
  for (std::uint64_t c = 0; c < n; ++c)
    store_le32(&out[c * 4], float_to_bits(f.decode(static_cast<std::uint32_t>(c))));
  write_file(args[2], out);
  return 0;
}

pqt::e8m0_rounding parse_e8m0_rule(const std::string& s) {
  if (s == "floor") return pqt::e8m0_rounding::floor;
  if (s == "ceil") return pqt::e8m0_rounding::ceil;
  if (s == "nearest_even") return pqt::e8m0_rounding::nearest_even;
  if (s == "rceil") return pqt::e8m0_rounding::rceil;
  throw usage_error("unknown e8m0 rule '" + s + "'; valid: floor, ceil, nearest_even, rceil");
}

/// Bitwise equal, or both NaN (a NaN scale decodes every element to NaN).
bool same_float(float a, float b) { return float_to_bits(a) == float_to_bits(b) || (a != a && b != b); }

int cmd_mx(const std::vector<std::string>& args) {
  if (args.size() < 5) throw usage_error("mx needs FORMAT IN.f32 SCALES.u8 VALUES.f32");
  const pqt::format_desc f = make_format(args[1], format_options{});
  std::string codes_path;
  pqt::e8m0_rounding rule = pqt::e8m0_rounding::floor;
  for (std::size_t i = 5; i < args.size(); ++i) {
    if (args[i] == "--e8m0") {
      if (i + 1 >= args.size()) throw usage_error("--e8m0 needs a value");
      rule = parse_e8m0_rule(args[++i]);
    } else if (codes_path.empty() && args[i].rfind("--", 0) != 0) {
      codes_path = args[i];
    } else {
      throw usage_error("unexpected argument '" + args[i] + "'; valid: CODES.u32, --e8m0 RULE");
    }
  }
  pqt::quant_config cfg = pqt::quant_config::mx(f);
  cfg.round = pqt::rounding::nearest_even;
  cfg.over = pqt::overflow::saturate;
  cfg.e8m0_rule = rule;
  try {
    (void)pqt::scale_count(0, cfg);  // rejects e8m0 as an element format
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }

  const std::vector<unsigned char> in = read_file(args[2]);
  if (in.size() % 4 != 0) throw io_error("'" + args[2] + "' is not a whole number of float32 values");
  const std::size_t n = in.size() / 4;
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = bits_to_float(load_le32(&in[4 * i]));

  pqt::quantized q;
  pqt::quantize(x.data(), n, cfg, q);  // cfg.threads = 0: OpenMP's default
  std::vector<float> deq(n), fq(n);
  pqt::dequantize(q, cfg, deq.data(), n);
  pqt::quant_config serial = cfg;
  serial.threads = 1;
  pqt::fake_quant(x.data(), fq.data(), n, serial);
  for (std::size_t i = 0; i < n; ++i)
    if (!same_float(deq[i], fq[i]))
      throw std::runtime_error("element " + std::to_string(i) + ": dequantize(quantize) gives bits " +
                               std::to_string(float_to_bits(deq[i])) + ", fake_quant " +
                               std::to_string(float_to_bits(fq[i])));

  write_file(args[3], std::vector<unsigned char>(q.scales.begin(), q.scales.end()));
  std::vector<unsigned char> out(4 * n);
  for (std::size_t i = 0; i < n; ++i) store_le32(&out[4 * i], float_to_bits(deq[i]));
  write_file(args[4], out);
  if (!codes_path.empty()) {
    const int bits = f.total_bits(), bytes = f.storage_bytes();
    std::vector<std::uint32_t> codes(n);
    if (bits == 4 || bits == 6 || bits == 8) {
      std::vector<std::uint8_t> c8(n);
      pqt::unpack(q.codes.data(), q.codes.size(), n, bits, c8.data());
      for (std::size_t i = 0; i < n; ++i) codes[i] = c8[i];
    } else {  // little-endian storage words
      for (std::size_t i = 0; i < n; ++i)
        for (int k = 0; k < bytes; ++k)
          codes[i] |= std::uint32_t{q.codes[i * static_cast<std::size_t>(bytes) + static_cast<std::size_t>(k)]}
                      << (8 * k);
    }
    for (std::size_t i = 0; i < n; ++i) store_le32(&out[4 * i], codes[i]);
    write_file(codes_path, out);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty()) throw usage_error("no command");
    if (args[0] == "encode") return cmd_encode(args);
    if (args[0] == "decode") return cmd_decode(args);
    if (args[0] == "mx") return cmd_mx(args);
    if (args[0] == "help" || args[0] == "--help") {
      std::fputs(usage_text, stdout);
      return 0;
    }
    throw usage_error("unknown command '" + args[0] + "'; valid: encode, decode, mx, help");
  } catch (const usage_error& e) {
    std::fprintf(stderr, "pqt_codes: %s\n%s", e.what(), usage_text);
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "pqt_codes: %s\n", e.what());
    return 1;
  }
}
