// Test support: PQT_TEST_ASAN is defined when the test is built with
// AddressSanitizer (the `sanitize` preset). The tests that sweep a large
// space value by value take a sample of it there: the sanitizers look for
// memory errors and undefined behaviour, which the same code paths show on a
// sample, and the `ci` preset runs the whole sweep.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define PQT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PQT_TEST_ASAN 1
#endif
#endif

namespace pqt_test {

/// Such a sweep visits every sample_stride-th point of its space: 4 under
/// AddressSanitizer, 1 (everything) otherwise.
#if defined(PQT_TEST_ASAN)
inline constexpr std::size_t sample_stride = 4;
#else
inline constexpr std::size_t sample_stride = 1;
#endif

}  // namespace pqt_test
