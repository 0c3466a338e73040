// Test support: splitmix64 (Steele, Lea & Flood 2014), a fixed-seed source of
// test inputs that is the same on every standard library (unlike
// std::mt19937's distributions). Independent of pqt's Philox on purpose.
#pragma once

#include <cstdint>

namespace pqt_test {

struct splitmix64 {
  std::uint64_t s;
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint32_t word() { return static_cast<std::uint32_t>(next() >> 32); }
};

}  // namespace pqt_test
