#pragma once
// with_elem: calls f with a null pointer of the host element type of t.

#include <pqt/minifloat.hpp>

#include "ops.hpp"

namespace pqt_py {

template <class F>
void with_elem(elem t, F&& f) {
  switch (t) {
    case elem::f32: return f(static_cast<float*>(nullptr));
    case elem::bf16: return f(static_cast<pqt::bf16*>(nullptr));
    case elem::f16: return f(static_cast<pqt::fp16*>(nullptr));
  }
}

}  // namespace pqt_py
