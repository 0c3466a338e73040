// Host dequantize of pqt._pqt (see ops.hpp).

#include <pqt/fake_quant.hpp>

#include "host_ops.hpp"

namespace pqt_py {

void host_dequantize(elem t, const pqt::quantized_view& q, const pqt::quant_config& c, void* out, std::size_t n) {
  with_elem(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    pqt::dequantize(q, c, static_cast<T*>(out), n);
  });
}

}  // namespace pqt_py
