#pragma once
// Cases shared by tests/test_cuda_bodies.cpp (the kernel bodies run on the
// host over every (block, thread) of their grids) and tests/cuda/
// test_tensor_kernels.cu (the kernels on a GPU): every operation of
// pqt::cuda against the host tensor API, bit for bit, over the sizes
// {0, 1, 15, 16, 17, 127, 129, 4095, 4097, 100000} and base pointers offset by
// 0..3 elements. A Runner provides the operations on host pointers:
//   template <class Elem> void fake_quant(const S* x, S* out, std::size_t n, const quant_config&);
//   template <class Elem> void quantize(const S* x, std::size_t n, const quant_config&, pqt::quantized&);
//   template <class Elem> void dequantize(const pqt::quantized&, const quant_config&, S* out, std::size_t n);
//   template <class Elem, class Carrier> void gaussws(const S* w, CS* out, std::size_t n, const gaussws_config&);
//   template <class Elem> float amax(const S* x, std::size_t n);
// Float results compare by bits, except that two NaNs are equal (a GPU's
// float multiply returns the canonical NaN 0x7FFFFFFF, x86 the quieted
// operand): every NaN pqt itself produces (codes, bf16, carriers, amax) is
// canonical and compared by bits.

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ios>
#include <new>
#include <string>
#include <vector>

#include <pqt/cuda/kernel_bodies.hpp>
#include <pqt/fake_quant.hpp>

namespace pqt_cuda_test {

using pqt::gaussws_config;
using pqt::overflow;
using pqt::quant_config;
using pqt::rounding;
using pqt::scaling;

template <class Elem>
using storage_t = typename pqt::cuda::detail::elem_traits<Elem>::storage;
template <class Carrier>
using carrier_t = typename pqt::cuda::detail::carrier_traits<Carrier>::storage;

inline const std::size_t sizes[] = {0, 1, 15, 16, 17, 127, 129, 4095, 4097, 100000};

/// A 64-byte aligned host array with 8 spare elements, so that base + k for
/// k in 0..7 is an array of n elements whose alignment is known.
template <class T>
class buffer {
 public:
  explicit buffer(std::size_t n) : n_(n + 8), p_(static_cast<T*>(::operator new(sizeof(T) * (n + 8), std::align_val_t(64)))) {
    for (std::size_t i = 0; i < n_; ++i) p_[i] = T{};
  }
  ~buffer() { ::operator delete(p_, std::align_val_t(64)); }
  buffer(const buffer&) = delete;
  buffer& operator=(const buffer&) = delete;
  T* at(std::size_t off) { return p_ + off; }

 private:
  std::size_t n_;
  T* p_;
};

inline std::uint64_t mix(std::uint64_t& s) {
  s += 0x9E3779B97F4A7C15ull;
  std::uint64_t z = s;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/// Normal-ish values times scale, with blocks of very different magnitudes,
/// zeros (a whole zero block), tiny values and, with specials, NaN and +-Inf.
inline std::vector<float> make_input(std::size_t n, std::uint64_t seed, float scale, bool specials) {
  std::vector<float> v(n);
  std::uint64_t s = seed * 7919 + 1;
  for (std::size_t i = 0; i < n; ++i) {
    const double u = (static_cast<double>(mix(s) >> 11) + 0.5) * 0x1p-53;
    const double w = static_cast<double>(mix(s) >> 11) * 0x1p-53;
    const double g = std::sqrt(-2 * std::log(u)) * std::cos(6.283185307179586 * w);
    const int band = static_cast<int>((i / 48) % 7);  // magnitudes change every 48 elements
    v[i] = static_cast<float>(g * scale * std::ldexp(1.0, 3 * band - 9));
  }
  for (std::size_t i = 64; i < 96 && i < n; ++i) v[i] = 0.0f;      // a zero block
  for (std::size_t i = 5; i < n; i += 97) v[i] = v[i] * 1e-30f;     // tiny, some float-subnormal
  if (specials) {
    if (n > 200) v[200] = NAN;
    if (n > 333) v[333] = INFINITY;
    if (n > 4000) v[4000] = -INFINITY;
  }
  return v;
}

inline std::uint32_t bits(float f) { return pqt::detail::bit_cast<std::uint32_t>(f); }
inline bool same(float a, float b) { return bits(a) == bits(b) || (a != a && b != b); }
inline bool same(std::uint16_t a, std::uint16_t b) { return a == b; }
inline bool same(std::uint8_t a, std::uint8_t b) { return a == b; }

/// Number of differing elements; reports the first few.
template <class T>
std::size_t diff(const char* what, const T* got, const T* want, std::size_t n) {
  std::size_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!same(got[i], want[i])) {
      if (bad < 3) {
        if constexpr (std::is_same<T, float>::value)
          MESSAGE(what << " [" << i << "]: got 0x" << std::hex << bits(got[i]) << " want 0x" << bits(want[i]) << std::dec);
        else
          MESSAGE(what << " [" << i << "]: got 0x" << std::hex << static_cast<unsigned>(got[i]) << " want 0x"
                       << static_cast<unsigned>(want[i]) << std::dec);
      }
      ++bad;
    }
  }
  return bad;
}

/// Narrowed input arrays (bf16 / fp16 codes) and their exact float values.
template <class Elem>
std::vector<storage_t<Elem>> to_storage(const std::vector<float>& x) {
  std::vector<storage_t<Elem>> s(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) s[i] = pqt::cuda::detail::elem_traits<Elem>::narrow(x[i]);
  return s;
}
template <class Elem>
std::vector<float> widen_all(const storage_t<Elem>* s, std::size_t n) {
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = pqt::cuda::detail::elem_traits<Elem>::widen(s[i]);
  return x;
}

template <class Elem>
const char* elem_name() {
  return std::is_same<Elem, float>::value ? "float" : std::is_same<Elem, pqt::bf16>::value ? "bf16" : "fp16";
}

/// rows x cols with rows * cols == n, for tile scaling.
inline void tile_shape_for(std::size_t n, std::size_t& rows, std::size_t& cols) {
  switch (n) {
    case 0: rows = 0; cols = 5; return;
    case 15: rows = 3; cols = 5; return;
    case 16: rows = 4; cols = 4; return;
    case 129: rows = 3; cols = 43; return;
    case 4095: rows = 63; cols = 65; return;
    case 4097: rows = 17; cols = 241; return;
    case 100000: rows = 250; cols = 400; return;
    case (std::size_t{1} << 26): rows = 4096; cols = 16384; return;
    default: rows = n; cols = 1; return;  // 1, 17, 127: a column
  }
}

struct named_config {
  std::string name;
  quant_config c;
  bool specials = false;
  bool quantize = true;  ///< also checked through quantize / dequantize
};

inline quant_config with(quant_config c, rounding r, overflow o = overflow::saturate, std::uint64_t index_base = 0,
                         int k = 32) {
  c.round = r;
  c.over = o;
  c.seed = 0x1234'5678'9ABCull;
  c.offset = 17;
  c.index_base = index_base;
  c.random_bits = k;
  c.sigma = 0.75f;
  return c;
}

/// The configurations every size and offset runs through.
inline std::vector<named_config> configs() {
  using pqt::format_desc;
  std::vector<named_config> v;
  auto fmt = [](const char* s) { return format_desc::parse(s); };
  quant_config none;
  none.format = fmt("e4m3");
  v.push_back({"none e4m3 rne", with(none, rounding::nearest_even), true});
  none.format = fmt("e5m2");
  v.push_back({"none e5m2 sr nonsat base 5", with(none, rounding::stochastic, overflow::nonsaturating, 5), true});
  none.format = fmt("e2m1");
  v.push_back({"none e2m1 gaussian", with(none, rounding::gaussian, overflow::saturate, 3), true});
  none.format = fmt("e8m3");
  v.push_back({"none e8m3 sr k 9 (2-byte codes)", with(none, rounding::stochastic, overflow::saturate, 2, 9), true});
  none.format = fmt("fp32");
  v.push_back({"none fp32 odd (4-byte codes)", with(none, rounding::odd), true});
  none.format = fmt("e3m2");
  v.push_back({"none e3m2 toward_zero (packed fp6)", with(none, rounding::toward_zero, overflow::saturate, 1), false});

  quant_config t = quant_config::per_tensor(fmt("e4m3"));
  v.push_back({"tensor e4m3 rne current", with(t, rounding::nearest_even), false});
  v.push_back({"tensor e4m3 rne with nan", with(t, rounding::nearest_even), true});
  t = quant_config::per_tensor(fmt("e5m2"), pqt::tensor_scaling{1.0f, true});
  v.push_back({"tensor e5m2 sr pow2 margin 1", with(t, rounding::stochastic, overflow::saturate, 6), false});
  t.tensor_scale = 0.37f;
  v.push_back({"tensor e5m2 upward given scale", with(t, rounding::upward, overflow::nonsaturating), false});

  v.push_back({"mxfp8 rne", with(quant_config::mxfp8(), rounding::nearest_even), true});
  v.push_back({"mxfp8 sr k 8 base 3", with(quant_config::mxfp8(), rounding::stochastic, overflow::saturate, 3, 8), false});
  quant_config m = quant_config::mxfp6();
  m.e8m0_rule = pqt::e8m0_rounding::ceil;
  v.push_back({"mxfp6 e3m2 ceil toward_zero", with(m, rounding::toward_zero), false});
  m = quant_config::mxfp6(fmt("e2m3"));
  m.e8m0_rule = pqt::e8m0_rounding::rceil;
  v.push_back({"mxfp6 e2m3 rceil gaussian", with(m, rounding::gaussian), false});
  v.push_back({"mxfp4 sr", with(quant_config::mxfp4(), rounding::stochastic), true});
  v.push_back({"mxfp4 downward nonsat", with(quant_config::mxfp4(), rounding::downward, overflow::nonsaturating), false});
  v.push_back({"nvfp4 rne", with(quant_config::nvfp4(), rounding::nearest_even), true});
  v.push_back({"nvfp4 sr base 7", with(quant_config::nvfp4(), rounding::stochastic, overflow::saturate, 7), false});
  m = quant_config::mxfp8();
  m.block_size = 17;  // two passes
  m.e8m0_rule = pqt::e8m0_rounding::nearest_even;
  v.push_back({"mx e4m3 block 17 odd", with(m, rounding::odd), true});
  m = quant_config::mxfp8(fmt("e5m2"));
  m.block_size = 4;  // fused for float (1 lane), two passes for 16-bit inputs
  v.push_back({"mx e5m2 block 4 nearest_away", with(m, rounding::nearest_away), false});
  m.block_size = 64;
  v.push_back({"mx e5m2 block 64 sr", with(m, rounding::stochastic), false});
  m = quant_config::mxfp4();
  m.block_size = 256;  // 64 float units: two passes; 32 bf16 units: fused
  v.push_back({"mx e2m1 block 256 rne", with(m, rounding::nearest_even), false});
  quant_config nv = quant_config::nvfp4();
  nv.block_size = 24;
  v.push_back({"nvfp4 block 24 rne", with(nv, rounding::nearest_even), false});

  quant_config tile = quant_config::mxfp8();
  tile.scale = scaling::tile;
  v.push_back({"tile 16x16 e4m3 rne", with(tile, rounding::nearest_even), true});
  tile.format = fmt("e2m1");
  tile.tile_rows = 8;
  tile.tile_cols = 32;
  v.push_back({"tile 8x32 e2m1 sr", with(tile, rounding::stochastic, overflow::saturate, 9), false});
  return v;
}

/// Sets rows / cols of tile configs for n elements.
inline quant_config for_size(quant_config c, std::size_t n) {
  if (c.scale == scaling::tile) tile_shape_for(n, c.rows, c.cols);
  return c;
}

// ---- the checks ------------------------------------------------------------------

/// fake_quant of x (n elements at offset xo) into out at offset oo, against
/// the host API on the same input.
template <class Elem, class Runner>
std::size_t check_fake_quant(Runner& run, const named_config& nc, std::size_t n, std::size_t xo, std::size_t oo,
                             std::uint64_t seed) {
  using S = storage_t<Elem>;
  const quant_config c = for_size(nc.c, n);
  const std::vector<S> xs = to_storage<Elem>(make_input(n, seed, c.format.max() / 4, nc.specials));
  buffer<S> xb(n), ob(n);
  std::copy(xs.begin(), xs.end(), xb.at(xo));
  run.template fake_quant<Elem>(xb.at(xo), ob.at(oo), n, c);
  std::vector<S> want(n);
  if constexpr (std::is_same<Elem, float>::value) {
    pqt::fake_quant(xs.data(), want.data(), n, c);
  } else {
    std::vector<Elem> xe(n), ye(n);
    for (std::size_t i = 0; i < n; ++i) xe[i] = Elem::from_bits(xs[i]);
    pqt::fake_quant(xe.data(), ye.data(), n, c);
    for (std::size_t i = 0; i < n; ++i) want[i] = ye[i].bits();
  }
  const std::string what = "fake_quant " + nc.name + " " + elem_name<Elem>() + " n=" + std::to_string(n) +
                           " x+" + std::to_string(xo) + " out+" + std::to_string(oo);
  return diff(what.c_str(), ob.at(oo), want.data(), n);
}

/// quantize (codes, scales, tensor scale) against the host API on the widened
/// input, then dequantize of the host's codes against the host's dequantize.
template <class Elem, class Runner>
std::size_t check_quantize(Runner& run, const named_config& nc, std::size_t n, std::size_t xo, std::uint64_t seed) {
  using S = storage_t<Elem>;
  const quant_config c = for_size(nc.c, n);
  const std::vector<S> xs = to_storage<Elem>(make_input(n, seed, c.format.max() / 4, nc.specials));
  buffer<S> xb(n);
  std::copy(xs.begin(), xs.end(), xb.at(xo));
  pqt::quantized got, want;
  run.template quantize<Elem>(xb.at(xo), n, c, got);
  const std::vector<float> xf = widen_all<Elem>(xs.data(), n);
  pqt::quantize(xf.data(), n, c, want);
  const std::string what = "quantize " + nc.name + " " + elem_name<Elem>() + " n=" + std::to_string(n) + " x+" +
                           std::to_string(xo);
  std::size_t bad = 0;
  if (got.codes.size() != want.codes.size() || got.scales.size() != want.scales.size()) {
    MESSAGE(what << ": sizes differ");
    return 1;
  }
  bad += diff((what + " codes").c_str(), got.codes.data(), want.codes.data(), want.codes.size());
  bad += diff((what + " scales").c_str(), got.scales.data(), want.scales.data(), want.scales.size());
  if (n != 0) bad += diff((what + " tensor_scale").c_str(), &got.tensor_scale, &want.tensor_scale, 1);

  // dequantize the host's codes (to float, bf16 or fp16) at offset xo
  buffer<S> ob(n);
  run.template dequantize<Elem>(want, c, ob.at(xo), n);
  std::vector<float> yf(n);
  pqt::dequantize(want, c, yf.data(), n);
  std::vector<S> ys(n);
  for (std::size_t i = 0; i < n; ++i) ys[i] = pqt::cuda::detail::elem_traits<Elem>::narrow(yf[i]);
  bad += diff((what + " dequantize").c_str(), ob.at(xo), ys.data(), n);
  return bad;
}

struct named_gaussws {
  std::string name;
  gaussws_config g;
  bool specials = false;
};

inline std::vector<named_gaussws> gaussws_configs() {
  std::vector<named_gaussws> v;
  gaussws_config g;
  g.seed = 42;
  g.offset = 9;
  v.push_back({"block 32 r b9", g, true});
  g.noise = pqt::noise_kind::gaussian;
  g.sigma = 0.8f;
  g.bits = 6;
  g.index_base = 3;
  v.push_back({"block 32 gaussian b6 base 3", g, false});
  g.noise = pqt::noise_kind::uniform;
  g.bits = 24;
  g.index_base = 0;
  v.push_back({"block 32 uniform b24", g, false});
  g = gaussws_config{};
  g.seed = 7;
  g.block_size = 17;
  v.push_back({"block 17 r", g, false});
  g.block_size = 8;
  v.push_back({"block 8 r", g, false});
  g.block_size = 256;
  g.index_base = 1;
  v.push_back({"block 256 r base 1", g, false});
  g = gaussws_config{};
  g.seed = 11;
  g.scale = scaling::tensor;
  v.push_back({"tensor r", g, true});
  g.scale = scaling::tile;
  g.noise = pqt::noise_kind::gaussian;
  v.push_back({"tile 16x16 gaussian", g, false});
  g = gaussws_config{};
  g.seed = 5;
  g.delta = pqt::delta_mode::element;
  v.push_back({"element e4m3 r", g, true});
  g.format = pqt::format_desc::parse("e2m1");
  g.noise = pqt::noise_kind::uniform;
  v.push_back({"element e2m1 uniform", g, false});
  return v;
}

template <class Elem, class Carrier, class Runner>
std::size_t check_gaussws(Runner& run, const named_gaussws& ng, std::size_t n, std::size_t xo, std::size_t oo,
                          std::uint64_t seed) {
  using S = storage_t<Elem>;
  using CS = carrier_t<Carrier>;
  gaussws_config g = ng.g;
  if (g.scale == scaling::tile) tile_shape_for(n, g.rows, g.cols);
  const std::vector<S> ws = to_storage<Elem>(make_input(n, seed, 1.0f, ng.specials));
  buffer<S> wb(n);
  buffer<CS> ob(n);
  std::copy(ws.begin(), ws.end(), wb.at(xo));
  run.template gaussws<Elem, Carrier>(wb.at(xo), ob.at(oo), n, g);
  const std::vector<float> wf = widen_all<Elem>(ws.data(), n);
  std::vector<CS> want(n);
  if constexpr (std::is_same<Carrier, float>::value) {
    pqt::gaussws(wf.data(), want.data(), n, g);
  } else {
    std::vector<pqt::bf16> wb16(n);
    pqt::gaussws(wf.data(), wb16.data(), n, g);
    for (std::size_t i = 0; i < n; ++i) want[i] = wb16[i].bits();
  }
  const std::string what = "gaussws " + ng.name + " " + elem_name<Elem>() + " -> " +
                           (std::is_same<Carrier, float>::value ? "float" : "bf16") + " n=" + std::to_string(n) +
                           " w+" + std::to_string(xo) + " out+" + std::to_string(oo);
  return diff(what.c_str(), ob.at(oo), want.data(), n);
}

template <class Elem, class Runner>
std::size_t check_amax(Runner& run, std::size_t n, std::size_t xo, bool specials, std::uint64_t seed) {
  using S = storage_t<Elem>;
  std::vector<float> x = make_input(n, seed, 3.0f, specials);
  if (specials && n > 7) x[7] = -INFINITY;
  const std::vector<S> xs = to_storage<Elem>(x);
  buffer<S> xb(n);
  std::copy(xs.begin(), xs.end(), xb.at(xo));
  const float got = run.template amax<Elem>(xb.at(xo), n);
  const std::vector<float> xf = widen_all<Elem>(xs.data(), n);
  const float want = pqt::amax(xf.data(), n, 1);
  if (bits(got) != bits(want)) {
    MESSAGE("amax " << elem_name<Elem>() << " n=" << n << " x+" << xo << ": got 0x" << std::hex << bits(got)
                    << " want 0x" << bits(want));
    return 1;
  }
  return 0;
}

// ---- suites -------------------------------------------------------------------------

/// Offsets of input and output: equal (vector path after a head) and different
/// (element by element).
inline const std::size_t offset_pairs[][2] = {{0, 0}, {1, 1}, {2, 2}, {3, 3}, {0, 1}, {3, 0}};

template <class Elem, class Runner>
void suite_fake_quant(Runner& run, const std::vector<std::size_t>& ns) {
  for (const auto& nc : configs())
    for (std::size_t n : ns)
      for (const auto& o : offset_pairs) {
        const std::size_t bad = check_fake_quant<Elem>(run, nc, n, o[0], o[1], n + o[0]);
        CHECK_MESSAGE(bad == 0, "fake_quant " << nc.name << " " << elem_name<Elem>() << " n=" << n << " offsets " << o[0] << "," << o[1]);
      }
}

template <class Elem, class Runner>
void suite_quantize(Runner& run, const std::vector<std::size_t>& ns) {
  for (const auto& nc : configs())
    for (std::size_t n : ns)
      for (std::size_t off = 0; off < 4; ++off) {
        const std::size_t bad = check_quantize<Elem>(run, nc, n, off, 3 * n + off);
        CHECK_MESSAGE(bad == 0, "quantize " << nc.name << " " << elem_name<Elem>() << " n=" << n << " offset " << off);
      }
}

template <class Elem, class Carrier, class Runner>
void suite_gaussws(Runner& run, const std::vector<std::size_t>& ns) {
  for (const auto& ng : gaussws_configs())
    for (std::size_t n : ns)
      for (const auto& o : offset_pairs) {
        const std::size_t bad = check_gaussws<Elem, Carrier>(run, ng, n, o[0], o[1], 5 * n + o[0]);
        CHECK_MESSAGE(bad == 0, "gaussws " << ng.name << " n=" << n << " offsets " << o[0] << "," << o[1]);
      }
}

template <class Elem, class Runner>
void suite_amax(Runner& run, const std::vector<std::size_t>& ns) {
  for (std::size_t n : ns)
    for (std::size_t off = 0; off < 4; ++off)
      for (bool sp : {false, true}) CHECK(check_amax<Elem>(run, n, off, sp, n * 3 + off) == 0);
}

/// Every rounding mode and overflow policy on every named element format, no
/// scaling and MX, one odd size at offsets 0 and 1.
template <class Runner>
void suite_modes(Runner& run) {
  for (const char* name : {"e4m3", "e5m2", "e4m3fnuz", "e5m2fnuz", "e3m2", "e2m3", "e2m1", "bf16", "fp16", "e8m3"}) {
    for (int r = 0; r < pqt::rounding_count; ++r)
      for (overflow o : {overflow::saturate, overflow::nonsaturating})
        for (bool mx : {false, true}) {
          quant_config c = mx ? quant_config::mx(pqt::format_desc::parse(name)) : quant_config{};
          c.format = pqt::format_desc::parse(name);
          if (mx && c.format.facts().emin_value() < -94) continue;  // MX needs small formats
          named_config nc{std::string(name) + " " + pqt::to_string(static_cast<rounding>(r)) + " " + pqt::to_string(o) +
                              (mx ? " mx" : " none"),
                          with(c, static_cast<rounding>(r), o, 1, 11), true};
          for (std::size_t off : {0, 1}) {
            CHECK(check_fake_quant<float>(run, nc, 4097, off, off, 77) == 0);
            CHECK(check_quantize<float>(run, nc, 4097, off, 78) == 0);
          }
        }
  }
}

}  // namespace pqt_cuda_test
