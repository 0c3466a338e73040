"""pqt: exact low-precision floating point for numpy and PyTorch.

Every number comes from pqt's C++ headers (the same bits as the C++ API and
the CUDA kernels); this package adapts arrays. Functions take numpy arrays
(float32, ml_dtypes.bfloat16, float16) and torch tensors (float32, bfloat16,
float16; CPU, and CUDA when built with nvcc) and return results of the
input's type, device and dtype. Torch tensors go through the custom ops of
``pqt.torch`` (autograd, torch.compile); ``import pqt`` itself never imports
torch.

    >>> import numpy as np, pqt
    >>> pqt.fake_quant(np.float32([1.3, 500.0]), fmt="e4m3")
    array([  1.25, 448.  ], dtype=float32)
"""

from ._core import (
    Format,
    Quantized,
    cuda_built,
    dequantize,
    fake_quant,
    format,
    gaussws,
    quantize,
)
from ._pqt import __version__

__all__ = [
    "Format",
    "Quantized",
    "__version__",
    "cuda_built",
    "dequantize",
    "fake_quant",
    "format",
    "gaussws",
    "quantize",
]
