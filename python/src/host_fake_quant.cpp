// Host fake_quant of pqt._pqt (see ops.hpp).

#include <pqt/fake_quant.hpp>

#include "host_ops.hpp"

namespace pqt_py {

void host_fake_quant(elem t, const void* x, void* out, std::size_t n, const pqt::quant_config& c) {
  with_elem(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    pqt::fake_quant(static_cast<const T*>(x), static_cast<T*>(out), n, c);
  });
}

}  // namespace pqt_py
