"""Resolve the hyperparameters of one op call into plain integers, shared by NumPy and torch ops.

Pure Python: the ops pass shapes (tuples of ints) and get back a frozen config or a
``ValueError``/``TypeError`` naming the bad parameter. Output sizes come from :mod:`cnnqa.shapes`.
"""

from __future__ import annotations

from dataclasses import dataclass

from cnnqa import _args, shapes


@dataclass(frozen=True)
class ConvConfig:
    """A validated ``conv2d`` or ``conv_transpose2d`` call."""

    batched: bool
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    pads: tuple[tuple[int, int], tuple[int, int]]  # ((top, bottom), (left, right))
    groups: int
    out_channels: int
    out_hw: tuple[int, int]
    padding_mode: str = "zeros"
    output_padding: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class PoolConfig:
    """A validated ``max_pool2d`` / ``avg_pool2d`` call; ``pads`` include ceil-mode overhang."""

    batched: bool
    kernel: tuple[int, int]
    stride: tuple[int, int]
    dilation: tuple[int, int]
    padding: tuple[int, int]
    pads: tuple[tuple[int, int], tuple[int, int]]
    out_hw: tuple[int, int]


def _checked_padding(value, size: int, mode: str, name: str) -> None:
    """torch's limits for non-zero padding modes: reflect needs p < size, circular p <= size."""
    if (mode == "reflect" and value >= size) or (mode == "circular" and value > size):
        raise ValueError(
            f"{name}={value}: padding_mode={mode!r} needs padding {'<' if mode == 'reflect' else '<='} "
            f"the input size {size}"
        )


def conv2d(input_shape, weight_shape, bias_shape, stride, padding, dilation, groups, padding_mode,
           input_name: str = "input") -> ConvConfig:
    """Validate a ``conv2d`` call (torch semantics) and compute its output size.

    ``input_name`` is what errors call the input's shape: ``"input"`` (its ``.shape``), or the
    backward pass's ``"input_size"``.
    """
    batched = _args.image_rank(input_name, input_shape)
    groups = _args.positive_int("groups", groups)
    label = "input_size" if input_name == "input_size" else f"{input_name}.shape"
    out_channels = _args.conv_weight(input_shape, weight_shape, bias_shape, groups, transposed=False,
                                     input_name=label)
    stride_hw = _args.positive("stride", stride)
    dilation_hw = _args.positive("dilation", dilation)
    mode = _args.padding_mode(padding_mode)
    if isinstance(padding, str):
        if padding == "same" and stride_hw != (1, 1):
            raise ValueError(f"padding='same' with stride={stride!r}: 'same' requires stride 1")
        padding_hw = (padding, padding)
    else:
        padding_hw = _args.nonnegative("padding", padding)
    kernel = tuple(weight_shape[-2:])
    pads = tuple(
        shapes.conv_padding(k, p, s, d) for k, p, s, d in zip(kernel, padding_hw, stride_hw, dilation_hw)
    )
    for (before, after), size in zip(pads, input_shape[-2:]):
        _checked_padding(max(before, after), size, mode, "padding")
    out_hw = tuple(
        shapes.conv_output_size(size + before + after, k, s, 0, d)
        for size, (before, after), k, s, d in zip(input_shape[-2:], pads, kernel, stride_hw, dilation_hw)
    )
    return ConvConfig(batched, kernel, stride_hw, dilation_hw, pads, groups, out_channels, out_hw, mode)


def conv_transpose2d(
    input_shape, weight_shape, bias_shape, stride, padding, output_padding, groups, dilation
) -> ConvConfig:
    """Validate a ``conv_transpose2d`` call (torch semantics) and compute its output size."""
    batched = _args.image_rank("input", input_shape)
    groups = _args.positive_int("groups", groups)
    out_channels = _args.conv_weight(input_shape, weight_shape, bias_shape, groups, transposed=True)
    stride_hw = _args.positive("stride", stride)
    dilation_hw = _args.positive("dilation", dilation)
    padding_hw = _args.nonnegative("padding", padding)
    extra_hw = _args.nonnegative("output_padding", output_padding)
    kernel = tuple(weight_shape[-2:])
    out_hw = tuple(
        shapes.conv_transpose_output_size(*args)
        for args in zip(input_shape[-2:], kernel, stride_hw, padding_hw, extra_hw, dilation_hw)
    )
    pads = tuple((p, p) for p in padding_hw)
    return ConvConfig(batched, kernel, stride_hw, dilation_hw, pads, groups, out_channels, out_hw,
                      output_padding=extra_hw)


def pool2d(input_shape, kernel_size, stride, padding, dilation, ceil_mode) -> PoolConfig:
    """Validate a pooling call; ``stride=None`` (or empty) means ``kernel_size`` as in torch."""
    batched = _args.image_rank("input", input_shape)
    kernel = _args.positive("kernel_size", kernel_size)
    stride_hw = kernel if stride is None or stride == [] or stride == () else _args.positive("stride", stride)
    padding_hw = _args.nonnegative("padding", padding)
    dilation_hw = _args.positive("dilation", dilation)
    out_hw = tuple(
        shapes.pool_output_size(*args, ceil_mode=ceil_mode)
        for args in zip(input_shape[-2:], kernel, stride_hw, padding_hw, dilation_hw)
    )
    # the last window may overhang the right padding in ceil mode: pad enough to hold it
    pads = tuple(
        (p, max(p, (o - 1) * s + shapes.effective_kernel_size(k, d) - size - p))
        for size, o, k, s, p, d in zip(input_shape[-2:], out_hw, kernel, stride_hw, padding_hw, dilation_hw)
    )
    return PoolConfig(batched, kernel, stride_hw, dilation_hw, padding_hw, pads, out_hw)


def unpool2d(input_shape, indices_shape, kernel_size, stride, padding, output_size) -> tuple[int, int]:
    """Validate a ``max_unpool2d`` call and return its output ``(H, W)``.

    The default size inverts the pooling, ``(i - 1) s - 2p + k``; an explicit ``output_size``,
    ``(H, W)`` or ``(N, C, H, W)`` as in torch, must lie strictly within ``stride`` of it.
    """
    _args.image_rank("input", input_shape)
    if tuple(indices_shape) != tuple(input_shape):
        raise ValueError(
            f"indices.shape={tuple(indices_shape)}: indices must have the input's shape {tuple(input_shape)}"
        )
    kernel = _args.positive("kernel_size", kernel_size)
    stride_hw = kernel if stride is None else _args.positive("stride", stride)
    padding_hw = _args.nonnegative("padding", padding)
    default = tuple(
        shapes.conv_transpose_output_size(size, k, s, p)
        for size, k, s, p in zip(input_shape[-2:], kernel, stride_hw, padding_hw)
    )
    if output_size is None:
        return default
    requested = tuple(output_size)
    if len(requested) not in (2, 4) or not all(map(_args.is_int, requested)):
        raise ValueError(f"output_size={output_size!r}: output_size must be (H, W) or (N, C, H, W)")
    for want, size, s in zip(requested[-2:], default, stride_hw):
        if not size - s < want < size + s:
            raise ValueError(
                f"output_size={output_size!r}: each size must lie strictly between "
                f"{tuple(d - s for d, s in zip(default, stride_hw))} and {tuple(d + s for d, s in zip(default, stride_hw))}"
            )
    return int(requested[-2]), int(requested[-1])


def taps_inside(o: int, size: int, kernel: int, stride: int, padding: int, dilation: int) -> list[int]:
    """Input positions, along one axis, of the taps of pooling window ``o`` that fall inside the input."""
    taps = (o * stride - padding + dilation * u for u in range(kernel))
    return [t for t in taps if 0 <= t < size]


def windows_with_input(cfg: PoolConfig, input_hw) -> list[list[bool]]:
    """(Ho, Wo): True where a pooling window has a tap inside the input, False where it lies
    wholly in the padding (possible with dilation) and reads nothing."""
    rows, cols = (
        [bool(taps_inside(o, size, k, s, p, d)) for o in range(out)]
        for out, size, k, s, p, d in zip(cfg.out_hw, input_hw, cfg.kernel, cfg.stride, cfg.padding, cfg.dilation)
    )
    return [[r and c for c in cols] for r in rows]


def forward_shape(cfg, input_shape, channels: int) -> tuple[int, ...]:
    """The shape of a forward op's output, ``(N, channels, H', W')`` or unbatched: what its gradient has."""
    return (input_shape[0], channels, *cfg.out_hw) if cfg.batched else (channels, *cfg.out_hw)


def first_window_index(cfg: PoolConfig, width: int) -> list[list[int]]:
    """torch's starting max-pool index per output position: the window's first in-bounds tap.

    torch keeps it when no tap beats ``-inf`` (a window of padding only, or of ``-inf`` values).
    """
    starts = []
    for out, s, p, d in zip(cfg.out_hw, cfg.stride, cfg.padding, cfg.dilation):
        first = [o * s - p for o in range(out)]
        starts.append([f + (-f + d - 1) // d * d if f < 0 else f for f in first])
    return [[row * width + col for col in starts[1]] for row in starts[0]]


def _avg_window_sizes(size, out, kernel, stride, padding, count_include_pad) -> list[int]:
    """Per output position along one axis: how many taps average pooling divides by."""
    sizes = []
    for o in range(out):
        start = o * stride - padding
        end = min(start + kernel, size + padding)
        sizes.append(end - start if count_include_pad else min(end, size) - max(start, 0))
    return sizes


def avg_divisors(cfg: PoolConfig, input_hw, count_include_pad, divisor_override) -> list[list[int]]:
    """The (Ho, Wo) divisors of average pooling, by torch's rule.

    ``divisor_override`` if given; else the window clipped to the padded input
    (``count_include_pad=True``: padding counts, ceil-mode overhang does not) or to the input.
    """
    if divisor_override is not None:
        if _args.as_int("divisor_override", divisor_override) == 0:
            raise ValueError("divisor_override=0: divisor_override must be non-zero")
        return [[int(divisor_override)] * cfg.out_hw[1] for _ in range(cfg.out_hw[0])]
    include = _args.as_bool("count_include_pad", count_include_pad)
    rows, cols = (
        _avg_window_sizes(*args, include)
        for args in zip(input_hw, cfg.out_hw, cfg.kernel, cfg.stride, cfg.padding)
    )
    return [[r * c for c in cols] for r in rows]
