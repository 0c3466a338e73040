// pqt: the command-line view of pqt's formats -- facts, code tables, casts.
//   pqt info e4m3
//   pqt table e2m1
//   pqt cast e4m3 --round stochastic --random-word 0x9e3779b9 --random-bits 8 0.3
//
// Everything goes through pqt::format_desc, so any format the library accepts
// works here, with exactly the bits of the compile-time path. Exit status: 0 on
// success, 2 for any usage error (message on stderr).

#include <pqt/noise.hpp>
#include <pqt/random.hpp>
#include <pqt/runtime.hpp>
#include <pqt/version.hpp>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

/// A mistake on the command line: printed to stderr, exit status 2.
struct usage_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr int exit_usage = 2;

constexpr const char* usage_text =
    R"(usage: pqt COMMAND [ARGS] [OPTIONS]

commands:
  info FORMAT            every fact of a format, one "key: value" per line
  table FORMAT           every code and its value (formats of at most 8 bits)
  cast FORMAT VALUE...   encode each VALUE, printed as "VALUE -> 0xCODE  DECODED";
                         VALUE is read as a double: 1.5, -3e-2, 0x1.8p3, inf, nan
  noise --seed S --count N
                         GaussWS R samples (-3..3) from Philox words, and their
                         frequencies next to the table's and Phi(2k+1)-Phi(2k-1)
  formats                the named formats
  version                pqt's version
  help                   this text

FORMAT is a named format (see `pqt formats`) or eXmY (E in 1..8, M in 0..23,
IEEE encoding), changed by:
  --encoding ENC         ieee, fn, fnuz, finite or scale (the default bias follows it)
  --bias B               exponent bias (default 2^(E-1) for fnuz, else 2^(E-1) - 1)
  --unsigned             no sign bit

cast options:
  --round MODE           nearest_even (default), nearest_away, toward_zero, upward,
                         downward, odd, stochastic, gaussian (aliases rne, rz, truncate, sr)
  --saturate             out-of-range results become +-max (default: +-Inf, or NaN
                         where the format has no Inf)
  --random-word R        stochastic: the caller's 32-bit random word (decimal or 0x hex)
  --random-bits N        stochastic: use the low N bits of the word, 1..32 (default 32)
  --seed S               stochastic/gaussian: draw words from Philox with this 64-bit seed;
                         the i-th VALUE is element I+i of the stream (random.hpp's mapping)
  --offset O             the stream's offset (default 0; noise too)
  --index I              the first VALUE's element index (default 0; noise too)
  --sigma SIGMA          gaussian: noise scale in ulps (default 0.5); VALUE is rounded to
                         float first, as gaussian rounding takes float input

Values are printed in the shortest form that reads back as the same float.
Options may also be written --name=value.
)";

// ---- Options -----------------------------------------------------------------
// One table drives parsing, validation and the "valid options" messages, so a
// new option (e.g. --seed/--offset/--index for Philox words) is one row here
// plus its use in the command.

enum command : unsigned { cmd_info = 1, cmd_table = 2, cmd_cast = 4, cmd_noise = 8 };
constexpr unsigned cmd_format = cmd_info | cmd_table | cmd_cast;

struct options {
  std::optional<pqt::encoding> enc;  // format modifiers
  std::optional<int> bias;
  bool is_unsigned = false;
  pqt::rounding round = pqt::rounding::nearest_even;  // cast
  pqt::overflow over = pqt::overflow::nonsaturating;
  std::optional<std::uint32_t> random_word;
  std::optional<int> random_bits;
  std::optional<std::uint64_t> seed;  // Philox words for stochastic / gaussian (random.hpp)
  std::optional<std::uint64_t> offset;
  std::optional<std::uint64_t> index;
  std::optional<float> sigma;
  std::optional<std::uint64_t> count;  // noise
};

/// Integer in [lo, hi], decimal (optionally negative) or 0x hex; whole string.
long long parse_integer(const std::string& s, long long lo, long long hi, const char* what) {
  const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  const char* first = s.data() + (hex ? 2 : 0);
  const char* last = s.data() + s.size();
  long long v = 0;
  const auto [end, ec] = std::from_chars(first, last, v, hex ? 16 : 10);
  if (ec != std::errc{} || end != last || first == last || v < lo || v > hi)
    throw usage_error(std::string(what) + " must be an integer in " + std::to_string(lo) + ".." +
                      std::to_string(hi) + ", got '" + s + "'");
  return v;
}

/// Unsigned 64-bit integer, decimal or 0x hex; whole string.
std::uint64_t parse_u64(const std::string& s, const char* what) {
  const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  const char* first = s.data() + (hex ? 2 : 0);
  const char* last = s.data() + s.size();
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(first, last, v, hex ? 16 : 10);
  if (ec != std::errc{} || end != last || first == last)
    throw usage_error(std::string(what) + " must be an unsigned 64-bit integer (decimal or 0x hex), got '" + s + "'");
  return v;
}

pqt::encoding parse_encoding(const std::string& s) {
  try {
    return pqt::parse_encoding(s);
  } catch (const std::invalid_argument& e) {
    throw usage_error(e.what());
  }
}

pqt::rounding parse_mode(const std::string& s) {
  std::string valid;
  for (int i = 0; i < pqt::rounding_count; ++i)
    valid += (valid.empty() ? "" : ", ") + std::string(pqt::to_string(static_cast<pqt::rounding>(i)));
  valid += " (aliases rne, rz, truncate, sr)";
  try {
    return pqt::parse_rounding(s);
  } catch (const std::invalid_argument&) {
    throw usage_error("unknown rounding mode '" + s + "'; valid: " + valid);
  }
}

struct option_spec {
  const char* name;     // "--round"
  const char* metavar;  // nullptr for a flag
  unsigned commands;    // where it is accepted
  void (*apply)(options&, const std::string&);
};

constexpr option_spec option_table[] = {
    {"--encoding", "ENC", cmd_format, [](options& o, const std::string& v) { o.enc = parse_encoding(v); }},
    {"--bias", "B", cmd_format,
     [](options& o, const std::string& v) { o.bias = static_cast<int>(parse_integer(v, -1000, 1000, "--bias")); }},
    {"--unsigned", nullptr, cmd_format, [](options& o, const std::string&) { o.is_unsigned = true; }},
    {"--round", "MODE", cmd_cast, [](options& o, const std::string& v) { o.round = parse_mode(v); }},
    {"--saturate", nullptr, cmd_cast, [](options& o, const std::string&) { o.over = pqt::overflow::saturate; }},
    {"--random-word", "R", cmd_cast,
     [](options& o, const std::string& v) {
       o.random_word = static_cast<std::uint32_t>(parse_integer(v, 0, 0xFFFFFFFFLL, "--random-word"));
     }},
    {"--random-bits", "N", cmd_cast,
     [](options& o, const std::string& v) { o.random_bits = static_cast<int>(parse_integer(v, 1, 32, "--random-bits")); }},
    {"--seed", "S", cmd_cast | cmd_noise, [](options& o, const std::string& v) { o.seed = parse_u64(v, "--seed"); }},
    {"--offset", "O", cmd_cast | cmd_noise,
     [](options& o, const std::string& v) { o.offset = parse_u64(v, "--offset"); }},
    {"--index", "I", cmd_cast | cmd_noise, [](options& o, const std::string& v) { o.index = parse_u64(v, "--index"); }},
    {"--sigma", "SIGMA", cmd_cast,
     [](options& o, const std::string& v) {
       char* end = nullptr;
       const float x = std::strtof(v.c_str(), &end);
       if (v.empty() || end != v.c_str() + v.size() || !(x >= 0) || !std::isfinite(x))
         throw usage_error("--sigma must be a finite number >= 0, got '" + v + "'");
       o.sigma = x;
     }},
    {"--count", "N", cmd_noise,
     [](options& o, const std::string& v) {
       o.count = static_cast<std::uint64_t>(parse_integer(v, 1, 1000000000LL, "--count"));
     }},
};

std::string valid_options(unsigned cmd) {
  std::string s;
  for (const option_spec& spec : option_table)
    if (spec.commands & cmd)
      s += (s.empty() ? "" : ", ") + std::string(spec.name) + (spec.metavar ? std::string(" ") + spec.metavar : "");
  return s;
}

/// Splits argv into options (applied to `opts`) and positional arguments.
/// Anything after "--", and anything not starting with "--" (so "-1.5"), is positional.
std::vector<std::string> parse_args(int argc, char** argv, const char* cmd_name, unsigned cmd, options& opts) {
  std::vector<std::string> positional;
  bool only_positional = false;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (only_positional || arg.size() < 2 || arg.compare(0, 2, "--") != 0) {
      positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    const std::size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const option_spec* spec = nullptr;
    for (const option_spec& s : option_table)
      if (name == s.name) spec = &s;
    if (!spec) throw usage_error("unknown option '" + name + "' for " + cmd_name + "; valid: " + valid_options(cmd));
    if (!(spec->commands & cmd))
      throw usage_error("option " + name + " does not apply to " + cmd_name + "; valid: " + valid_options(cmd));
    std::string value;
    if (spec->metavar) {
      if (eq != std::string::npos) value = arg.substr(eq + 1);
      else if (i + 1 < argc) value = argv[++i];
      else throw usage_error("option " + name + " needs a value (" + spec->metavar + ")");
    } else if (eq != std::string::npos) {
      throw usage_error("option " + name + " takes no value");
    }
    spec->apply(opts, value);
  }
  return positional;
}

// ---- Formatting --------------------------------------------------------------

/// Shortest decimal that reads back as the same float: 448, 0.001953125, 5.877472e-39.
std::string show(float v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

/// Code in hex, zero-padded to the format's width: 0x7e, 0x3dcd, 0xf.
std::string show_code(const pqt::format_desc& f, std::uint32_t code) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%0*x", (f.total_bits() + 3) / 4, static_cast<unsigned>(code));
  return buf;
}

pqt::format_desc make_format(const std::string& name, const options& o) {
  return pqt::format_desc::parse(name, {o.enc, o.bias, o.is_unsigned});
}

// ---- Commands ----------------------------------------------------------------

void print_info(const pqt::format_desc& f) {
  const auto yes = [](bool b) { return b ? "yes" : "no"; };
  const auto line = [](const char* key, const std::string& value) { std::printf("%s: %s\n", key, value.c_str()); };
  line("name", f.name());
  line("bits", std::to_string(f.total_bits()));
  line("exponent_bits", std::to_string(f.exponent_bits()));
  line("mantissa_bits", std::to_string(f.mantissa_bits()));
  line("encoding", pqt::to_string(f.enc()));
  line("bias", std::to_string(f.bias()));
  line("signed", yes(f.is_signed()));
  line("storage_bytes", std::to_string(f.storage_bytes()));
  line("max", show(f.max()));
  line("lowest", show(f.lowest()));
  line("min_normal", show(f.min_normal()));
  line("min_subnormal", show(f.min_subnormal()));
  line("epsilon", show(f.epsilon()));
  line("emin", std::to_string(f.emin()));
  line("emax", std::to_string(f.emax()));
  line("finite_codes", std::to_string(f.finite_codes()));
  line("finite_values", std::to_string(f.finite_values()));
  line("has_inf", yes(f.has_inf()));
  line("has_nan", yes(f.has_nan()));
  line("has_zero", yes(f.has_zero()));
  line("has_negative_zero", yes(f.has_negative_zero()));
  line("has_subnormals", yes(f.has_subnormals()));
  line("max_code", show_code(f, f.max_code()));
  line("lowest_code", show_code(f, f.lowest_code()));
  line("nan_code", f.has_nan() ? show_code(f, f.nan_code()) : "none");
  line("inf_code", f.has_inf() ? show_code(f, f.inf_code()) : "none");
}

void print_table(const pqt::format_desc& f) {
  if (f.total_bits() > 8)
    throw usage_error("table is for formats of at most 8 bits; " + f.name() + " has " +
                      std::to_string(f.total_bits()) + " (use `pqt cast " + f.name() + " VALUE...`)");
  std::printf("code  value\n");
  for (std::uint32_t c = 0; c < f.code_count(); ++c)
    std::printf("%s  %s\n", show_code(f, c).c_str(), show(f.decode(c)).c_str());
}

double parse_value(const std::string& s) {
  char* end = nullptr;
  const double x = std::strtod(s.c_str(), &end);  // ERANGE is fine: +-inf / tiny are the right inputs
  if (s.empty() || end != s.c_str() + s.size())
    throw usage_error("'" + s + "' is not a number (examples: 1.5, -3e-2, 0x1.8p3, inf, nan)");
  return x;
}

void cast(const pqt::format_desc& f, const options& o, const std::vector<std::string>& values) {
  const bool stochastic = o.round == pqt::rounding::stochastic;
  const bool gaussian = o.round == pqt::rounding::gaussian;
  if (o.random_word && o.seed)
    throw usage_error("give either --random-word R or --seed S (Philox words), not both");
  if (stochastic && !o.random_word && !o.seed)
    throw usage_error("--round stochastic needs --seed S (Philox words) or --random-word R (one 32-bit word)");
  if (gaussian && !o.seed) throw usage_error("--round gaussian needs --seed S (its noise comes from Philox words)");
  if (gaussian && (o.random_word || o.random_bits))
    throw usage_error("--random-word and --random-bits apply only to --round stochastic");
  if (!stochastic && !gaussian && (o.random_word || o.random_bits || o.seed || o.offset || o.index))
    throw usage_error("--seed/--offset/--index/--random-word/--random-bits apply only to stochastic or gaussian rounding");
  if (!gaussian && o.sigma) throw usage_error("--sigma applies only to --round gaussian");
  if (!o.seed && (o.offset || o.index)) throw usage_error("--offset and --index need --seed");
  std::vector<double> xs;  // parse everything first: a bad VALUE prints nothing
  for (const std::string& v : values) xs.push_back(parse_value(v));
  const std::uint64_t seed = o.seed.value_or(0), offset = o.offset.value_or(0), index0 = o.index.value_or(0);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    // The i-th VALUE is element index0 + i of the (seed, offset) stream.
    const std::uint64_t index = index0 + i;
    std::uint32_t code = 0;
    if (gaussian) {
      // Gaussian rounding takes float input: VALUE is rounded to float first.
      code = f.gaussian_round(static_cast<float>(xs[i]), o.sigma.value_or(0.5f),
                              pqt::random_words2(seed, offset, index), o.over);
    } else {
      const std::uint32_t word = o.random_word ? *o.random_word : pqt::random_word(seed, offset, index);
      code = f.encode(xs[i], o.round, o.over, stochastic ? word : 0u, o.random_bits.value_or(32));
    }
    std::printf("%s -> %s  %s\n", values[i].c_str(), show_code(f, code).c_str(), show(f.decode(code)).c_str());
  }
}

/// `pqt noise`: GaussWS R samples from Philox words and their frequencies
/// next to the table's exact probabilities and Phi(2k+1) - Phi(2k-1).
void noise(const options& o) {
  if (!o.seed || !o.count) throw usage_error("noise needs --seed S and --count N");
  const std::uint64_t n = *o.count, offset = o.offset.value_or(0), index0 = o.index.value_or(0);
  std::uint64_t counts[7] = {};
  const std::uint64_t shown = n < 32 ? n : 32;
  std::printf("samples (first %llu):", static_cast<unsigned long long>(shown));
  for (std::uint64_t i = 0; i < n; ++i) {
    const int r = pqt::gaussws_r(pqt::random_word(*o.seed, offset, index0 + i));
    ++counts[r + 3];
    if (i < shown) std::printf(" %d", r);
  }
  std::printf("\n%3s %12s %14s %14s %14s\n", "R", "count", "frequency", "table P", "Phi(2k+1)-Phi(2k-1)");
  const auto phi = [](double t) { return 0.5 * std::erfc(-t / std::sqrt(2.0)); };
  for (int k = -3; k <= 3; ++k) {
    // The table: R = -3 + #{j : word >= T_j}, so P(R = k) = (T_{k+4} - T_{k+3}) / 2^32.
    const double lo = k == -3 ? 0.0 : static_cast<double>(pqt::gaussws_r_threshold(k + 3));
    const double hi = k == 3 ? 0x1p32 : static_cast<double>(pqt::gaussws_r_threshold(k + 4));
    const double target = k == -3 ? phi(-5) : k == 3 ? 1 - phi(5) : phi(2 * k + 1) - phi(2 * k - 1);
    std::printf("%3d %12llu %14.9f %14.9f %14.9f\n", k, static_cast<unsigned long long>(counts[k + 3]),
                static_cast<double>(counts[k + 3]) / static_cast<double>(n), (hi - lo) * 0x1p-32, target);
  }
}

const char* describe(std::string_view name) {
  struct entry {
    const char* name;
    const char* text;
  };
  static constexpr entry table[] = {
      {"e4m3", "OCP FP8 E4M3 (\"e4m3fn\"): no Inf, NaN = S.1111.111"},
      {"e5m2", "OCP FP8 E5M2: IEEE Inf and NaN"},
      {"e4m3fnuz", "FP8 E4M3 FNUZ (bias 8): no Inf, no -0, NaN = 0x80"},
      {"e5m2fnuz", "FP8 E5M2 FNUZ (bias 16): no Inf, no -0, NaN = 0x80"},
      {"e3m2", "OCP MX FP6 E3M2: every code is a number"},
      {"e2m3", "OCP MX FP6 E2M3: every code is a number"},
      {"e2m1", "OCP MX FP4 E2M1: every code is a number"},
      {"ue4m3", "unsigned E4M3, the NVFP4 block scale"},
      {"e8m0", "OCP MX block scale: powers of two 2^-127..2^127, 0xff = NaN, no zero"},
      {"bf16", "bfloat16 (= e8m7)"},
      {"fp16", "IEEE binary16 (= e5m10)"},
      {"fp32", "IEEE binary32 (identity on float)"},
  };
  for (const entry& e : table)
    if (name == e.name) return e.text;
  return "";
}

void list_formats() {
  for (const pqt::named_format& n : pqt::named_formats())
    std::printf("%-9s %2d bits  %-6s  max %-13s  %s\n", n.name, n.desc.total_bits(), pqt::to_string(n.desc.enc()),
                show(n.desc.max()).c_str(), describe(n.name));
  std::printf("any eXmY (E in 1..8, M in 0..23) is IEEE-encoded; change it with --encoding, --bias, --unsigned\n");
}

int run(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(usage_text, stderr);
    return exit_usage;
  }
  const std::string cmd = argv[1];
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--") break;
    if (a == "--help" || a == "-h" || (i == 1 && a == "help")) {
      std::fputs(usage_text, stdout);
      return 0;
    }
  }
  const auto no_more_args = [&] {
    if (argc > 2) throw usage_error(cmd + " takes no arguments");
  };
  if (cmd == "version" || cmd == "--version") {
    no_more_args();
    std::printf("pqt %s\n", PQT_VERSION_STRING);
    return 0;
  }
  if (cmd == "formats") {
    no_more_args();
    list_formats();
    return 0;
  }
  const unsigned which = cmd == "info"    ? cmd_info
                         : cmd == "table" ? cmd_table
                         : cmd == "cast"  ? cmd_cast
                         : cmd == "noise" ? cmd_noise
                                          : 0u;
  if (which == 0)
    throw usage_error("unknown command '" + cmd + "'; valid: info, table, cast, noise, formats, version, help");

  options opts;
  const std::vector<std::string> args = parse_args(argc - 2, argv + 2, cmd.c_str(), which, opts);
  if (which == cmd_noise) {
    if (!args.empty()) throw usage_error("noise takes no positional arguments, got '" + args[0] + "'");
    noise(opts);
    return 0;
  }
  if (args.empty()) throw usage_error(cmd + " needs a FORMAT (see `pqt formats`)");
  if (which != cmd_cast && args.size() > 1) throw usage_error(cmd + " takes one FORMAT, got extra '" + args[1] + "'");
  if (which == cmd_cast && args.size() < 2) throw usage_error("cast needs at least one VALUE after the FORMAT");

  const pqt::format_desc f = make_format(args[0], opts);
  if (which == cmd_info) print_info(f);
  else if (which == cmd_table) print_table(f);
  else cast(f, opts, std::vector<std::string>(args.begin() + 1, args.end()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const usage_error& e) {
    std::fprintf(stderr, "pqt: %s\n(run `pqt help` for usage)\n", e.what());
  } catch (const std::exception& e) {  // the library's messages already say what is valid
    std::fprintf(stderr, "pqt: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "pqt: unexpected error\n");
  }
  return exit_usage;
}
