"""Time cnnqa's NumPy fast path against PyTorch on the CPU, side by side.

Both libraries get the same thread count (threadpoolctl for NumPy's BLAS, torch.set_num_threads
for torch); the two are interleaved round by round, and each row reports the median over rounds
of the time ratio NumPy / torch. Prints one table per (threads, dtype), the GFLOP/s of each conv,
each dense conv's time over NumPy's own floor (the one im2col matmul, run in the same rounds),
NumPy's own matmul peak (2048^3) measured in the same run, a memory check of the chunked conv,
and one PASS/FAIL line per target. Exit status 1 if a target fails.

    .venv/bin/python benchmarks/bench_ops.py [--rounds 15] [--quick]
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
import tracemalloc

os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")  # idle BLAS threads must not steal cores

# Like for like: torch's oneDNN uses AVX-512 wherever the CPU has it, whatever OPENBLAS_CORETYPE
# says. An environment that pins OpenBLAS to AVX2 kernels (these machines export
# OPENBLAS_CORETYPE=Haswell) roughly halves NumPy's float32 GEMM on an AVX-512 CPU (139 against
# 255 GFLOP/s on one Zen 5 thread, in the run that performance.md records) and would compare AVX2
# with AVX-512. So where the CPU has the AVX-512 subsets of OpenBLAS's "SkylakeX" kernels, use them; the header prints what the
# environment asked for and what ran. --keep-blas-coretype measures under the environment's choice.
_SKYLAKEX_FLAGS = {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}


def _cpu_flags() -> set[str]:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            return next((set(line.split(":")[1].split()) for line in cpuinfo if line.startswith("flags")), set())
    except OSError:
        return set()


ENV_CORETYPE = os.environ.get("OPENBLAS_CORETYPE")
if "--keep-blas-coretype" not in sys.argv and _SKYLAKEX_FLAGS <= _cpu_flags():
    os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"  # must precede the first import of NumPy

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from cnnqa import _numpy_fast, numpy_ops, shapes  # noqa: E402

BATCH = 8
# name, op, input (C, H, W), weight shape or None, keyword arguments
CASES = [
    ("conv 64ch 56x56 3x3 s1 p1", "conv2d", (64, 56, 56), (64, 64, 3, 3), dict(padding=1)),
    ("conv 128ch 28x28 3x3 p1", "conv2d", (128, 28, 28), (128, 128, 3, 3), dict(padding=1)),
    ("conv 256ch 14x14 3x3 p1", "conv2d", (256, 14, 14), (256, 256, 3, 3), dict(padding=1)),
    ("conv 64->256 56x56 1x1", "conv2d", (64, 56, 56), (256, 64, 1, 1), dict()),
    ("conv 3->64 224x224 7x7 s2 p3", "conv2d", (3, 224, 224), (64, 3, 7, 7), dict(stride=2, padding=3)),
    ("depthwise 128ch 28x28 3x3 p1", "conv2d", (128, 28, 28), (128, 1, 3, 3), dict(padding=1, groups=128)),
    ("max_pool 3x3 s2 p1 64ch 112x112", "max_pool2d", (64, 112, 112), None, dict(kernel_size=3, stride=2, padding=1)),
    ("avg_pool 2x2 256ch 28x28", "avg_pool2d", (256, 28, 28), None, dict(kernel_size=2)),
]
TARGETS = {np.float32: 1.5, np.float64: 1.0}  # conv geometric-mean ratio; pools: 1.0
FLOOR_TARGET = 1.15  # float32 dense convs over NumPy's own im2col GEMM, geometric mean
DEPTHWISE_TARGET = 3.0  # float32 depthwise conv against torch


def conv_flops(input_chw, weight_shape, kwargs) -> float:
    """2 x MACs of one batch, from cnnqa.shapes."""
    out_hw = [
        shapes.conv_output_size(size, k, kwargs.get("stride", 1), kwargs.get("padding", 0))
        for size, k in zip(input_chw[1:], weight_shape[2:])
    ]
    macs = shapes.conv2d_macs(input_chw[0], weight_shape[0], weight_shape[2:], out_hw, kwargs.get("groups", 1))
    return 2.0 * BATCH * macs


def geometric_mean(ratios) -> float:
    return math.exp(statistics.fmean(map(math.log, ratios)))


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleave(fns, rounds: int) -> list[list[float]]:
    """Per-round times of each function, run in turn (the order rotating), after two warm-ups."""
    for _ in range(2):
        for fn in fns:
            fn()
    times = [[] for _ in fns]
    for r in range(rounds):
        for k in range(len(fns)):
            k = (k + r) % len(fns)
            times[k].append(timed(fns[k]))
    return times


def compare(numpy_fn, torch_fn, rounds: int) -> tuple[float, float, float]:
    """Interleave the two (alternating who goes first); medians of times and of ratios."""
    t_np, t_torch = interleave([numpy_fn, torch_fn], rounds)
    return statistics.median(t_np), statistics.median(t_torch), median_ratio(t_np, t_torch)


def median_ratio(times, base) -> float:
    """Median over rounds of the ratio of two interleaved runs' times."""
    return statistics.median(a / b for a, b in zip(times, base))


def gemm_floor(input_chw, weight_shape, kwargs, dtype):
    """NumPy's own floor for a dense conv: the one matmul ``(N*H'*W', C*F*F) @ (C*F*F, K)`` of im2col."""
    out_hw = [
        shapes.conv_output_size(size, k, kwargs.get("stride", 1), kwargs.get("padding", 0))
        for size, k in zip(input_chw[1:], weight_shape[2:])
    ]
    rng = np.random.default_rng(1)
    cols = rng.standard_normal((BATCH * out_hw[0] * out_hw[1], int(np.prod(weight_shape[1:])))).astype(dtype)
    weights = rng.standard_normal((cols.shape[1], weight_shape[0])).astype(dtype)
    return lambda: cols @ weights


def matmul_peak(dtype, rounds: int = 5) -> float:
    """NumPy's own GEMM rate on 2048^3, GFLOP/s."""
    a = np.random.default_rng(0).standard_normal((2048, 2048)).astype(dtype)
    a @ a
    return 2 * 2048**3 / min(timed(lambda: a @ a) for _ in range(rounds)) / 1e9


def case_functions(op, input_chw, weight_shape, kwargs, dtype):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, *input_chw)).astype(dtype)
    xt = torch.from_numpy(x)
    if weight_shape is None:
        return (lambda: getattr(numpy_ops, op)(x, **kwargs)), (lambda: getattr(F, op)(xt, **kwargs))
    w = (rng.standard_normal(weight_shape) / math.sqrt(np.prod(weight_shape[1:]))).astype(dtype)
    wt = torch.from_numpy(w)
    return (lambda: numpy_ops.conv2d(x, w, **kwargs)), (lambda: F.conv2d(xt, wt, **kwargs))


def run_table(threads: int, dtype, rounds: int) -> dict[str, float]:
    """Print one table; return the geometric-mean ratios of convs and pools."""
    print(f"\n{threads} thread(s), {np.dtype(dtype).name}, batch {BATCH}: median of {rounds} interleaved rounds")
    print(f"{'case':34} {'numpy ms':>9} {'torch ms':>9} {'ratio':>6} {'np GF/s':>8} {'pt GF/s':>8} {'/GEMM':>6}")
    ratios = {"conv": [], "pool": [], "floor": [], "depthwise": []}
    # NumPy's threads: one BLAS thread per Python worker, the batch split between the workers
    _numpy_fast.NUM_WORKERS = threads
    with threadpool_limits(1, user_api="blas"):
        torch.set_num_threads(threads)
        for name, op, input_chw, weight_shape, kwargs in CASES:
            np_fn, torch_fn = case_functions(op, input_chw, weight_shape, kwargs, dtype)
            dense = weight_shape is not None and kwargs.get("groups", 1) == 1
            # dense convs run beside their GEMM floor too, under the BLAS threads the conv uses
            fns = [np_fn, torch_fn, gemm_floor(input_chw, weight_shape, kwargs, dtype)] if dense else [np_fn, torch_fn]
            times = interleave(fns, rounds)
            t_np, t_torch, ratio = statistics.median(times[0]), statistics.median(times[1]), median_ratio(*times[:2])
            rates = ""
            if weight_shape is not None:
                flops = conv_flops(input_chw, weight_shape, kwargs)
                rates = f" {flops / t_np / 1e9:8.1f} {flops / t_torch / 1e9:8.1f}"
                ratios["conv"].append(ratio)
                if not dense:
                    ratios["depthwise"].append(ratio)
            else:
                ratios["pool"].append(ratio)
            if dense:
                ratios["floor"].append(median_ratio(times[0], times[2]))
                rates += f" {ratios['floor'][-1]:6.2f}"
            print(f"{name:34} {t_np * 1e3:9.2f} {t_torch * 1e3:9.2f} {ratio:6.2f}{rates}")
    with threadpool_limits(threads, user_api="blas"):
        peak = matmul_peak(dtype)
    means = {kind: geometric_mean(r) for kind, r in ratios.items()}
    print(f"geometric mean ratio: conv {means['conv']:.2f}, pool {means['pool']:.2f}; dense conv over NumPy's GEMM "
          f"floor {means['floor']:.2f}; NumPy matmul peak (2048^3): {peak:.1f} GFLOP/s")
    return means


def print_header() -> None:
    """Versions, CPU count, date, and the BLAS kernels asked for and used."""
    blas = next((i for i in threadpool_info() if i["user_api"] == "blas"), {})
    print(f"numpy {np.__version__}, torch {torch.__version__}, {os.cpu_count()} CPUs, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"NumPy BLAS: {blas.get('internal_api')} {blas.get('version')}, core type {blas.get('architecture')} "
          f"(environment's OPENBLAS_CORETYPE: {ENV_CORETYPE or 'unset'}; "
          f"used: {os.environ.get('OPENBLAS_CORETYPE', 'auto-detected')})")


def memory_check(limit_bytes: int = 256 * 2**20) -> bool:
    """Peak traced allocation of a large-batch fast conv, beyond its input and output."""
    x = np.random.default_rng(0).standard_normal((64, 64, 56, 56)).astype(np.float32)  # 51 MB
    w = np.zeros((64, 64, 3, 3), np.float32)
    out_bytes = x.nbytes
    tracemalloc.start()
    numpy_ops.conv2d(x, w, padding=1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    scratch = peak - out_bytes
    ok = scratch <= limit_bytes + out_bytes  # scratch plus a chunk's result before it is copied
    print(f"\nmemory: conv 64x64ch 56x56 3x3 (input {x.nbytes / 2**20:.0f} MiB): traced peak "
          f"{peak / 2**20:.0f} MiB, workspace limit {_numpy_fast.WORKSPACE_BYTES / 2**20:.0f} MiB "
          f"-> {'PASS' if ok else 'FAIL'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--quick", action="store_true", help="1 thread only, 5 rounds")
    parser.add_argument("--keep-blas-coretype", action="store_true",
                        help="keep the environment's OPENBLAS_CORETYPE instead of AVX-512 kernels")
    args = parser.parse_args()
    rounds = 5 if args.quick else args.rounds
    print_header()
    verdicts = []
    for threads in (1,) if args.quick else (1, 2):
        for dtype in (np.float32, np.float64):
            means = run_table(threads, dtype, rounds)
            if threads == 1:
                name = np.dtype(dtype).name
                if dtype == np.float32:  # where OpenBLAS's GEMM alone is slower, NumPy's own floor decides
                    verdicts.append((f"float32 conv geometric-mean ratio {means['conv']:.2f} <= {TARGETS[dtype]}, or "
                                     f"dense convs over NumPy's GEMM floor {means['floor']:.2f} <= {FLOOR_TARGET}",
                                     means["conv"] <= TARGETS[dtype] or means["floor"] <= FLOOR_TARGET))
                else:
                    verdicts.append((f"{name} conv geometric-mean ratio {means['conv']:.2f} <= {TARGETS[dtype]}",
                                     means["conv"] <= TARGETS[dtype]))
                verdicts.append((f"{name} pooling geometric-mean ratio {means['pool']:.2f} <= 1.0",
                                 means["pool"] <= 1.0))
                if dtype == np.float32:
                    verdicts.append((f"float32 dense conv over NumPy's GEMM floor, geometric mean {means['floor']:.2f} "
                                     f"<= {FLOOR_TARGET}", means["floor"] <= FLOOR_TARGET))
                    verdicts.append((f"float32 depthwise conv ratio {means['depthwise']:.2f} <= {DEPTHWISE_TARGET}",
                                     means["depthwise"] <= DEPTHWISE_TARGET))
    verdicts.append(("fast conv scratch within the 256 MiB working set", memory_check()))
    print("\ntargets (1 thread):")
    for text, ok in verdicts:
        print(f"  {'PASS' if ok else 'FAIL'}  {text}")
    return 0 if all(ok for _, ok in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
