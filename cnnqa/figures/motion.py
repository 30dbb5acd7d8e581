"""The kernel in motion: animation frames of convolution, pooling and unpooling, from cnnqa's ops.

Each function returns an :class:`Animation`: the input drawn on a grid with its padding ring, the
output grid, and one :class:`Frame` per step of the window. Every value a frame shows is computed
by :mod:`cnnqa.numpy_ops`; the geometry (padding, window taps, output size) comes from the same
validated configuration the ops use, so a picture cannot disagree with the numbers.

A grid cell is ``(row, column)`` in the *drawn* grid: the input's cell ``(i, j)`` sits at
``(i + top, j + left)`` inside its padding ring.

>>> a = conv_animation(4, 3)
>>> a.output.shape, len(a.frames), a.frames[0].window[:3]
((2, 2), 4, ((0, 0), (0, 1), (0, 2)))
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cnnqa import _config, numpy_ops

__all__ = [
    "Animation",
    "Frame",
    "GALLERY",
    "conv_animation",
    "conv_transpose_animation",
    "gallery",
    "pool_animation",
    "unpool_animation",
]


@dataclass(frozen=True)
class Frame:
    """One step: the input cells the window reads, the output cells it writes, the output so far."""

    window: tuple[tuple[int, int], ...]
    targets: tuple[tuple[int, int], ...]
    output: np.ndarray  # the output as drawn after this step; NaN where nothing is written yet
    caption: str


@dataclass(frozen=True)
class Animation:
    """What a player draws: a padded input grid, an output grid (with its own ring), the frames.

    ``input_pad`` and ``output_pad`` are ``((top, bottom), (left, right))`` rings of cells drawn
    around the input and the output (a transposed convolution crops its output by its padding, so
    its ring is on the output side). ``unread`` are drawn input cells that no window reads.
    """

    kind: str
    title: str
    input: np.ndarray
    input_pad: tuple[tuple[int, int], tuple[int, int]]
    output: np.ndarray
    frames: tuple[Frame, ...]
    kernel: np.ndarray | None = None
    output_pad: tuple[tuple[int, int], tuple[int, int]] = ((0, 0), (0, 0))
    unread: frozenset = field(default_factory=frozenset)
    pad_value: str = "0"  # how a padding cell reads: "0" for convolution, "" for max pooling


def _example(shape: tuple[int, int], seed: int, high: int = 4) -> np.ndarray:
    """Small whole numbers (0 to high - 1) that stay readable when summed in a picture."""
    return np.random.default_rng(seed).integers(0, high, size=shape).astype(np.float64)


def _reveal(output: np.ndarray, upto: int) -> np.ndarray:
    """The output with its first ``upto`` cells (row-major) written and the rest NaN."""
    shown = np.full(output.shape, np.nan)
    shown.flat[:upto] = output.flat[:upto]
    return shown


def _windows(out_hw, stride, dilation, kernel) -> list[tuple[tuple[int, int], ...]]:
    """The drawn-grid cells each output position reads, row-major over the output."""
    return [
        tuple((i * stride[0] + u * dilation[0], j * stride[1] + v * dilation[1])
              for u in range(kernel[0]) for v in range(kernel[1]))
        for i in range(out_hw[0]) for j in range(out_hw[1])
    ]


def _sliding(cfg, size: int, out: np.ndarray, caption) -> tuple[tuple[Frame, ...], frozenset]:
    """A window sliding over a padded ``size``×``size`` input (``cfg`` from :mod:`cnnqa._config`):
    one frame per output cell, row-major, each revealing that cell; and the cells never read."""
    windows = _windows(cfg.out_hw, cfg.stride, cfg.dilation, cfg.kernel)
    frames = tuple(
        Frame(window, (divmod(k, cfg.out_hw[1]),), _reveal(out, k + 1), caption(*divmod(k, cfg.out_hw[1]), out.flat[k]))
        for k, window in enumerate(windows)
    )
    read = {cell for window in windows for cell in window}
    grid = (size + sum(cfg.pads[0]), size + sum(cfg.pads[1]))
    unread = frozenset((r, c) for r in range(grid[0]) for c in range(grid[1]) if (r, c) not in read)
    return frames, unread


def conv_animation(size: int, kernel_size: int, stride: int = 1, padding=0, dilation: int = 1,
                   seed: int = 0) -> Animation:
    r"""A square ``size``\ ×\ ``size`` input convolved with one ``kernel_size`` kernel, step by step.

    Each frame's output cell is :func:`cnnqa.numpy_ops.conv2d` of the drawn input and kernel:

    $$ y_{ij} = \sum_{u,v} w_{uv}\, \tilde x_{S i + D u,\; S j + D v} $$

    >>> a = conv_animation(5, 3, stride=2, padding=1)
    >>> a.output.shape, a.input_pad, len(a.unread)
    ((3, 3), ((1, 1), (1, 1)), 0)
    >>> len(conv_animation(6, 3, stride=2).unread)  # the input's last row and column go unread
    11
    """
    x, w = _example((size, size), seed), _example((kernel_size, kernel_size), seed + 1, high=3)
    cfg = _config.conv2d((1, 1, size, size), (1, 1, kernel_size, kernel_size), None, stride, padding,
                         dilation, 1, "zeros")
    out = numpy_ops.conv2d(x[None, None], w[None, None], stride=stride, padding=padding, dilation=dilation)[0, 0]
    frames, unread = _sliding(cfg, size, out, lambda i, j, v: f"out[{i}, {j}] = sum(window × kernel) = {v:g}")
    title = _describe("Convolution", size, kernel_size, stride, padding, dilation)
    return Animation("conv", title, x, cfg.pads, out, frames, kernel=w, unread=unread)


def conv_transpose_animation(size: int, kernel_size: int, stride: int = 1, padding: int = 0,
                             output_padding: int = 0, dilation: int = 1, seed: int = 0) -> Animation:
    r"""A transposed convolution drawn as stamping: each input pixel adds a weighted kernel.

    Frame ``k`` shows :func:`cnnqa.numpy_ops.conv_transpose2d` of the input with only its first
    ``k + 1`` pixels kept, so the output fills in as the stamps add up:

    $$ y_{S i + D u - P,\; S j + D v - P} \mathrel{+}= x_{ij}\, w_{uv} $$

    The output's ring is the $P$ rows and columns the padding crops away.

    >>> a = conv_transpose_animation(2, 3, stride=2)
    >>> a.output.shape, a.frames[0].targets[:2]
    ((5, 5), ((0, 0), (0, 1)))
    """
    x, w = _example((size, size), seed), _example((kernel_size, kernel_size), seed + 1, high=3)
    cfg = _config.conv_transpose2d((1, 1, size, size), (1, 1, kernel_size, kernel_size), None, stride,
                                   padding, output_padding, 1, dilation)
    (s, _), (d, _), p = cfg.stride, cfg.dilation, cfg.pads[0][0]
    frames = []
    for k in range(size * size):
        i, j = divmod(k, size)
        kept = np.zeros_like(x)
        kept.flat[: k + 1] = x.flat[: k + 1]
        so_far = numpy_ops.conv_transpose2d(kept[None, None], w[None, None], stride=stride, padding=padding,
                                            output_padding=output_padding, dilation=dilation)[0, 0]
        # stamp cells in the drawn output grid, whose ring (the cropped padding) is p wide
        targets = tuple((i * s + u * d, j * s + v * d) for u in range(kernel_size) for v in range(kernel_size))
        frames.append(Frame(((i, j),), targets, so_far, f"x[{i}, {j}] = {x[i, j]:g} stamps {x[i, j]:g} × kernel"))
    final = frames[-1].output
    title = _describe("Transposed convolution", size, kernel_size, stride, padding, dilation,
                      output_padding=output_padding)
    return Animation("transposed", title, x, ((0, 0), (0, 0)), final, tuple(frames), kernel=w,
                     output_pad=((p, p), (p, p)))


def pool_animation(size: int, kernel_size: int, stride=None, padding: int = 0, dilation: int = 1,
                   ceil_mode: bool = False, mode: str = "max", seed: int = 0) -> Animation:
    r"""Max or average pooling, window by window (``mode`` is ``"max"`` or ``"avg"``).

    Values from :func:`cnnqa.numpy_ops.max_pool2d` or :func:`cnnqa.numpy_ops.avg_pool2d`. With
    ``ceil_mode`` the last window may overhang the padding; the overhang is drawn as padding.

    >>> a = pool_animation(5, 2, stride=2, ceil_mode=True)
    >>> a.output.shape, a.input_pad
    ((3, 3), ((0, 1), (0, 1)))
    """
    if mode not in ("max", "avg"):
        raise ValueError(f"mode={mode!r}: mode must be 'max' or 'avg'")
    if mode == "avg" and dilation != 1:
        raise ValueError(f"dilation={dilation!r}: average pooling has no dilation (use 1)")
    x = _example((size, size), seed, high=10)
    cfg = _config.pool2d((1, 1, size, size), kernel_size, stride, padding, dilation, ceil_mode)
    if mode == "max":
        out = numpy_ops.max_pool2d(x[None, None], kernel_size, stride, padding, dilation, ceil_mode)[0, 0]
    else:
        out = numpy_ops.avg_pool2d(x[None, None], kernel_size, stride, padding, ceil_mode)[0, 0]
    frames, unread = _sliding(cfg, size, out, lambda i, j, v: f"{mode}(window) = {v:.3g}")
    title = _describe(f"{'Max' if mode == 'max' else 'Average'} pooling", size, kernel_size,
                      cfg.stride[0], padding, dilation, ceil_mode=ceil_mode)
    return Animation(mode, title, x, cfg.pads, out, frames, unread=unread, pad_value="" if mode == "max" else "0")


def unpool_animation(size: int, kernel_size: int, stride=None, padding: int = 0, seed: int = 0) -> Animation:
    r"""Max unpooling: each pooled value goes back to where its maximum was, the rest stay zero.

    The pooled map and its indices come from :func:`cnnqa.numpy_ops.max_pool2d` of a
    ``size``\ ×\ ``size`` input; frame ``k`` is :func:`cnnqa.numpy_ops.max_unpool2d` of the pooled
    map with only its first ``k + 1`` values kept.

    >>> a = unpool_animation(4, 2)
    >>> a.input.shape, a.output.shape, len(a.frames)
    ((2, 2), (4, 4), 4)
    """
    source = _example((size, size), seed, high=10)
    pooled, indices = numpy_ops.max_pool2d(source[None, None], kernel_size, stride, padding, return_indices=True)
    frames = []
    for k in range(pooled.size):
        kept = np.zeros_like(pooled)
        kept.flat[: k + 1] = pooled.flat[: k + 1]
        so_far = numpy_ops.max_unpool2d(kept, indices, kernel_size, stride, padding,
                                        output_size=source.shape)[0, 0]
        target = divmod(int(indices.flat[k]), size)
        frames.append(Frame((divmod(k, pooled.shape[-1]),), (target,), so_far,
                            f"{pooled.flat[k]:g} goes back to position {target}"))
    stride_ = kernel_size if stride is None else stride
    title = f"Max unpooling of a {size}×{size} map pooled with kernel {kernel_size}, stride {stride_}"
    return Animation("unpool", title, pooled[0, 0], ((0, 0), (0, 0)), frames[-1].output, tuple(frames))


def _describe(name, size, kernel_size, stride, padding, dilation, output_padding=0, ceil_mode=False) -> str:
    """A one-line title: the op and its settings, for the figure's caption and alt text."""
    parts = [f"{size}×{size} input", f"kernel {kernel_size}", f"stride {stride}", f"padding {padding!r}".replace("'", "")]
    if dilation != 1:
        parts.append(f"dilation {dilation}")
    if output_padding:
        parts.append(f"output padding {output_padding}")
    if ceil_mode:
        parts.append("ceil_mode")
    return f"{name}: {', '.join(parts)}"


# The settings of Dumoulin & Visin's "A guide to convolution arithmetic" and their pooling and
# unpooling counterparts, each with the sizes that guide draws: name -> (function, arguments).
GALLERY = {
    "no-padding-unit-stride": (conv_animation, dict(size=4, kernel_size=3)),
    "arbitrary-padding": (conv_animation, dict(size=5, kernel_size=4, padding=2)),
    "half-padding": (conv_animation, dict(size=5, kernel_size=3, padding="same")),
    "full-padding": (conv_animation, dict(size=5, kernel_size=3, padding=2)),
    "stride-no-padding": (conv_animation, dict(size=5, kernel_size=3, stride=2)),
    "stride-padding": (conv_animation, dict(size=5, kernel_size=3, stride=2, padding=1)),
    "stride-padding-unread": (conv_animation, dict(size=6, kernel_size=3, stride=2, padding=1)),
    "stride-unread": (conv_animation, dict(size=6, kernel_size=3, stride=2)),
    "dilation": (conv_animation, dict(size=7, kernel_size=3, dilation=2)),
    "transposed-no-padding-unit-stride": (conv_transpose_animation, dict(size=2, kernel_size=3)),
    "transposed-arbitrary-padding": (conv_transpose_animation, dict(size=6, kernel_size=4, padding=2)),
    "transposed-half-padding": (conv_transpose_animation, dict(size=5, kernel_size=3, padding=1)),
    "transposed-full-padding": (conv_transpose_animation, dict(size=7, kernel_size=3, padding=2)),
    "transposed-stride-no-padding": (conv_transpose_animation, dict(size=2, kernel_size=3, stride=2)),
    "transposed-stride-padding": (conv_transpose_animation, dict(size=3, kernel_size=3, stride=2, padding=1)),
    "transposed-stride-odd": (conv_transpose_animation,
                              dict(size=3, kernel_size=3, stride=2, padding=1, output_padding=1)),
    "transposed-stride-2-kernel-2": (conv_transpose_animation, dict(size=3, kernel_size=2, stride=2)),
    "transposed-dilation": (conv_transpose_animation, dict(size=3, kernel_size=3, dilation=2)),
    "max-pool": (pool_animation, dict(size=4, kernel_size=2)),
    "average-pool": (pool_animation, dict(size=4, kernel_size=3, stride=1, mode="avg")),
    "max-pool-padding": (pool_animation, dict(size=5, kernel_size=3, stride=2, padding=1)),
    "max-pool-ceil-mode": (pool_animation, dict(size=5, kernel_size=2, stride=2, ceil_mode=True)),
    "average-pool-padding-ceil-mode": (pool_animation,
                                       dict(size=6, kernel_size=3, stride=2, padding=1, ceil_mode=True, mode="avg")),
    "max-unpool": (unpool_animation, dict(size=4, kernel_size=2)),
}


def gallery(name: str) -> Animation:
    """One of the :data:`GALLERY` animations by name.

    >>> gallery("dilation").output.shape
    (3, 3)
    """
    if name not in GALLERY:
        raise ValueError(f"name={name!r}: not an animation; choose one of {', '.join(GALLERY)}")
    function, arguments = GALLERY[name]
    return function(**arguments)

