"""One process of test_distributed.py: trains a small model under a pqt
recipe alone (the reference: both micro-batches of each step in turn, their
gradients summed and halved), or as one rank of two under FSDP2 (fsdp), FSDP2
with GaussWS sampled before the all-gather (fsdp_gather) or DDP (gloo on the
CPU, micro-batch = rank), and saves what it saw at every step: each
micro-batch's loss, the quantized weights (FSDP2: this rank's rows, quantized
where they lie), and the whole parameters after the optimizer step.

    python dist_worker.py RANK DIR JOB [JOB ...]

JOB is MODE:RECIPE, run in turn in this one process (importing torch is
seconds of CPU; a process per run was most of the test's time). A single
job writes DIR/single-RECIPE.pt and needs no peer; the others meet rank
1 - RANK at DIR/rdzv-MODE-RECIPE, a new process group each, and write
DIR/MODE-RECIPE-RANK.pt.
"""

import sys

import torch

import pqt.torch  # noqa: F401
from pqt.torch import nn as qnn

STEPS, MICRO = 20, 8
RECIPES = {
    "gaussws_b4": qnn.RECIPES["gaussws_b4"],
    "mxfp8_sr": qnn.Recipe(*(qnn.FQ("e4m3", "mx", "stochastic"),) * 3, seed=7),
}


def build(recipe, step):
    torch.manual_seed(21)
    # 65 rows: FSDP2 shards them unevenly (33 + 32, the second padded)
    m = torch.nn.Sequential(torch.nn.Linear(64, 96), torch.nn.ReLU(), torch.nn.Linear(96, 65), torch.nn.ReLU(),
                            torch.nn.Linear(65, 10))
    return qnn.convert(m, recipe, step=step, exclude=("4",))  # the head stays float32


def batch(s):
    gen = torch.Generator().manual_seed(1000 + s)
    return torch.randn(2 * MICRO, 64, generator=gen), torch.randint(0, 10, (2 * MICRO,), generator=gen)


def full(t):
    return t.full_tensor() if hasattr(t, "full_tensor") else t


def local(t):
    return t.to_local() if hasattr(t, "to_local") else t


def main(mode, recipe_name, out, rank=0, rdzv=None):
    step = qnn.Step()
    model = build(RECIPES[recipe_name], step)
    layers = {n: m for n, m in model.named_modules() if isinstance(m, qnn.QuantLinear)}
    if mode != "single":
        import torch.distributed as dist
        dist.init_process_group("gloo", init_method=f"file://{rdzv}", rank=rank, world_size=2)
        if mode in ("fsdp", "fsdp_gather"):
            from torch.distributed.fsdp import fully_shard
            if mode == "fsdp_gather":  # GaussWS sampled on each rank's rows, bf16 gathered
                assert qnn.gaussws_before_all_gather(model) == len(layers)
            for m in layers.values():
                fully_shard(m)
            fully_shard(model)
        else:
            model = torch.nn.parallel.DistributedDataParallel(model)
        step.micro = rank
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    record = []
    for s in range(STEPS):
        x, t = batch(s)
        qw = {n: local(m.quantized_weight()).clone() for n, m in layers.items()}
        losses = []
        opt.zero_grad()
        for r in ([0, 1] if mode == "single" else [rank]):
            step.micro = r
            loss = torch.nn.functional.cross_entropy(model(x[r * MICRO:(r + 1) * MICRO]), t[r * MICRO:(r + 1) * MICRO])
            loss.backward()
            losses.append(loss.detach())
        if mode == "single":
            for p in model.parameters():
                p.grad /= 2  # the mean over two ranks: exact
        opt.step()
        step.advance()
        record.append({"loss": torch.stack(losses), "qweight": qw,
                       "params": [full(p.detach()).clone() for p in model.parameters()]})
    if mode.startswith("fsdp"):  # what FSDP2 all-gathered for each layer's weight (torch internals)
        record[-1]["gathered"] = [m._get_fsdp_state()._fsdp_param_group.fsdp_params[0].all_gather_outputs[0].dtype
                                  for m in layers.values()]
    torch.save(record, out)
    if mode != "single":
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    rank, d = int(sys.argv[1]), sys.argv[2]
    for job in sys.argv[3:]:
        mode, recipe = job.split(":")
        if mode == "single":
            main(mode, recipe, f"{d}/single-{recipe}.pt")
        else:
            main(mode, recipe, f"{d}/{mode}-{recipe}-{rank}.pt", rank, f"{d}/rdzv-{mode}-{recipe}")
