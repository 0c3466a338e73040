// Shared by the libFuzzer targets: a byte reader over the fuzzer's input and
// a check that aborts (a crash, which libFuzzer reports with the input).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace pqt_fuzz {

/// Reads integers from the input, then zeros once it is used up.
struct reader {
  const std::uint8_t* p;
  std::size_t n;
  template <class T>
  T take() {
    T v{};
    const std::size_t k = n < sizeof(T) ? n : sizeof(T);
    std::memcpy(&v, p, k);
    p += k;
    n -= k;
    return v;
  }
  std::uint8_t byte() { return take<std::uint8_t>(); }
};

[[noreturn]] inline void fail(const char* what, const char* file, int line) {
  std::fprintf(stderr, "fuzz invariant broken at %s:%d: %s\n", file, line, what);
  std::abort();
}

}  // namespace pqt_fuzz

#define PQT_FUZZ_CHECK(cond) ((cond) ? (void)0 : ::pqt_fuzz::fail(#cond, __FILE__, __LINE__))
