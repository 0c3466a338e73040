"""Quantizing FSDP2 shards where they lie (pqt.torch.nn): the checks that a
spec's groups do not straddle a shard boundary, and the parameter wrapper
that makes FSDP2 all-gather GaussWS-sampled bf16 rows instead of the float32
master weights."""

from __future__ import annotations

import torch
from torch.utils._pytree import tree_map

from . import gaussws


def is_dtensor(t: torch.Tensor) -> bool:
    if not torch.distributed.is_available():
        return False
    from torch.distributed.tensor import DTensor
    return isinstance(t, DTensor)


def check_rows(spec, row0: int, cols: int) -> int:
    """The flattened offset row0·cols of a shard of whole rows, after checking
    that spec (an FQ, Delayed or GaussWS operand) can be applied to the shard
    alone: no whole-tensor amax, no block or tile split by the boundary."""
    opts = dict(getattr(spec, "options", ()))
    if hasattr(spec, "bits"):  # GaussWS: its groups are its scaling's
        kind = opts.get("scaling", "block")
    else:
        kind = getattr(spec, "scaling", "none")
    base = row0 * cols
    if kind in ("tensor", "nvfp4"):
        raise ValueError(f"pqt.torch.nn: {kind} scaling needs the whole weight's amax; quantize the gathered weight")
    if kind in ("mx", "block"):
        block = opts.get("block_size", 32)
        if base % block:
            raise ValueError(f"pqt.torch.nn: the shard starting at element {base} splits a block of {block}")
    if kind == "tile":
        rows = opts.get("tile", (16, 16))[0]
        if row0 % rows:
            raise ValueError(f"pqt.torch.nn: the shard starting at row {row0} splits a tile of {rows} rows")
    return base


def local_rows(w, spec):
    """(local shard, its offset in the flattened weight) of a 2-D DTensor
    sharded on dim 0, checked with check_rows."""
    from torch.distributed.tensor import Shard
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset
    if w.dim() != 2 or any(not isinstance(p, Shard) or p.dim != 0 for p in w.placements):
        raise ValueError(f"pqt.torch.nn: a sharded weight must be 2-D and sharded on its rows, got {w.placements}")
    _, (row0, _) = compute_local_shape_and_global_offset(w.shape, w.device_mesh, w.placements)
    return w.to_local(), check_rows(spec, row0, w.shape[1])


_aten = torch.ops.aten
# the ops through which FSDP2 makes and reshapes a shard, and load_state_dict
# writes one: their results stay NoisyShards; every other op sees plain tensors
_KEEP = {_aten.split.Tensor, _aten.split_with_sizes.default, _aten.new_zeros.default, _aten.slice.Tensor,
         _aten.narrow.default, _aten.view.default, _aten._unsafe_view.default, _aten.detach.default,
         _aten.alias.default, _aten.clone.default, _aten.as_strided.default, _aten.copy_.default,
         _aten._to_copy.default, _aten.empty_like.default}


class NoisyShard(torch.Tensor):
    """A float32 weight (or FSDP2 shard of one) of a QuantLinear whose weight
    operand is GaussWS. FSDP2 asks it what to all-gather
    (fsdp_pre_all_gather): the GaussWS sample of its own rows, in the bf16
    carrier, with index_base = the rows' offset in the flattened weight, so
    the gathered weight is bit for bit the sample of the whole weight; the
    unsharded parameter is that sample widened to float32 (exact), and the
    layer uses it as it is. Every other op sees the plain float32 tensor."""

    @staticmethod
    def __new__(cls, data: torch.Tensor, layer):
        t = torch.Tensor._make_wrapper_subclass(cls, data.size(), strides=data.stride(),
                                                storage_offset=data.storage_offset(), dtype=data.dtype,
                                                device=data.device, requires_grad=data.requires_grad)
        t._data, t._layer = data, layer
        return t

    def __init__(self, data, layer):
        pass

    def __repr__(self):
        return f"NoisyShard({self._data!r})"

    def __reduce_ex__(self, protocol):
        return self._data.__reduce_ex__(protocol)  # checkpoints hold the float32 weights

    # a traceable wrapper: Module.to / to_empty swap the whole tensor, so the
    # wrapped data moves with it
    def __tensor_flatten__(self):
        return ["_data"], self._layer

    @staticmethod
    def __tensor_unflatten__(inner, layer, outer_size, outer_stride):
        return NoisyShard(inner["_data"], layer)

    __torch_function__ = torch._C._disabled_torch_function_impl

    @classmethod
    def __torch_dispatch__(cls, func, types, args=(), kwargs=None):
        layer = None

        def unwrap(x):
            nonlocal layer
            if isinstance(x, cls):
                layer = x._layer
                return x._data
            return x

        a, k = tree_map(unwrap, (args, kwargs or {}))
        out = func(*a, **k)
        if func in _KEEP:
            return tree_map(lambda t: cls(t, layer) if type(t) is torch.Tensor else t, out)
        return out

    def fsdp_pre_all_gather(self, mesh, outer_size, outer_stride, module, mp_policy):
        lay, data = self._layer, self._data
        if data.device != self.device or data.dtype != self.dtype:
            raise RuntimeError("pqt.torch.nn: a NoisyShard's data was moved apart from it")
        # FSDP2 gives rank r rows [r·p, r·p + rows) with p = ceil(N / world)
        # and gathers p rows from every rank (the last may hold fewer)
        world, rank = mesh.size(), mesh.get_local_rank()
        cols, p = outer_size[1], -(-outer_size[0] // world)
        spec = lay.recipe.weight
        for r in range(world):  # every rank checks every shard: all raise, none waits in a collective
            check_rows(spec, r * p, cols)
        q = gaussws(data.contiguous(), spec.bits, spec.noise, spec.delta, out_dtype=torch.bfloat16,
                    seed=lay.seeds[1], offset=lay.step.value, index_base=rank * p * cols, **dict(spec.options))
        if q.shape[0] < p:  # padding rows, which FSDP2 drops after the gather
            q = torch.cat([q, q.new_zeros(p - q.shape[0], cols)])
        return (q,), None

    def fsdp_post_all_gather(self, outputs, metadata, param_dtype, *, out=None):
        (q,) = outputs
        if out is not None:  # later steps: into the unsharded parameter, as FSDP2's own all-gather writes
            with torch.no_grad(), torch.autograd._unsafe_preserve_version_counter(out):
                out.copy_(q[: out.shape[0]])  # without the padding rows
            return None
        full = q.to(param_dtype or torch.float32)
        return full, (full,)
