"""pqt.torch.nn: QuantLinear's forward and both backward products equal the
explicit composition of pqt.fake_quant / pqt.gaussws calls and matmuls, bit
for bit, for each recipe kind; the step is the Philox offset; convert swaps
the Linear layers in place, sharing their parameters."""

import pytest

torch = pytest.importorskip("torch")
import pqt  # noqa: E402
import pqt.torch  # noqa: E402,F401
from pqt.torch import nn as qnn  # noqa: E402

RECIPES = ["e8m3_sr", "e8m5_trunc", "e5m7_rne", "fp8_tensor", "mxfp8", "mxfp4", "nvfp4", "gaussws_b6", "diffq_b4"]


def _blocked(spec):
    return isinstance(spec, qnn.FQ) and spec.scaling in ("mx", "nvfp4", "tile")


def _along_rows(spec, t, seed, offset):
    """t quantized with its blocks along the second-to-last axis (the other
    contraction axis); element-wise specs are not requantized by the layer."""
    return _explicit(spec, t.transpose(-2, -1).contiguous(), seed, offset).transpose(-2, -1)


def _explicit(spec, t, seed, offset):
    """The operand as a user would write it with pqt's functions."""
    if spec is None:
        return t
    if isinstance(spec, qnn.GaussWS):
        return pqt.gaussws(t.contiguous(), bits=spec.bits, noise=spec.noise, delta=spec.delta,
                           out_dtype=spec.out_dtype, seed=seed, offset=offset).to(t.dtype)
    kw = {"seed": seed, "offset": offset} if spec.round in ("stochastic", "gaussian") else {}
    return pqt.fake_quant(t.contiguous(), fmt=spec.fmt, scaling=spec.scaling, round=spec.round,
                          overflow=spec.overflow, **kw)


@pytest.mark.parametrize("name", RECIPES)
def test_quant_linear_is_the_explicit_composition(name):
    recipe = qnn.RECIPES[name]
    gen = torch.Generator().manual_seed(3)
    lin = torch.nn.Linear(64, 32)
    step = qnn.Step(7)
    q = qnn.QuantLinear.from_linear(lin, recipe, step, "blocks.0.mlp")
    x = torch.randn(4, 16, 64, generator=gen, requires_grad=True)
    dy = torch.randn(4, 16, 32, generator=gen)
    y = q(x)
    y.backward(dy)

    s_in, s_w, s_g = (qnn.stream_seed(recipe.seed, "blocks.0.mlp", op) for op in ("input", "weight", "grad_output"))
    xq = _explicit(recipe.input, x.detach(), s_in, 7)
    wq = _explicit(recipe.weight, lin.weight.detach(), s_w, 7)
    g = _explicit(recipe.grad_output, dy, s_g, 7)
    y_ref = xq @ wq.t() + lin.bias.detach()
    # backward operands blocked along their contraction axes: W along N for dx,
    # dy and x along the tokens for dW (element-wise specs reuse the forward copies)
    w_n = _along_rows(recipe.weight, lin.weight.detach(), s_w, 7) if _blocked(recipe.weight) else wq
    dx_ref = g @ w_n
    g2, x2 = dy.reshape(-1, 32), x.detach().reshape(-1, 64)
    g_t = _along_rows(recipe.grad_output, g2, s_g, 7) if _blocked(recipe.grad_output) else g.reshape(-1, 32)
    x_t = _along_rows(recipe.input, x2, s_in, 7) if _blocked(recipe.input) else xq.reshape(-1, 64)
    dw_ref = g_t.t() @ x_t
    assert torch.equal(y.detach(), y_ref)
    assert torch.equal(x.grad, dx_ref)
    assert torch.equal(lin.weight.grad, dw_ref)
    assert torch.equal(lin.bias.grad, dy.sum(dim=(0, 1)))
    # the recipe changed something (else the test proves nothing)
    assert not torch.equal(y.detach(), torch.nn.functional.linear(x.detach(), lin.weight.detach(), lin.bias.detach()))


def test_step_is_the_offset_and_resumes():
    recipe = qnn.RECIPES["mxfp4"]  # stochastic output gradients
    lin = torch.nn.Linear(32, 32)
    step = qnn.Step()
    q = qnn.QuantLinear.from_linear(lin, recipe, step, "l")
    x = torch.randn(8, 32)
    dy = torch.randn(8, 32)  # not on the FP4 grid: stochastic rounding has something to do

    def grad_at(value):
        step.load_state_dict({"value": value})
        lin.weight.grad = None
        q(x).backward(dy)
        return lin.weight.grad.clone()

    a, b = grad_at(0), grad_at(1)
    assert not torch.equal(a, b)  # new noise each step
    assert torch.equal(grad_at(0), a)  # regenerated, not stored: the same step gives the same bits
    step.advance(2)
    assert step.state_dict() == {"value": 2, "micro": 0}
    w = qnn.RECIPES["gaussws_b4"]
    q2 = qnn.QuantLinear.from_linear(lin, w, qnn.Step(3), "m")
    assert torch.equal(q2(x), qnn.QuantLinear.from_linear(lin, w, qnn.Step(3), "m")(x))
    assert not torch.equal(q2(x), qnn.QuantLinear.from_linear(lin, w, qnn.Step(3), "other")(x))  # own stream


def test_convert_swaps_linear_layers_in_place():
    model = torch.nn.Sequential(torch.nn.Embedding(10, 16), torch.nn.Linear(16, 16), torch.nn.ReLU(),
                                torch.nn.Sequential(torch.nn.Linear(16, 16)), torch.nn.Linear(16, 10))
    params = [id(p) for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    step = qnn.Step()
    qnn.convert(model, qnn.RECIPES["mxfp8"], step=step, exclude=("4",))
    assert isinstance(model[1], qnn.QuantLinear) and isinstance(model[3][0], qnn.QuantLinear)
    assert type(model[4]) is torch.nn.Linear and type(model[0]) is torch.nn.Embedding  # head, embedding stay
    assert model[3][0].qname == "3.0" and model[1].step is step
    assert [id(p) for p in model.parameters()] == params  # the same Parameters
    before = model[1].weight.detach().clone()
    model(torch.tensor([[1, 2, 3]])).sum().backward()
    opt.step()  # the optimizer made before convert updates the quantized layers
    assert not torch.equal(before, model[1].weight.detach())
    only = qnn.convert(torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Linear(4, 4)), qnn.RECIPES["mxfp8"],
                       include=("1",))
    assert type(only[0]) is torch.nn.Linear and isinstance(only[1], qnn.QuantLinear)


def test_quant_matmul_for_attention_products():
    gen = torch.Generator().manual_seed(4)
    q = torch.randn(2, 3, 8, 32, generator=gen, requires_grad=True)   # (batch, heads, tokens, head dim)
    k = torch.randn(2, 3, 8, 32, generator=gen, requires_grad=True)
    dy = torch.randn(2, 3, 8, 8, generator=gen)
    r = qnn.Recipe(qnn.FQ("e4m3", "mx", "stochastic"), qnn.FQ("e4m3", "mx", "stochastic"),
                   qnn.FQ("e5m2", "mx", "stochastic"), seed=5)
    s = qnn.quant_matmul(q, k, r, "attn.qk", offset=2)
    s.backward(dy)
    s_in, s_w, s_g = qnn.stream_seeds(r, "attn.qk")
    qq, kq = _explicit(r.input, q.detach(), s_in, 2), _explicit(r.weight, k.detach(), s_w, 2)
    assert torch.equal(s.detach(), qq @ kq.transpose(-2, -1))
    g = _explicit(r.grad_output, dy, s_g, 2)
    assert torch.equal(q.grad, g @ _along_rows(r.weight, k.detach(), s_w, 2))
    gt, qt = _along_rows(r.grad_output, dy, s_g, 2), _along_rows(r.input, q.detach(), s_in, 2)
    assert torch.equal(k.grad, gt.transpose(-2, -1) @ qt)
    other = qnn.quant_matmul(q.detach(), k.detach(), r, "attn.pv", offset=2)
    assert not torch.equal(other, s.detach())  # another name, another stream


def test_frozen_weight_no_bias_and_autocast():
    lin = torch.nn.Linear(32, 16, bias=False)
    q = qnn.QuantLinear.from_linear(lin, qnn.RECIPES["mxfp8"], name="l")
    assert list(q.state_dict()) == list(lin.state_dict()) == ["weight"] and q.bias is None
    x = torch.randn(4, 32, requires_grad=True)
    q(x).sum().backward()
    gx = x.grad.clone()
    lin.weight.requires_grad_(False)  # frozen (e.g. LoRA): no weight gradient is formed
    x.grad = lin.weight.grad = None
    q(x).sum().backward()
    assert lin.weight.grad is None and torch.equal(x.grad, gx)
    lin.weight.requires_grad_(True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = q(x)
    y.float().sum().backward()  # the bf16 product's gradient meets float32 operands
    assert lin.weight.grad is not None
    # GaussWS under bf16 autocast hands the bf16 carrier to the GEMM: the same
    # product as casting the float32 copy back
    g = qnn.QuantLinear.from_linear(lin, qnn.RECIPES["gaussws_b4"], qnn.Step(2), name="g")
    xb = torch.randn(4, 32, dtype=torch.bfloat16, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        yg = g(xb)
    wq = pqt.gaussws(lin.weight.detach(), bits=4, out_dtype=torch.bfloat16, seed=g.seeds[1], offset=2)
    assert yg.dtype == torch.bfloat16 and torch.equal(yg, xb.detach() @ wq.t())
    yg.float().sum().backward()
    assert xb.grad.dtype == torch.bfloat16 and lin.weight.grad.dtype == torch.float32
    with pytest.raises(ValueError, match="rounded twice"):
        qnn.GaussWS(6, out_dtype=torch.float32).apply(torch.ones(4, 4, dtype=torch.bfloat16), 0, 0)


def test_segment_matching():
    assert qnn._matches("blocks.1.mlp", "1") and qnn._matches("blocks.1.mlp", "blocks.1")
    assert not qnn._matches("blocks.10.mlp", "1") and not qnn._matches("blocks.11", "blocks.1")
    shared = torch.nn.Linear(4, 4)
    m = torch.nn.Module()
    m.a, m.b = shared, shared
    qnn.convert(m, qnn.RECIPES["mxfp8"])
    assert isinstance(m.a, qnn.QuantLinear) and m.a is m.b  # one layer, one stream


def test_micro_batches_draw_their_own_input_and_gradient_bits():
    recipe = qnn.Recipe(weight=qnn.GaussWS(4), input=qnn.FQ("e4m3", "mx", "stochastic"),
                        grad_output=qnn.FQ("e5m2", "mx", "stochastic"))
    lin = torch.nn.Linear(64, 32)
    x, dy = torch.randn(8, 64), torch.randn(8, 32)
    s_in, s_w, s_g = qnn.stream_seeds(recipe, "l")
    base = 3 * qnn.MICRO_STRIDE
    q = qnn.QuantLinear.from_linear(lin, recipe, qnn.Step(5, micro=3), "l")
    xr = x.clone().requires_grad_(True)
    y = q(xr)
    y.backward(dy)
    xq = pqt.fake_quant(x, "e4m3", "mx", "stochastic", seed=s_in, offset=5, index_base=base)
    wq = _explicit(recipe.weight, lin.weight.detach(), s_w, 5)  # the weight's noise: the same on every rank
    g = pqt.fake_quant(dy, "e5m2", "mx", "stochastic", seed=s_g, offset=5, index_base=base)
    assert torch.equal(y.detach(), xq @ wq.t() + lin.bias.detach())
    assert torch.equal(xr.grad, g @ wq)
    y0 = qnn.QuantLinear.from_linear(lin, recipe, qnn.Step(5, micro=0), "l")(x)
    assert not torch.equal(y0.detach(), y.detach())


def _current(x, fmt, **kw):
    """Per-tensor current scaling through the C++ kernel: (values, s)."""
    q = pqt.quantize(x, fmt, "tensor", **kw)
    return pqt.fake_quant(x, fmt, "tensor", **kw), q.tensor_scale.item()


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
@pytest.mark.parametrize("margin,pow2", [(0, False), (1, True), (-2, False)])
def test_delayed_scaling_is_the_cpp_tensor_scaling_with_the_windows_scale(dtype, margin, pow2):
    spec = qnn.Delayed("e4m3", history=1, algo="most_recent", margin=margin, power_of_two=pow2)
    state = spec.state()
    gen = torch.Generator().manual_seed(6)
    x = (torch.randn(64, 48, generator=gen) * 1e-3).to(dtype)
    first = spec.apply_state(x, 0, 0, 0, state)  # empty window: s = 1
    assert torch.equal(first, pqt.fake_quant(x, "e4m3", "tensor", tensor_scale=1.0))
    again = spec.apply_state(x, 0, 0, 0, state)  # the window holds amax(x): current scaling's s
    ref, s = _current(x, "e4m3", margin=margin, power_of_two=pow2)
    assert state[1].item() == s and torch.equal(again, ref)
    assert not torch.equal(first, again)


@pytest.mark.parametrize("fmt", ["e4m3", "e5m2"])
def test_delayed_scale_rule_is_compute_scale_at_the_edges(fmt):
    """Tiny amaxes (the quotient overflows float), huge ones and margins (it
    rounds to 0 or the target leaves float), power-of-two: the scale of the C++
    current scaling (previous scale 1 at its fall-backs)."""
    for margin in (0, 1, -2, 100, 156, 157, -120, -200, 1000, -1000):
        for pow2 in (False, True):
            spec = qnn.Delayed(fmt, history=1, algo="most_recent", margin=margin, power_of_two=pow2)
            for a in (1e-37, 1e-45, 5e-39, 1e-30, 0.3, 1.0, 448.0, 3e38, 3.4e38):
                x = torch.tensor([a, -a / 3])
                want = pqt.torch.quantize(x, fmt, "tensor", margin=float(margin), power_of_two=pow2).tensor_scale
                got = spec.scale_of(x.abs().amax(), torch.ones(()))
                assert got.item() == want.item(), (margin, pow2, a)


def test_delayed_scaling_window():
    spec = qnn.Delayed("e5m2", history=3, algo="max")
    hist, scale = state = spec.state()
    for a in (2.0, 8.0, 1.0, 0.5, 0.25):
        spec.apply_state(torch.tensor([a, -a / 3]), 0, 0, 0, state)
    assert hist.tolist() == [1.0, 0.5, 0.25]  # 8 left the window
    assert scale.item() == _current(torch.tensor([1.0]), "e5m2")[1]
    spec.apply_state(torch.tensor([float("nan")]), 0, 0, 0, state)
    assert scale.item() == _current(torch.tensor([1.0]), "e5m2")[1]  # a NaN in the window keeps the scale
    with pytest.raises(ValueError, match="history"):
        qnn.Delayed("e4m3", history=0)
    with pytest.raises(ValueError, match="margin"):
        qnn.Delayed("e4m3", margin=0.5)
    with pytest.raises(ValueError):
        qnn.Delayed("e9m9")
    with pytest.raises(ValueError, match="delayed"):
        qnn.quant_matmul(torch.ones(2, 2), torch.ones(2, 2), qnn.RECIPES["fp8_delayed"], "x")


def _model(recipe, step, exclude=("4",)):
    torch.manual_seed(11)
    m = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
                            torch.nn.Linear(64, 8))
    return qnn.convert(m, recipe, step=step, exclude=exclude)


def _train(model, opt, step, steps, data):
    losses = []
    for i in range(steps):
        x, t = data[step.value % len(data)]
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), t)
        loss.backward()
        opt.step()
        step.advance()
        losses.append(loss.detach())
    return torch.stack(losses)


def _data():
    gen = torch.Generator().manual_seed(12)
    return [(torch.randn(16, 32, generator=gen), torch.randint(0, 8, (16,), generator=gen)) for _ in range(4)]


@pytest.mark.parametrize("name", ["gaussws_b4", "mxfp4", "fp8_delayed", "e8m3_sr"])
def test_resume_continues_the_same_bits(name, tmp_path):
    recipe, data = qnn.RECIPES[name], _data()
    step = qnn.Step()
    m = _model(recipe, step)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-2)
    whole = _train(m, opt, step, 6, data)

    step = qnn.Step()
    m = _model(recipe, step)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-2)
    first = _train(m, opt, step, 3, data)
    torch.save({"model": m.state_dict(), "opt": opt.state_dict(), "step": step.state_dict()}, tmp_path / "ck.pt")
    if name == "fp8_delayed":
        assert "2.amax_history_input" in m.state_dict()  # the window is saved
    step = qnn.Step()
    m = _model(recipe, step)  # fresh: noise is regenerated from the step, nothing else is stored
    opt = torch.optim.AdamW(m.parameters(), lr=1e-2)
    ck = torch.load(tmp_path / "ck.pt")
    m.load_state_dict(ck["model"])
    opt.load_state_dict(ck["opt"])
    step.load_state_dict(ck["step"])
    rest = _train(m, opt, step, 3, data)
    assert torch.equal(torch.cat([first, rest]), whole)


@pytest.mark.parametrize("name", ["mxfp4", "gaussws_b6", "fp8_delayed"])
def test_compiled_model_trains_like_eager(name):
    import torch._dynamo
    torch._dynamo.reset()
    graphs = []

    def backend(gm, example_inputs):
        graphs.append(gm)
        from torch._inductor.compile_fx import compile_fx
        return compile_fx(gm, example_inputs)

    recipe, data = qnn.RECIPES[name], _data()
    runs = []
    for compiled in (False, True):
        step = qnn.Step()
        # every layer quantized: inductor sums a plain nn.Linear's bias gradient
        # in another order than eager (torch's last bits, not pqt's)
        m = _model(recipe, step, exclude=())
        opt = torch.optim.SGD(m.parameters(), lr=0.05)
        f = torch.compile(m, backend=backend, fullgraph=True) if compiled else m
        with torch._dynamo.config.patch(allow_unspec_int_on_nn_module=True):  # Step's advice
            runs.append(_train(f, opt, step, 8, data))
    assert torch.equal(runs[0], runs[1])
    assert len(graphs) <= 2  # the step became symbolic: no graph per step


def test_quant_matmul_module_keeps_delayed_state():
    a, b = torch.randn(2, 8, 32), torch.randn(2, 8, 32)
    r = qnn.RECIPES["mxfp8"]
    mod = qnn.QuantMatmul(r, qnn.Step(4, micro=1), "attn.qk")
    assert torch.equal(mod(a, b), qnn.quant_matmul(a, b, r, "attn.qk", offset=4, micro=1))
    d = qnn.QuantMatmul(qnn.RECIPES["fp8_delayed"], name="attn.pv")
    assert sorted(d.state_dict()) == sorted(f"{k}_{op}" for k in ("amax_history", "scale")
                                            for op in ("input", "weight", "grad_output"))
    d(a, b)
    assert d.amax_history_input[-1] == a.abs().max() and d.amax_history_weight[-1] == b.abs().max()
    assert d.scale_weight.item() == _current(b, "e4m3")[1]


def test_shard_checks_and_the_gather_wrapper_outside_fsdp():
    from pqt.torch import _sharding
    assert _sharding.check_rows(qnn.FQ("e4m3", "mx"), 3, 64) == 192
    with pytest.raises(ValueError, match="splits a block"):
        _sharding.check_rows(qnn.FQ("e4m3", "mx"), 3, 48)  # element 144 is inside a block of 32
    with pytest.raises(ValueError, match="whole weight's amax"):
        _sharding.check_rows(qnn.FQ("e2m1", "nvfp4"), 4, 64)
    with pytest.raises(ValueError, match="tile"):
        _sharding.check_rows(qnn.GaussWS(6, options=(("scaling", "tile"),)), 8, 64)
    assert _sharding.check_rows(qnn.GaussWS(6, options=(("scaling", "tile"),)), 16, 64) == 1024
    m = qnn.convert(torch.nn.Sequential(torch.nn.Linear(32, 32), torch.nn.Linear(32, 4)), qnn.RECIPES["gaussws_b6"],
                    exclude=("1",))
    assert qnn.gaussws_before_all_gather(m) == 1 and qnn.gaussws_before_all_gather(m) == 0
    assert isinstance(m[0].weight, _sharding.NoisyShard) and torch.equal(m[0].weight * 1, m[0].weight._data)
    with pytest.raises(RuntimeError, match="fully_shard"):
        m(torch.ones(2, 32))  # without FSDP2 nothing would sample the noise
    m.to(torch.bfloat16)  # the wrapped data moves with the wrapper (Module._apply swaps traceable wrappers)
    assert isinstance(m[0].weight, _sharding.NoisyShard) and m[0].weight._data.dtype == torch.bfloat16
