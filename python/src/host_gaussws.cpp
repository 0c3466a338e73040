// Host gaussws of pqt._pqt (see ops.hpp).

#include <pqt/fake_quant.hpp>

#include "host_ops.hpp"

namespace pqt_py {

void host_gaussws(elem t, const void* w, bool out_bf16, void* out, std::size_t n, const pqt::gaussws_config& g) {
  with_elem(t, [&](auto* tag) {
    using T = std::remove_pointer_t<decltype(tag)>;
    const T* wp = static_cast<const T*>(w);
    if (out_bf16) pqt::gaussws(wp, static_cast<pqt::bf16*>(out), n, g);
    else pqt::gaussws(wp, static_cast<float*>(out), n, g);
  });
}

}  // namespace pqt_py
