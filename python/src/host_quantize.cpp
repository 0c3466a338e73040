// Host quantize of pqt._pqt (see ops.hpp).

#include <pqt/fake_quant.hpp>

#include "host_ops.hpp"

namespace pqt_py {

void host_quantize(elem t, const void* x, std::size_t n, const pqt::quant_config& c, const pqt::quantized_view& q) {
  with_elem(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    pqt::quantize(static_cast<const T*>(x), n, c, q);
  });
}

}  // namespace pqt_py
