// A quick tour of pqt's core: what would these weights look like in FP8,
// FP6, FP4 or E8M3, under each rounding mode? Copy from here.
//
//   build/release/examples/quick_tour
#include <cstdint>
#include <cstdio>
#include <vector>

#include <pqt/minifloat.hpp>
#include <pqt/runtime.hpp>

namespace {

// Round every element of a small "tensor" to Fmt with rounding R and report
// the worst relative error. (Tensor APIs with scaling come in fake_quant.hpp.)
template <class Fmt, pqt::rounding R>
void round_and_report(const char* name, const std::vector<float>& w) {
  double worst = 0;
  std::printf("  %-6s %-13s", name, pqt::to_string(R));
  for (std::size_t i = 0; i < w.size(); ++i) {
    // Stochastic rounding takes a 32-bit random word per element; here a
    // fixed one so the output is reproducible (random.hpp draws them later).
    const std::uint32_t word = static_cast<std::uint32_t>(i) * 0x9E3779B9u;
    const float q = pqt::quantize<Fmt, R, pqt::overflow::saturate>(w[i], word);
    const double rel = w[i] != 0 ? (q - w[i]) / w[i] : 0;
    worst = rel < 0 ? (-rel > worst ? -rel : worst) : (rel > worst ? rel : worst);
    std::printf(" %9.5g", q);
  }
  std::printf("   max rel err %.3g\n", worst);
}

template <class Fmt>
void all_modes(const char* name, const std::vector<float>& w) {
  round_and_report<Fmt, pqt::rounding::nearest_even>(name, w);
  round_and_report<Fmt, pqt::rounding::toward_zero>(name, w);
  round_and_report<Fmt, pqt::rounding::stochastic>(name, w);
}

}  // namespace

int main() {
  const std::vector<float> w = {0.1f, -0.337f, 1.7f, 3.14159f, -12.5f, 300.0f, 0.00042f};
  std::printf("weights:                    ");
  for (float x : w) std::printf(" %9.5g", x);
  std::printf("\n\nrounded (saturating) to:\n");
  all_modes<pqt::fmt::e4m3>("e4m3", w);
  all_modes<pqt::fmt::e5m2>("e5m2", w);
  all_modes<pqt::fmt::e3m2>("e3m2", w);
  all_modes<pqt::fmt::e2m1>("e2m1", w);
  all_modes<pqt::fmt::e8m<3>>("e8m3", w);
  all_modes<pqt::fmt::bf16>("bf16", w);

  // The value type: IEEE-like defaults (nearest-even, no saturation).
  const pqt::e4m3 a{1.3f}, b{0.2f};
  std::printf("\nminifloat: e4m3(1.3) = %g (bits 0x%02x), e4m3(0.2) = %g, sum rounded once = %g\n",
              static_cast<float>(a), a.bits(), static_cast<float>(b), static_cast<float>(a + b));
  std::printf("           e4m3(465) is NaN: %s; e5m2(1e6) = %g; e2m1(100) = %g (FP4 has no NaN/Inf: saturates)\n",
              pqt::e4m3{465.0f}.is_nan() ? "yes" : "no", static_cast<float>(pqt::e5m2{1e6f}),
              static_cast<float>(pqt::e2m1{100.0f}));

  // A format chosen at run time gives the same bits as the compile-time one.
  const pqt::format_desc e3m4 = pqt::format_desc::parse("e3m4");
  std::printf("\nruntime format %s: max %g, 0.3 -> 0x%02x = %g\n", e3m4.name().c_str(), e3m4.max(),
              e3m4.encode(0.3f), e3m4.decode(e3m4.encode(0.3f)));
  // An impossible format is a clear error, not undefined behaviour.
  try {
    pqt::format_desc bad(9, 3);
  } catch (const std::invalid_argument& e) {
    std::printf("format_desc(9, 3): %s\n", e.what());
  }
  return 0;
}
