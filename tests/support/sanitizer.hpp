// Test support: PQT_TEST_ASAN is defined when the test is built with
// AddressSanitizer (the `sanitize` preset). The tests that sweep a large
// space value by value take a sample of it there: the sanitizers look for
// memory errors and undefined behaviour, which the same code paths show on a
// sample, and the `ci` preset runs the whole sweep.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define PQT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PQT_TEST_ASAN 1
#endif
#endif
