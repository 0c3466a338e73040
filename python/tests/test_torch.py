"""pqt.torch: the custom ops on CPU tensors give the numpy path's bits (and
so the C++ API's), autograd is straight-through, torch.compile(fullgraph=True)
traces them, and CUDA tensors give the same bits where a GPU is present."""

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import pqt  # noqa: E402
import pqt.torch  # noqa: E402,F401
from conftest import bits_equal, make_inputs, same_values  # noqa: E402
from test_numpy import CASES, GAUSSWS, SHAPE  # noqa: E402



def _np(t):
    t = t.detach().cpu()
    if t.dtype == torch.bfloat16:
        import ml_dtypes
        return t.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
    if t.dtype.itemsize == 1 and t.dtype != torch.uint8:
        return t.view(torch.uint8).numpy()
    return t.numpy()


@pytest.mark.parametrize("case", CASES, ids=[str(c[0]) for c in CASES])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_ops_match_numpy(case, dtype):
    opts = case[0]
    x = torch.from_numpy(make_inputs(SHAPE[0] * SHAPE[1], seed=3).reshape(SHAPE)).to(dtype)
    xn = _np(x)
    y = pqt.fake_quant(x, **opts)
    assert y.dtype == dtype and y.shape == x.shape and y.device == x.device
    assert bits_equal(_np(y), pqt.fake_quant(xn, **opts))
    q, qn = pqt.quantize(x, **opts), pqt.quantize(xn, **opts)
    assert bits_equal(_np(q.codes).reshape(-1).view(np.uint8), np.ascontiguousarray(qn.codes).reshape(-1).view(np.uint8))
    assert bits_equal(_np(q.scales).reshape(-1), np.ascontiguousarray(qn.scales).reshape(-1).view(np.uint8))
    assert bits_equal(_np(q.tensor_scale), qn.tensor_scale)
    assert bits_equal(_np(pqt.dequantize(q)), _np(y))


@pytest.mark.parametrize("opts", GAUSSWS, ids=[str(o) for o in GAUSSWS])
def test_gaussws_matches_numpy(opts):
    w = torch.randn(SHAPE, generator=torch.Generator().manual_seed(1)) * 0.02
    for od in (torch.bfloat16, torch.float32):
        y = pqt.gaussws(w, seed=3, offset=9, out_dtype=od, **opts)
        assert y.dtype == od
        yn = pqt.gaussws(w.numpy(), seed=3, offset=9, out_dtype=_np(torch.zeros(1, dtype=od)).dtype, **opts)
        assert bits_equal(_np(y), yn)


def test_dtype_mapping():
    x = torch.from_numpy(make_inputs(32 * 64, seed=4).reshape(32, 64))
    for fmt, dt in [("e4m3", torch.float8_e4m3fn), ("e5m2", torch.float8_e5m2), ("e4m3fnuz", torch.float8_e4m3fnuz),
                    ("e5m2fnuz", torch.float8_e5m2fnuz), ("bf16", torch.bfloat16), ("fp16", torch.float16)]:
        q = pqt.quantize(x, fmt=fmt)
        assert q.codes.dtype == dt and q.codes.shape == x.shape, fmt
        # torch's own decode of pqt's codes is pqt's value
        assert bits_equal(_np(q.codes.float()), _np(pqt.fake_quant(x, fmt=fmt, overflow="saturate")))
    q4 = pqt.quantize(x, fmt="e2m1", scaling="mx")
    assert q4.codes.dtype == torch.float4_e2m1fn_x2 and q4.codes.shape == (32, 32)
    assert q4.scales.dtype == torch.float8_e8m0fnu and q4.scales.shape == (32, 2)
    qn = pqt.quantize(x, fmt="e2m1", scaling="nvfp4")
    assert qn.scales.dtype == torch.float8_e4m3fn and qn.scales.shape == (32, 4)
    assert pqt.quantize(x, fmt="e3m2", scaling="mx").codes.dtype == torch.uint8  # FP6: packed bytes
    mx = pqt.quantize(x, fmt="e4m3", scaling="mx")  # values = codes * scales, in torch's own arithmetic
    v = mx.codes.float() * mx.scales.float().repeat_interleave(32, dim=1)
    assert same_values(_np(v), _np(pqt.fake_quant(x, fmt="e4m3", scaling="mx")))


def test_straight_through_gradient():
    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        x = (torch.randn(256, generator=torch.Generator().manual_seed(2)) * 4).to(dtype).requires_grad_()
        g = torch.randn(256, generator=torch.Generator().manual_seed(3)).to(dtype)
        pqt.fake_quant(x, fmt="e2m1", scaling="mx").backward(g)
        assert x.grad.dtype == dtype and torch.equal(x.grad, g)  # identity, bit for bit
    w = torch.randn(64, 32, requires_grad=True)
    g = torch.randn(64, 32, dtype=torch.bfloat16)
    pqt.gaussws(w, bits=6, seed=1).backward(g)
    assert w.grad.dtype == torch.float32 and torch.equal(w.grad, g.float())
    # the gradient check: analytical Jacobian-vector products equal the identity's
    x = torch.randn(8, dtype=torch.float64).float().requires_grad_()
    y = pqt.fake_quant(x, fmt="e4m3")
    for i in range(8):
        (gx,) = torch.autograd.grad(y[i], x, retain_graph=True)
        assert torch.equal(gx, torch.nn.functional.one_hot(torch.tensor(i), 8).float())


def test_opcheck():
    x = torch.randn(4, 64)
    a = pqt.torch.op_args("e4m3", "mx", "stochastic", "saturate", seed=3)
    torch.library.opcheck(torch.ops.pqt.fake_quant, (x, *a))
    torch.library.opcheck(torch.ops.pqt.quantize, (x, *a))
    codes, scales, ts = torch.ops.pqt.quantize(x, *a)
    torch.library.opcheck(torch.ops.pqt.dequantize, (codes, scales, ts, [4, 64], torch.float32, a[0]))
    g = pqt.torch.gaussws_op_args(6, "r", "block", seed=2)
    torch.library.opcheck(torch.ops.pqt.gaussws, (x, *g, torch.bfloat16))
    # a non-contiguous input is an error when traced (dynamo wraps the
    # fake kernel's ValueError), as when run
    with pytest.raises(Exception, match="x must be contiguous"):
        torch.compile(lambda t: pqt.fake_quant(t, fmt="e4m3"), fullgraph=True, dynamic=False)(x.t())


class _Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = torch.nn.Linear(32, 64)
        self.l2 = torch.nn.Linear(64, 4)

    def forward(self, x, step: int):
        w1 = pqt.fake_quant(self.l1.weight, fmt="e4m3", scaling="mx", round="stochastic", seed=1, offset=step)
        h = torch.relu(torch.nn.functional.linear(pqt.torch.fake_quant(x, fmt="e4m3", scaling="mx"), w1, self.l1.bias))
        w2 = pqt.torch.gaussws(self.l2.weight, bits=6, seed=2, offset=step, out_dtype=torch.float32)
        return torch.nn.functional.linear(h, w2, self.l2.bias)


def _train(compiled: bool, steps: int = 12):
    torch.manual_seed(0)
    model = _Tiny()
    fwd = torch.compile(model, fullgraph=True) if compiled else model
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(5)
    losses = []
    for step in range(steps):
        x = torch.randn(16, 32, generator=gen)
        t = torch.randint(0, 4, (16,), generator=gen)
        loss = torch.nn.functional.cross_entropy(fwd(x, step), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def test_compile_fullgraph_same_losses():
    from torch._dynamo.utils import counters

    eager = _train(False)
    torch._dynamo.reset()
    counters.clear()
    compiled = _train(True)
    # the step (Philox offset) is an op argument, not a constant of the graph:
    # the first call compiles, the second once more with the step symbolic,
    # then no step recompiles (12 steps; dynamo's limit is 8)
    assert counters["stats"]["unique_graphs"] <= 2, dict(counters["stats"])
    # The same losses, bit for bit (Inductor keeps this small model's float
    # arithmetic in eager's order on the CPU), and the steps change the loss:
    assert compiled == eager
    assert len(set(eager)) == len(eager)


def test_meta_tensors_and_the_dispatcher_path():
    # meta tensors (shapes only) go through the ops' fake kernels
    m = torch.empty(64, 48, device="meta")
    assert pqt.fake_quant(m, fmt="e4m3", scaling="mx").shape == (64, 48)
    q = pqt.quantize(m, fmt="e2m1", scaling="nvfp4")
    assert q.codes.shape == (64, 24) and q.scales.shape == (64, 3) and q.codes.device.type == "meta"
    assert pqt.gaussws(m, bits=6).dtype == torch.bfloat16
    # fake tensors (what torch.compile and FSDP's meta init trace with) too
    from torch._subclasses.fake_tensor import FakeTensorMode

    with FakeTensorMode():
        f = torch.empty(8, 32)
        assert pqt.fake_quant(f, fmt="e4m3", scaling="mx").shape == (8, 32)
        assert pqt.quantize(f, fmt="e2m1", scaling="mx").codes.shape == (8, 16)
    # the eager shortcut and torch.ops give the same bits
    x = torch.from_numpy(make_inputs(4096, seed=9))
    a = pqt.torch.op_args("e3m2", "mx", "stochastic", seed=5, offset=2)
    assert bits_equal(_np(torch.ops.pqt.fake_quant(x, *a)),
                      _np(pqt.fake_quant(x, fmt="e3m2", scaling="mx", round="stochastic", seed=5, offset=2)))


def test_quantize_of_a_parameter_has_no_gradient():
    w = torch.randn(64, requires_grad=True)
    q = pqt.quantize(w, fmt="e4m3", scaling="tensor")
    assert not q.codes.requires_grad and not q.tensor_scale.requires_grad


def test_torch_errors():
    with pytest.raises(TypeError, match="float32, bfloat16"):
        pqt.fake_quant(torch.ones(4, dtype=torch.float64))
    with pytest.raises(ValueError, match="contiguous"):
        pqt.fake_quant(torch.ones(8, 8).t())
    with pytest.raises(ValueError, match="unknown format"):
        pqt.torch.fake_quant(torch.ones(8), fmt="fp7")
    with pytest.raises(ValueError, match="packed=False"):
        pqt.quantize(torch.ones(8), fmt="e2m1", packed=False)


def test_import_pqt_torch_without_torch_is_clear():
    code = ("import sys; sys.modules['torch'] = None\n"
            "try:\n    import pqt.torch\nexcept ImportError as e:\n    print(e)\n    sys.exit(0)\nsys.exit(1)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and "pqt.torch needs PyTorch" in r.stdout, r.stdout + r.stderr


def test_import_pqt_torch_leaves_torch_compile_unloaded():
    # torch._dynamo is 2.3 s of import: pqt.torch marks its traced helper
    # without it (test_compile_fullgraph_same_losses checks the mark works)
    code = "import sys, pqt.torch, pqt.torch.nn; print('torch._dynamo' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "False", r.stdout + r.stderr


cuda = pytest.mark.skipif(not (torch.cuda.is_available() and pqt.cuda_built),
                          reason="needs a CUDA GPU and pqt built with nvcc "
                                 f"(GPU: {torch.cuda.is_available()}, pqt built with CUDA: {pqt.cuda_built})")


@cuda
@pytest.mark.parametrize("case", CASES, ids=[str(c[0]) for c in CASES])
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_cuda_matches_cpu(case, dtype):
    opts = case[0]
    x = torch.from_numpy(make_inputs(SHAPE[0] * SHAPE[1], seed=6).reshape(SHAPE)).to(dtype)
    xc = x.cuda()
    y = pqt.fake_quant(xc, **opts)
    assert y.device == xc.device and y.dtype == dtype
    assert bits_equal(_np(y), _np(pqt.fake_quant(x, **opts)))
    q, qc = pqt.quantize(x, **opts), pqt.quantize(xc, **opts)
    assert bits_equal(_np(qc.tensor_scale), _np(q.tensor_scale))
    assert bits_equal(_np(qc.codes).reshape(-1), _np(q.codes).reshape(-1))
    assert bits_equal(_np(qc.scales).reshape(-1), _np(q.scales).reshape(-1))
    assert bits_equal(_np(pqt.dequantize(qc)), _np(pqt.dequantize(q)))


@cuda
@pytest.mark.parametrize("opts", GAUSSWS, ids=[str(o) for o in GAUSSWS])
def test_cuda_gaussws_matches_cpu(opts):
    w = torch.randn(SHAPE) * 0.02
    for od in (torch.bfloat16, torch.float32):
        assert bits_equal(_np(pqt.gaussws(w.cuda(), seed=4, out_dtype=od, **opts)),
                          _np(pqt.gaussws(w, seed=4, out_dtype=od, **opts)))


@cuda
def test_cuda_runs_on_the_current_stream_and_compiles():
    s = torch.cuda.Stream()
    with torch.cuda.stream(s):  # produced and consumed on s: no cross-stream race
        x = torch.randn(1 << 20, device="cuda")
        y = pqt.fake_quant(x, fmt="e4m3", scaling="mx")
        q = pqt.quantize(x[:0], fmt="e4m3", scaling="tensor")
    s.synchronize()
    assert q.tensor_scale.item() == 1.0  # n = 0 still writes the tensor scale
    assert bits_equal(_np(y), _np(pqt.fake_quant(x.cpu(), fmt="e4m3", scaling="mx")))
    f = torch.compile(lambda t: pqt.torch.fake_quant(t, fmt="e2m1", scaling="nvfp4") * 2, fullgraph=True)
    assert bits_equal(_np(f(x)), _np(pqt.fake_quant(x, fmt="e2m1", scaling="nvfp4") * 2))
