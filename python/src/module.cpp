// pqt._pqt: the one compiled module of the Python package. It only adapts
// arrays (nanobind ndarray: numpy, torch and anything with DLPack) to the C++
// tensor API; every number comes from the headers. Arrays are never copied or
// allocated here: Python allocates the outputs with the framework's own
// allocator and passes them in. std::invalid_argument (every C++ validation
// message) reaches Python as ValueError.

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/string.h>

#include <cmath>
#include <cstdint>
#include <limits>
#if defined(__linux__)
#include <sys/mman.h>
#endif
#include <stdexcept>
#include <string>

#include <pqt/fake_quant.hpp>
#include <pqt/runtime.hpp>
#include <pqt/version.hpp>

#include "ops.hpp"

namespace nb = nanobind;
using namespace nb::literals;

namespace pqt_py {

#if !defined(PQT_PY_CUDA)
// A CPU-only module: check_array rejects CUDA arrays before these are reached.
bool cuda_built() { return false; }
[[noreturn]] static void no_cuda() { throw std::invalid_argument("pqt: this pqt was built without CUDA"); }
void cuda_fake_quant(int, std::uintptr_t, elem, const void*, void*, std::size_t, const pqt::quant_config&) { no_cuda(); }
void cuda_quantize(int, std::uintptr_t, elem, const void*, std::size_t, const pqt::quant_config&,
                   const pqt::quantized_view&) {
  no_cuda();
}
void cuda_dequantize(int, std::uintptr_t, elem, const pqt::quantized_view&, const pqt::quant_config&, void*,
                     std::size_t) {
  no_cuda();
}
void cuda_gaussws(int, std::uintptr_t, elem, const void*, bool, void*, std::size_t, const pqt::gaussws_config&) {
  no_cuda();
}
#endif

namespace {

using array = nb::ndarray<>;
using ro_array = nb::ndarray<nb::ro>;

[[noreturn]] void fail(const std::string& what) { throw std::invalid_argument(what); }
[[noreturn]] void type_fail(const std::string& what) { throw nb::type_error(what.c_str()); }

const char* elem_name(elem t) {
  return t == elem::f32 ? "float32" : t == elem::bf16 ? "bfloat16" : "float16";
}

elem to_elem(int t) {
  if (t < 0 || t > 2) fail("pqt: element type code must be 0 (float32), 1 (bfloat16) or 2 (float16), got " + std::to_string(t));
  return static_cast<elem>(t);
}

/// Where an array lives: device -1 for the host, else the CUDA device ordinal.
struct placement {
  int device = -1;
};

/// Checks that a holds `count` contiguous elements of dtype (code, bits) on a
/// device pqt can reach; returns where it is.
template <class A>
placement check_array(const char* what, const A& a, nb::dlpack::dtype want, const char* want_name,
                      std::size_t count, bool alt_u16 = false) {
  const nb::dlpack::dtype d = a.dtype();
  const bool u16 = alt_u16 && d.code == static_cast<std::uint8_t>(nb::dlpack::dtype_code::UInt) && d.bits == 16 && d.lanes == 1;
  if (!(d == want) && !u16)
    type_fail(std::string("pqt: ") + what + " must have dtype " + want_name);
  std::size_t n = 1;
  std::int64_t expect = 1;
  bool contiguous = true;
  for (std::size_t i = a.ndim(); i-- > 0;) {
    const std::size_t s = a.shape(i);
    if (s != 1 && a.stride(i) != expect) contiguous = false;
    expect *= static_cast<std::int64_t>(s);
    n *= s;
  }
  if (!contiguous && n != 0)
    fail(std::string("pqt: ") + what + " must be contiguous (call .contiguous() / np.ascontiguousarray first)");
  if (n != count)
    fail(std::string("pqt: ") + what + " holds " + std::to_string(n) + " elements, " + std::to_string(count) + " expected");
  if (reinterpret_cast<std::uintptr_t>(a.data()) % (d.bits / 8 > 0 ? d.bits / 8 : 1) != 0)
    fail(std::string("pqt: ") + what + " is not aligned to its element size (" + std::to_string(d.bits / 8) + " bytes)");
  placement p;
  const int dt = a.device_type();
  if (dt == nb::device::cuda::value) {
    p.device = a.device_id();
    if (!cuda_built())
      fail(std::string("pqt: ") + what + " is a CUDA tensor, but this pqt was built without CUDA (no nvcc at build "
                                         "time); reinstall with nvcc on PATH, or move the tensor to the CPU");
  } else if (dt != nb::device::cpu::value) {
    fail(std::string("pqt: ") + what + " is on an unsupported device (DLPack device type " + std::to_string(dt) +
         "); pqt handles CPU and CUDA arrays");
  }
  return p;
}

nb::dlpack::dtype dtype_of(elem t) {
  switch (t) {
    case elem::f32: return nb::dtype<float>();
    case elem::bf16: return nb::dlpack::dtype{static_cast<std::uint8_t>(nb::dlpack::dtype_code::Bfloat), 16, 1};
    case elem::f16: return nb::dlpack::dtype{static_cast<std::uint8_t>(nb::dlpack::dtype_code::Float), 16, 1};
  }
  return nb::dtype<float>();
}

template <class A>
placement check_elems(const char* what, const A& a, elem t, std::size_t n) {
  return check_array(what, a, dtype_of(t), elem_name(t), n, t == elem::bf16);
}

/// Advises the whole 2 MiB pages inside a large host output for transparent
/// huge pages before it is first written, as numpy does for its own arrays:
/// torch's CPU allocator does not, and first-touch page faults on a fresh
/// 64 MiB output cost several times the conversion itself. Memory advice
/// only; it changes no value.
void advise_output(void* p, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t huge = std::uintptr_t{1} << 21;
  if (bytes < 2 * huge) return;
  const std::uintptr_t a = reinterpret_cast<std::uintptr_t>(p), b = a + bytes;
  const std::uintptr_t lo = (a + huge - 1) & ~(huge - 1), hi = b & ~(huge - 1);
  if (hi > lo) (void)madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_HUGEPAGE);
#else
  (void)p, (void)bytes;
#endif
}

void same_device(const placement& a, const placement& b, const char* what) {
  if (a.device != b.device)
    fail(std::string("pqt: ") + what + " are on different devices");
}

std::size_t numel(const ro_array& a) {
  std::size_t n = 1;
  for (std::size_t i = 0; i < a.ndim(); ++i) n *= a.shape(i);
  return n;
}

// ---- configs --------------------------------------------------------------

std::uint64_t to_u64(std::int64_t v) { return static_cast<std::uint64_t>(v); }  // two's complement: all 2^64 seeds

pqt::scaling parse_scaling(const std::string& s, pqt::block_scale& kind) {
  kind = pqt::block_scale::mx;
  if (s == "none") return pqt::scaling::none;
  if (s == "tensor") return pqt::scaling::tensor;
  if (s == "mx" || s == "block") return pqt::scaling::block;
  if (s == "nvfp4") {
    kind = pqt::block_scale::nvfp4;
    return pqt::scaling::block;
  }
  if (s == "tile") return pqt::scaling::tile;
  fail("pqt: unknown scaling '" + s + "'; valid: none, tensor, mx, nvfp4, tile");
}

pqt::overflow parse_overflow(const std::string& s) {
  if (s == "saturate") return pqt::overflow::saturate;
  if (s == "nonsaturating") return pqt::overflow::nonsaturating;
  fail("pqt: unknown overflow policy '" + s + "'; valid: saturate, nonsaturating");
}

pqt::e8m0_rounding parse_e8m0(const std::string& s) {
  if (s == "floor") return pqt::e8m0_rounding::floor;
  if (s == "ceil") return pqt::e8m0_rounding::ceil;
  if (s == "nearest_even") return pqt::e8m0_rounding::nearest_even;
  if (s == "rceil") return pqt::e8m0_rounding::rceil;
  fail("pqt: unknown e8m0 rule '" + s + "'; valid: floor, ceil, nearest_even, rceil");
}

std::size_t to_size(const char* what, std::int64_t v, std::int64_t min) {
  if (v < min) fail(std::string("pqt: ") + what + " must be >= " + std::to_string(min) + ", got " + std::to_string(v));
  return static_cast<std::size_t>(v);
}

/// A validated quant_config (rows/cols are set per call from the array's shape).
struct config {
  pqt::quant_config c;
};

config make_config(const std::string& fmt, const std::string& scaling, const std::string& round,
                   const std::string& over, std::int64_t block_size, int random_bits, float sigma, std::int64_t seed,
                   std::int64_t offset, std::int64_t index_base, double tensor_scale, double margin, bool power_of_two,
                   const std::string& e8m0_rule, std::int64_t tile_rows, std::int64_t tile_cols, int threads) {
  config r;
  pqt::quant_config& c = r.c;
  c.format = pqt::format_desc::parse(fmt);
  c.scale = parse_scaling(scaling, c.block_kind);
  c.round = pqt::parse_rounding(round);
  c.over = parse_overflow(over);
  c.block_size = to_size("block_size", block_size, 1);
  c.random_bits = random_bits;
  c.sigma = sigma;
  c.seed = to_u64(seed);
  c.offset = to_u64(offset);
  c.index_base = to_u64(index_base);
  const float ts = static_cast<float>(tensor_scale);
  if (!(tensor_scale >= 0 && ts < std::numeric_limits<float>::infinity()))
    fail("pqt: tensor_scale must be a finite float >= 0 (0: the current amax), got " + std::to_string(tensor_scale));
  if (tensor_scale > 0 && !(ts >= std::numeric_limits<float>::min()))
    fail("pqt: tensor_scale " + std::to_string(tensor_scale) + " is below float's smallest normal (it would read as 0, "
         "the current amax)");
  c.tensor_scale = ts;
  if (!(std::fabs(margin) <= 1e6)) fail("pqt: margin must be finite (powers of two of headroom)");
  c.tensor.margin = static_cast<float>(margin);
  c.tensor.power_of_two = power_of_two;
  c.e8m0_rule = parse_e8m0(e8m0_rule);
  c.tile_rows = to_size("tile_rows", tile_rows, 1);
  c.tile_cols = to_size("tile_cols", tile_cols, 1);
  c.threads = threads;  // checked with the rest below
  pqt::quant_config t = c;  // the tile shape is checked per call
  t.rows = t.cols = 1;
  pqt::detail::check_config("options", t.scale == pqt::scaling::tile ? 1 : 0, t);
  return r;
}

/// Tile scaling's matrix: rows x cols with cols = the array's last dimension
/// (an empty array is 0 x 1).
template <class C>
void set_matrix(C& c, std::size_t n, std::int64_t cols) {
  if (c.scale != pqt::scaling::tile) return;
  if (n == 0) {
    c.rows = 0, c.cols = 1;
    return;
  }
  if (cols <= 0) fail("pqt: tile scaling needs an array with at least one dimension");
  c.cols = static_cast<std::size_t>(cols);
  c.rows = n / c.cols;
}

/// The config for one call (the tile matrix from the array's shape).
pqt::quant_config for_call(const config& cfg, std::size_t n, std::int64_t cols) {
  pqt::quant_config c = cfg.c;
  set_matrix(c, n, cols);
  return c;
}

struct gcfg {
  pqt::gaussws_config g;
};

gcfg make_gaussws_config(const std::string& noise, float sigma, const std::string& delta, int bits,
                         const std::string& fmt, const std::string& scaling, std::int64_t block_size,
                         std::int64_t tile_rows, std::int64_t tile_cols, std::int64_t seed, std::int64_t offset,
                         std::int64_t index_base, int threads) {
  gcfg r;
  pqt::gaussws_config& g = r.g;
  if (noise == "r") g.noise = pqt::noise_kind::r;
  else if (noise == "gaussian") g.noise = pqt::noise_kind::gaussian;
  else if (noise == "uniform") g.noise = pqt::noise_kind::uniform;
  else fail("pqt: unknown noise '" + noise + "'; valid: r, gaussian, uniform");
  g.sigma = sigma;
  if (delta == "block") g.delta = pqt::delta_mode::block;
  else if (delta == "element") g.delta = pqt::delta_mode::element;
  else fail("pqt: unknown delta '" + delta + "'; valid: block, element");
  g.bits = bits;
  g.format = pqt::format_desc::parse(fmt);
  if (scaling == "block") g.scale = pqt::scaling::block;
  else if (scaling == "tensor") g.scale = pqt::scaling::tensor;
  else if (scaling == "tile") g.scale = pqt::scaling::tile;
  else fail("pqt: unknown gaussws scaling '" + scaling + "'; valid: block, tensor, tile");
  g.block_size = to_size("block_size", block_size, 1);
  g.tile_rows = to_size("tile_rows", tile_rows, 1);
  g.tile_cols = to_size("tile_cols", tile_cols, 1);
  g.seed = to_u64(seed);
  g.offset = to_u64(offset);
  g.index_base = to_u64(index_base);
  g.threads = threads;
  pqt::gaussws_config t = g;
  t.rows = t.cols = 1;
  pqt::detail::check_gaussws_config(t, g.scale == pqt::scaling::tile ? 1 : 0);
  return r;
}

// ---- operations -----------------------------------------------------------

void fake_quant(const ro_array& x, const array& out, int t, const config& cfg, std::int64_t cols,
                std::uintptr_t stream) {
  const elem e = to_elem(t);
  const std::size_t n = numel(x);
  const placement px = check_elems("x", x, e, n), po = check_elems("out", out, e, n);
  same_device(px, po, "x and out");
  const pqt::quant_config c = for_call(cfg, n, cols);
  if (px.device >= 0) {
    pqt::detail::check_config("fake_quant", n, c);
    pqt::detail::check_scale_range("fake_quant", n, c);
    nb::gil_scoped_release nogil;
    return cuda_fake_quant(px.device, stream, e, x.data(), out.data(), n, c);
  }
  nb::gil_scoped_release nogil;
  if (out.data() != x.data()) advise_output(out.data(), out.nbytes());
  host_fake_quant(e, x.data(), out.data(), n, c);
}

/// The quantized_view over three arrays (dequantize reads them only, and
/// takes read-only arrays).
template <class A>
pqt::quantized_view view_of(const char* fn, const A& codes, const A& scales, const A& ts, std::size_t n,
                            const pqt::quant_config& c, placement& where) {
  const nb::dlpack::dtype u8 = nb::dtype<std::uint8_t>();
  const std::size_t cb = pqt::code_bytes(n, c), ns = pqt::scale_count(n, c);
  const placement pc = check_array("codes", codes, u8, "uint8 (bytes)", cb);
  const placement ps = check_array("scales", scales, u8, "uint8 (bytes)", ns);
  const placement pt = check_array("tensor_scale", ts, nb::dtype<float>(), "float32", 1);
  same_device(pc, ps, "codes and scales");
  same_device(pc, pt, "codes and tensor_scale");
  where = pc;
  auto ptr = [](const void* p) { return static_cast<std::uint8_t*>(const_cast<void*>(p)); };
  pqt::quantized_view v{ptr(codes.data()), cb, ptr(scales.data()), ns,
                        reinterpret_cast<float*>(ptr(ts.data())), n};
  pqt::detail::check_view(fn, n, c, v);
  return v;
}

void quantize(const ro_array& x, int t, const config& cfg, std::int64_t cols, const array& codes, const array& scales,
              const array& ts, std::uintptr_t stream) {
  const elem e = to_elem(t);
  const std::size_t n = numel(x);
  const placement px = check_elems("x", x, e, n);
  const pqt::quant_config c = for_call(cfg, n, cols);
  placement pv;
  const pqt::quantized_view v = view_of("quantize", codes, scales, ts, n, c, pv);
  same_device(px, pv, "x and codes");
  if (px.device >= 0) {
    pqt::detail::check_scale_range("quantize", n, c);
    nb::gil_scoped_release nogil;
    return cuda_quantize(px.device, stream, e, x.data(), n, c, v);
  }
  nb::gil_scoped_release nogil;
  advise_output(codes.data(), codes.nbytes());
  host_quantize(e, x.data(), n, c, v);
}

void dequantize(const ro_array& codes, const ro_array& scales, const ro_array& ts, const config& cfg, std::int64_t cols,
                const array& out, int t, std::uintptr_t stream) {
  const elem e = to_elem(t);
  const std::size_t n = numel(ro_array(out));
  const placement po = check_elems("out", out, e, n);
  const pqt::quant_config c = for_call(cfg, n, cols);
  placement pv;
  const pqt::quantized_view v = view_of("dequantize", codes, scales, ts, n, c, pv);
  same_device(po, pv, "out and codes");
  if (po.device >= 0) {
    nb::gil_scoped_release nogil;
    return cuda_dequantize(po.device, stream, e, v, c, out.data(), n);
  }
  nb::gil_scoped_release nogil;
  advise_output(out.data(), out.nbytes());
  host_dequantize(e, v, c, out.data(), n);
}

void gaussws(const ro_array& w, int t, const array& out, bool out_bf16, const gcfg& cfg, std::int64_t cols,
             std::uintptr_t stream) {
  const elem e = to_elem(t);
  const std::size_t n = numel(w);
  const placement pw = check_elems("w", w, e, n);
  const placement po = check_elems("out", out, out_bf16 ? elem::bf16 : elem::f32, n);
  same_device(pw, po, "w and out");
  pqt::gaussws_config g = cfg.g;
  set_matrix(g, n, cols);
  if (pw.device >= 0) {
    pqt::detail::check_gaussws_config(g, n);
    nb::gil_scoped_release nogil;
    return cuda_gaussws(pw.device, stream, e, w.data(), out_bf16, out.data(), n, g);
  }
  nb::gil_scoped_release nogil;
  advise_output(out.data(), out.nbytes());
  host_gaussws(e, w.data(), out_bf16, out.data(), n, g);
}

// ---- formats --------------------------------------------------------------

pqt::format_desc parse_format(const std::string& name, const std::string& enc, int bias, bool is_unsigned) {
  pqt::format_modifiers mod;
  if (!enc.empty()) mod.enc = pqt::parse_encoding(enc);
  if (bias != std::numeric_limits<int>::min()) mod.bias = bias;
  mod.is_unsigned = is_unsigned;
  return pqt::format_desc::parse(name, mod);
}

nb::dict format_facts(const std::string& name, const std::string& enc, int bias, bool is_unsigned) {
  const pqt::format_desc f = parse_format(name, enc, bias, is_unsigned);
  nb::dict d;
  d["name"] = f.name();
  d["exponent_bits"] = f.exponent_bits();
  d["mantissa_bits"] = f.mantissa_bits();
  d["encoding"] = std::string(pqt::to_string(f.enc()));
  d["bias"] = f.bias();
  d["signed"] = f.is_signed();
  d["bits"] = f.total_bits();
  d["storage_bytes"] = f.storage_bytes();
  d["max"] = f.max();
  d["lowest"] = f.lowest();
  d["min_normal"] = f.min_normal();
  d["min_subnormal"] = f.min_subnormal();
  d["epsilon"] = f.epsilon();
  d["emin"] = f.emin();
  d["emax"] = f.emax();
  d["has_inf"] = f.has_inf();
  d["has_nan"] = f.has_nan();
  d["has_zero"] = f.has_zero();
  d["has_negative_zero"] = f.has_negative_zero();
  d["has_subnormals"] = f.has_subnormals();
  d["max_code"] = f.max_code();
  d["lowest_code"] = f.lowest_code();
  d["nan_code"] = f.has_nan() ? nb::object(nb::int_(f.nan_code())) : nb::none();
  d["inf_code"] = f.has_inf() ? nb::object(nb::int_(f.inf_code())) : nb::none();
  d["finite_codes"] = f.finite_codes();
  d["finite_values"] = f.finite_values();
  return d;
}

/// out[c] = value of code c for every code (formats of at most 16 bits).
void decode_all(const std::string& name, const std::string& enc, int bias, bool is_unsigned, const array& out) {
  const pqt::format_desc f = parse_format(name, enc, bias, is_unsigned);
  if (f.total_bits() > 16) fail("pqt: the code table is for formats of at most 16 bits (" + f.name() + " has " +
                                std::to_string(f.total_bits()) + ")");
  const std::size_t count = static_cast<std::size_t>(f.code_count());
  const placement p = check_array("out", out, nb::dtype<float>(), "float32", count);
  if (p.device >= 0) fail("pqt: the code table is computed on the host");
  float* o = static_cast<float*>(out.data());
  for (std::size_t c = 0; c < count; ++c) o[c] = f.decode(static_cast<std::uint32_t>(c));
}

std::size_t code_bytes(const config& cfg, std::int64_t n) {
  return pqt::code_bytes(to_size("n", n, 0), cfg.c);
}

std::size_t scale_count(const config& cfg, std::int64_t n, std::int64_t cols) {
  const std::size_t nn = to_size("n", n, 0);
  return pqt::scale_count(nn, for_call(cfg, nn, cols));
}

}  // namespace
}  // namespace pqt_py

NB_MODULE(_pqt, m) {
  using namespace pqt_py;
  m.doc() = "pqt's compiled core (use the pqt package, not this module)";
  m.attr("__version__") = PQT_VERSION_STRING;
  m.attr("cuda_built") = cuda_built();
#if defined(_OPENMP)
  m.attr("openmp") = true;
#else
  m.attr("openmp") = false;
#endif
  // Configs stay in the Python layer's caches until the interpreter exits;
  // that is not a leak worth a warning.
  nb::set_leak_warnings(false);

  nb::class_<config>(m, "Config");
  nb::class_<gcfg>(m, "GaussWSConfig");

  m.def("make_config", &make_config, "fmt"_a, "scaling"_a, "round"_a, "overflow"_a, "block_size"_a, "random_bits"_a,
        "sigma"_a, "seed"_a, "offset"_a, "index_base"_a, "tensor_scale"_a, "margin"_a, "power_of_two"_a,
        "e8m0_rule"_a, "tile_rows"_a, "tile_cols"_a, "threads"_a);
  m.def("make_gaussws_config", &make_gaussws_config, "noise"_a, "sigma"_a, "delta"_a, "bits"_a, "fmt"_a,
        "scaling"_a, "block_size"_a, "tile_rows"_a, "tile_cols"_a, "seed"_a, "offset"_a, "index_base"_a,
        "threads"_a);
  m.def("fake_quant", &fake_quant, "x"_a.noconvert(), "out"_a.noconvert(), "elem"_a, "cfg"_a, "cols"_a, "stream"_a);
  m.def("quantize", &quantize, "x"_a.noconvert(), "elem"_a, "cfg"_a, "cols"_a, "codes"_a.noconvert(),
        "scales"_a.noconvert(), "tensor_scale"_a.noconvert(), "stream"_a);
  m.def("dequantize", &dequantize, "codes"_a.noconvert(), "scales"_a.noconvert(), "tensor_scale"_a.noconvert(),
        "cfg"_a, "cols"_a, "out"_a.noconvert(), "elem"_a, "stream"_a);
  m.def("gaussws", &gaussws, "w"_a.noconvert(), "elem"_a, "out"_a.noconvert(), "out_bf16"_a, "cfg"_a, "cols"_a,
        "stream"_a);
  m.def("format_facts", &format_facts, "name"_a, "encoding"_a, "bias"_a, "unsigned"_a);
  m.def("decode_all", &decode_all, "name"_a, "encoding"_a, "bias"_a, "unsigned"_a, "out"_a.noconvert());
  m.def("code_bytes", &code_bytes, "cfg"_a, "n"_a);
  m.def("scale_count", &scale_count, "cfg"_a, "n"_a, "cols"_a);
}
