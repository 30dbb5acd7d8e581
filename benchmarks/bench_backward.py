"""Time cnnqa's NumPy backward passes against torch autograd on the CPU, one thread each side.

The shapes are bench_ops.py's. For each conv, NumPy computes both gradients (``conv2d_input`` and
``conv2d_weight``) and torch runs ``torch.autograd.grad`` through ``F.conv2d`` (its forward done
once, outside the timing). Each conv row also gives NumPy's own floor, run in the same rounds:
the two GEMMs of the two gradients, ``(N*H'*W', K) @ (K, C*F*F)`` and ``(K, N*H'*W') @ (N*H'*W', C*F*F)`` per group.
cnnqa's pooling backward recomputes the forward pass (its signature takes the input), so both
sides are timed forward plus backward. Rows report medians over interleaved rounds; the last
lines say PASS or FAIL per target of issue 10, and the exit status is 1 if one fails.

    .venv/bin/python benchmarks/bench_backward.py [--rounds 9]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys

# bench_ops first: importing it picks OpenBLAS's kernels, which must happen before NumPy's import.
from bench_ops import BATCH, CASES, compare, geometric_mean, interleave, median_ratio, print_header

import numpy as np
import torch
import torch.nn.functional as F
from threadpoolctl import threadpool_limits

from cnnqa import _numpy_fast, numpy_ops

CONV_TARGET, FLOOR_TARGET, POOL_TARGET = 1.5, 1.3, 1.0


def conv_functions(input_chw, weight_shape, kwargs, dtype):
    """(numpy backward, torch backward, GEMM floor) for one conv case."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, *input_chw)).astype(dtype)
    w = (rng.standard_normal(weight_shape) / math.sqrt(np.prod(weight_shape[1:]))).astype(dtype)
    xt, wt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(w).requires_grad_()
    y = F.conv2d(xt, wt, **kwargs)
    g = rng.standard_normal(tuple(y.shape)).astype(dtype)
    gt = torch.from_numpy(g)

    def numpy_backward():
        numpy_ops.conv2d_input(x.shape, w, g, **kwargs)
        numpy_ops.conv2d_weight(x, w.shape, g, **kwargs)

    def torch_backward():
        torch.autograd.grad(y, (xt, wt), gt, retain_graph=True)

    groups = kwargs.get("groups", 1)
    k, c_g, fh, fw = weight_shape
    m = BATCH * y.shape[2] * y.shape[3]
    grad_rows = rng.standard_normal((groups, m, k // groups)).astype(dtype)  # (N*H'*W', K), per group
    weights = rng.standard_normal((groups, k // groups, c_g * fh * fw)).astype(dtype)  # (K, C*F*F)
    grad_cols = np.ascontiguousarray(grad_rows.transpose(0, 2, 1))  # (K, N*H'*W')
    patches = rng.standard_normal((groups, m, c_g * fh * fw)).astype(dtype)  # (N*H'*W', C*F*F)

    def floor():
        np.matmul(grad_rows, weights)  # the input gradient's GEMM
        np.matmul(grad_cols, patches)  # the weight gradient's GEMM

    return numpy_backward, torch_backward, floor


def pool_functions(op, input_chw, kwargs, dtype):
    x = np.random.default_rng(0).standard_normal((BATCH, *input_chw)).astype(dtype)
    out = getattr(numpy_ops, op)(x, **kwargs)
    g = np.ones_like(out)
    xt, gt = torch.from_numpy(x).requires_grad_(), torch.from_numpy(g)

    def numpy_both():
        getattr(numpy_ops, f"{op}_backward")(g, x, **kwargs)

    def torch_both():
        torch.autograd.grad(getattr(F, op)(xt, **kwargs), xt, gt)

    return numpy_both, torch_both


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    print_header()
    _numpy_fast.NUM_WORKERS = 1
    torch.set_num_threads(1)
    ok = True
    with threadpool_limits(1, user_api="blas"):
        for dtype in (np.float32, np.float64):
            print(f"\n1 thread, {np.dtype(dtype).name}, batch {BATCH}: median of {args.rounds} interleaved rounds")
            print(f"{'backward of':42} {'numpy ms':>9} {'torch ms':>9} {'ratio':>6} {'floor ms':>9} {'/floor':>7}")
            dense, floors, pools = [], [], []
            for name, op, input_chw, weight_shape, kwargs in CASES:
                if weight_shape is None:
                    t_np, t_torch, ratio = compare(*pool_functions(op, input_chw, kwargs, dtype), args.rounds)
                    print(f"{name + ' (fwd+bwd)':42} {t_np * 1e3:9.2f} {t_torch * 1e3:9.2f} {ratio:6.2f}")
                    pools.append(ratio)
                    continue
                times = interleave(conv_functions(input_chw, weight_shape, kwargs, dtype), args.rounds)
                (t_np, t_torch, t_floor), ratio = map(statistics.median, times), median_ratio(*times[:2])
                over_floor = median_ratio(times[0], times[2])
                print(f"{name:42} {t_np * 1e3:9.2f} {t_torch * 1e3:9.2f} {ratio:6.2f} {t_floor * 1e3:9.2f} "
                      f"{over_floor:7.2f}")
                if kwargs.get("groups", 1) == 1:
                    dense.append(ratio), floors.append(over_floor)
            if dtype == np.float32:
                conv_ok = geometric_mean(dense) <= CONV_TARGET or geometric_mean(floors) <= FLOOR_TARGET
                pool_ok = max(pools) <= POOL_TARGET
                print(f"{'PASS' if conv_ok else 'FAIL'}: dense conv backward, geometric mean {geometric_mean(dense):.2f}x torch "
                      f"(target {CONV_TARGET}) or {geometric_mean(floors):.2f}x NumPy's GEMM floor (target {FLOOR_TARGET})")
                print(f"{'PASS' if pool_ok else 'FAIL'}: pooling forward+backward, worst {max(pools):.2f}x torch "
                      f"(target {POOL_TARGET})")
                ok = ok and conv_ok and pool_ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
