"""Shard invariance across real processes: the same model trained for 20
steps (a) alone, (b) under FSDP2 over 2 ranks and (c) under DDP over 2 ranks
(gloo on the CPU), under GaussWS and under stochastic-rounding MXFP8, and
(d) under FSDP2 with GaussWS sampled on each rank's rows before a bf16
all-gather (gaussws_before_all_gather). At
every step each rank's quantized weights (FSDP2: its own rows, quantized
where they lie with index_base) are the matching rows of (a)'s, and the
losses and the whole parameters equal (a)'s, bit for bit (dist_worker.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
if not torch.distributed.is_available():  # pragma: no cover
    pytest.skip("torch.distributed is not available", allow_module_level=True)

WORKER = Path(__file__).with_name("dist_worker.py")


def _run(args, env):
    return subprocess.Popen([sys.executable, str(WORKER), *map(str, args)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


def _wait(procs):
    for p in procs:
        out, _ = p.communicate(timeout=300)
        assert p.returncode == 0, out


RECIPES = ("gaussws_b4", "mxfp8_sr")
RUNS = [("fsdp", "gaussws_b4"), ("fsdp", "mxfp8_sr"), ("ddp", "gaussws_b4"), ("ddp", "mxfp8_sr"),
        ("fsdp_gather", "gaussws_b4")]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every (mode, recipe) run: two processes (the ranks), each first one of
    the single-process references, then every distributed run in turn."""
    d = tmp_path_factory.mktemp("dist")
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=str(WORKER.parent))
    jobs = [f"{mode}:{r}" for mode, r in RUNS]
    _wait([_run([k, d, f"single:{RECIPES[k]}", *jobs], env) for k in (0, 1)])
    return d


@pytest.mark.parametrize("mode,recipe", RUNS)
def test_ranks_see_the_bits_of_the_single_process_run(runs, mode, recipe):
    ref = torch.load(runs / f"single-{recipe}.pt")
    ranks = [torch.load(runs / f"{mode}-{recipe}-{k}.pt") for k in (0, 1)]
    assert len(ref) == 20
    changed = False
    for s, want in enumerate(ref):
        for k, rec in enumerate(ranks):
            got = rec[s]
            assert torch.equal(got["loss"], want["loss"][k:k + 1]), (s, k)
            for name, q in got["qweight"].items():
                rows = q.shape[0]
                lo = 0 if mode == "ddp" else sum(ranks[j][s]["qweight"][name].shape[0] for j in range(k))
                assert torch.equal(q, want["qweight"][name][lo:lo + rows]), (s, k, name)
            for p, w in zip(got["params"], want["params"]):
                assert torch.equal(p, w), (s, k)
        if s and not torch.equal(want["qweight"]["0"], ref[s - 1]["qweight"]["0"]):
            changed = True
    assert changed  # the weights moved: the comparison saw training, not 20 copies of step 0
    if mode.startswith("fsdp"):  # fsdp_gather sends bf16 samples, plain FSDP2 the float32 weights
        want_dtype = torch.bfloat16 if mode == "fsdp_gather" else torch.float32
        assert all(d == want_dtype for d in ranks[0][-1]["gathered"])
    # the two micro-batches drew different bits (Step.micro), so their losses differ
    assert not torch.equal(ref[0]["loss"][0], ref[0]["loss"][1])
