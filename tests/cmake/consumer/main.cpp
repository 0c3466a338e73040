// Proves the headers came through: the compiled-in version must be the one
// CMake reported, in both its string and numeric forms.
#include <pqt/version.hpp>

#include <cstdio>
#include <cstring>
#include <string>

static_assert(__cplusplus >= 201703L, "pqt::pqt must request C++17");

int main() {
  const std::string numeric = std::to_string(PQT_VERSION_MAJOR) + "." +
                              std::to_string(PQT_VERSION_MINOR) + "." +
                              std::to_string(PQT_VERSION_PATCH);
  std::printf("pqt %s\n", PQT_VERSION_STRING);
  if (std::strcmp(PQT_VERSION_STRING, PQT_EXPECTED_VERSION) != 0 || numeric != PQT_EXPECTED_VERSION) {
    std::fprintf(stderr, "version mismatch: header says %s (%s), CMake expected %s\n",
                 PQT_VERSION_STRING, numeric.c_str(), PQT_EXPECTED_VERSION);
    return 1;
  }
  return 0;
}
