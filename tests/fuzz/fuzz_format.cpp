// libFuzzer: format_desc::parse on arbitrary strings, with and without
// modifiers. Invariants: parse either returns a format or throws
// std::invalid_argument (nothing else, no crash); name() parses back to the
// same format and is its own name again; the facts are consistent (width,
// largest code decodes to max(), the lowest value is -max or code 0's).
#include <stdexcept>
#include <string>
#include <string_view>

#include <pqt/runtime.hpp>

#include "fuzz_support.hpp"

namespace {

void check_format(const pqt::format_desc& d) {
  const std::string name = d.name();
  const pqt::format_desc back = pqt::format_desc::parse(name);  // must not throw
  PQT_FUZZ_CHECK(back == d);
  PQT_FUZZ_CHECK(back.name() == name);
  PQT_FUZZ_CHECK(d.total_bits() >= 1 && d.total_bits() <= 32);
  PQT_FUZZ_CHECK(d.max() == d.decode(d.max_code()));
  PQT_FUZZ_CHECK(d.max() > 0);
  PQT_FUZZ_CHECK(d.is_signed() ? d.lowest() == -d.max() : d.lowest() == d.decode(0));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  pqt_fuzz::reader r{data, size};
  const std::uint8_t how = r.byte();
  const std::uint8_t enc = r.byte(), sign = r.byte();
  const int bias = static_cast<int>(r.take<std::int16_t>());
  const std::string_view s(reinterpret_cast<const char*>(r.p), r.n);
  try {
    if (how & 1) {
      pqt::format_modifiers mod;
      if (how & 2) mod.enc = static_cast<pqt::encoding>(enc % 8);  // out-of-range values too: must be rejected
      if (how & 4) mod.bias = bias;
      mod.is_unsigned = (sign & 1) != 0;
      mod.is_signed = (sign & 2) != 0;
      check_format(pqt::format_desc::parse(s, mod));
    } else {
      check_format(pqt::format_desc::parse(s));
    }
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
