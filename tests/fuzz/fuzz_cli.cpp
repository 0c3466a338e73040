// libFuzzer: the pqt command line (tools/pqt.cpp, its main renamed) on
// arbitrary argument vectors: the input split at NUL bytes into at most 12
// arguments (`noise` counts of more than 5 digits left out). Invariant: it returns 0 or 2 (usage error) and never crashes,
// whatever the arguments; its output goes to /dev/null.
#include <cstdio>
#include <string>
#include <vector>

// The tool's messages go to /dev/null (stdout at start-up, stderr through
// this macro for the tool's code only): libFuzzer's and the sanitizers'
// reports still reach the real stderr.
static std::FILE* pqt_fuzz_null() {
  static std::FILE* f = std::fopen("/dev/null", "w");
  return f;
}
#undef stderr
#define stderr pqt_fuzz_null()
#define main pqt_cli_main
#include "../../tools/pqt.cpp"
#undef main
#undef stderr
#define stderr stderr

#include "fuzz_support.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  return std::freopen("/dev/null", "w", stdout) == nullptr ? 1 : 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args{"pqt"};
  std::string cur;
  for (std::size_t i = 0; i < size && args.size() < 12; ++i) {
    if (data[i] == 0) {
      args.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  if (!cur.empty() && args.size() < 12) args.push_back(cur);
  // `noise --count N` draws N words (up to 10^9, a legitimate request): keep
  // the fuzzer's runs short by leaving out counts of more than 5 digits.
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.rfind("--count", 0) != 0) continue;
    const std::string v = a.size() > 8 ? a.substr(8) : (i + 1 < args.size() ? args[i + 1] : "");
    if (v.size() > 5) return 0;
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const int rc = pqt_cli_main(static_cast<int>(args.size()), argv.data());
  PQT_FUZZ_CHECK(rc == 0 || rc == 2);
  return 0;
}
