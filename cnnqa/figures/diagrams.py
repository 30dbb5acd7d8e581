"""Static diagrams: volumes, kernels, weights, connections and receptive fields, as SVG.

Every size and count a diagram writes is computed by :mod:`cnnqa.shapes` or :mod:`cnnqa.numpy_ops`
from the settings it is given; the shapes carry the site's figure classes (see
:mod:`cnnqa.figures.svg`), so they read in both palettes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from cnnqa import numpy_ops, shapes
from cnnqa.figures.svg import _cell, _number, _text, figure_html, svg_html, CELL

__all__ = [
    "channels_figure",
    "connectivity_figure",
    "coverage_figure",
    "funnel_figure",
    "grids_figure",
    "paths_to_unit",
    "receptive_field_figure",
    "weight_tensor_figure",
]


def _box(x: float, y: float, w: float, h: float, depth: float, cls: str) -> str:
    """A box seen from the front-right: front face w×h at (x, y), receding ``depth`` up and right."""
    dx, dy = depth * 0.6, depth * 0.45
    top = f"{x:g},{y:g} {x + dx:g},{y - dy:g} {x + w + dx:g},{y - dy:g} {x + w:g},{y:g}"
    side = f"{x + w:g},{y:g} {x + w + dx:g},{y - dy:g} {x + w + dx:g},{y + h - dy:g} {x + w:g},{y + h:g}"
    return (
        f'<polygon class="{cls} cnnqa-face-top" points="{top}"/>'
        f'<polygon class="{cls} cnnqa-face-side" points="{side}"/>'
        f'<rect class="{cls}" x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}"/>'
    )


def funnel_figure(layers: Sequence[tuple[str, int, int]], caption: str, size: int = 32) -> str:
    r"""A CNN as a funnel of volumes: each layer's maps get smaller and more numerous.

    ``layers`` are ``(kind, arg, arg)``: ``("conv", channels, kernel)``, ``("pool", kernel, stride)``
    or ``("dense", features, 0)``; the sizes are worked out from ``size`` by
    :func:`cnnqa.shapes.conv_output_size` and :func:`cnnqa.shapes.pool_output_size`.

    >>> html = funnel_figure([("conv", 6, 5), ("pool", 2, 2), ("dense", 10, 0)], "LeNet-ish")
    >>> "6×28×28" in html and "6×14×14" in html and "10" in html
    True
    """
    volumes, channels, side = [("input", 1, size)], 1, size
    for kind, a, b in layers:
        if kind == "conv":
            channels, side = a, shapes.conv_output_size(side, b)
        elif kind == "pool":
            side = shapes.pool_output_size(side, a, b)
        elif kind == "dense":
            channels, side = a, 0
        else:
            raise ValueError(f"kind={kind!r}: a layer is 'conv', 'pool' or 'dense'")
        volumes.append((kind, channels, side))
    scale = 90 / size  # the input's face is 90 units tall
    body, x, base = [], 4.0, 150.0
    for kind, channels, side in volumes:
        depth = 4 + 7 * math.log2(channels) if side else 0
        h = side * scale if side else 10 + 5 * math.log2(channels + 1)
        w = h if side else 10
        cls = {"input": "cnnqa-input", "conv": "cnnqa-kernel", "pool": "cnnqa-current", "dense": "cnnqa-output"}[kind]
        room = max(w + depth * 0.6, 58)  # a label is about 58 units wide
        left = x + (room - w - depth * 0.6) / 2
        body.append(_box(left, base - h, w, h, depth, cls))
        label = f"{channels}×{side}×{side}" if side else f"{channels}"
        body.append(_text(x + room / 2, base + 16, label, "cnnqa-value cnnqa-small"))
        body.append(_text(x + room / 2, base + 31, kind, "cnnqa-value cnnqa-small cnnqa-muted"))
        x += room + 10
    return figure_html(svg_html("".join(body), x - 6, base + 40, caption), caption)


def channels_figure(height: int, channels: int, kernels: int, kernel_size: int, caption: str,
                    unit: float | None = None) -> str:
    r"""Multi-channel convolution as volumes: each of K kernels is C deep and makes one map.

    The output side comes from :func:`cnnqa.shapes.conv_output_size`. ``unit`` is the drawn size
    of one cell; by default the input is drawn 120 units tall. Give two figures the same ``unit``
    to compare their sizes by eye.

    >>> "4 kernels, each 3×3×3" in channels_figure(8, 3, 4, 3, "see")
    True
    """
    out = shapes.conv_output_size(height, kernel_size)
    unit = 120 / height if unit is None else unit
    body = []

    def stack(x, y, n, side, cls, label):
        for c in reversed(range(n)):  # back slices first
            body.append(f'<rect class="{cls}" x="{x + 9 * c:g}" y="{y - 7 * c:g}" width="{side:g}" height="{side:g}"/>')
        body.append(_text(x + side / 2 + 4.5 * (n - 1), y + side + 18, label, "cnnqa-value"))

    stack(10, 60, channels, height * unit, "cnnqa-input", f"input {channels}×{height}×{height}")
    kx = 10 + height * unit + 9 * channels + 60
    for k in range(kernels):
        stack(kx + k * (kernel_size * unit + 9 * channels + 12), 60 + 30, channels, kernel_size * unit, "cnnqa-kernel", "")
    body.append(_text(kx, 60 + 30 + kernel_size * unit + 18 + 20,
                      f"{kernels} kernels, each {channels}×{kernel_size}×{kernel_size}", "cnnqa-muted"))
    ox = kx + kernels * (kernel_size * unit + 9 * channels + 12) + 50
    stack(ox, 60 + (height - out) * unit / 2, kernels, out * unit, "cnnqa-output", f"output {kernels}×{out}×{out}")
    width = ox + out * unit + 9 * kernels + 10
    return figure_html(svg_html("".join(body), width, 60 + height * unit + 60, caption), caption)


def weight_tensor_figure(in_channels: int, out_channels: int, kernel_size: int, caption: str) -> str:
    r"""The K×C×F×F weights (and K biases) that :func:`cnnqa.shapes.conv2d_num_params` counts.

    >>> "= 56" in weight_tensor_figure(3, 2, 3, "see")  # 2·3·3·3 + 2
    True
    """
    k, c, f = out_channels, in_channels, kernel_size
    cell = 12
    gap = max(14, 62 - f * cell)  # room for a "channel j" label over each F×F block
    body = []
    for i in range(k):
        y = 30 + i * (f * cell + gap)
        body.append(_text(0, y + f * cell / 2, f"kernel {i}", "cnnqa-muted"))
        for j in range(c):
            x = 70 + j * (f * cell + gap)
            for u in range(f):
                for v in range(f):
                    body.append(f'<rect class="cnnqa-kernel" x="{x + v * cell}" y="{y + u * cell}" width="{cell}" height="{cell}"/>')
        bx = 70 + c * (f * cell + gap) + 10
        body.append(f'<rect class="cnnqa-current" x="{bx}" y="{y + (f - 1) * cell / 2}" width="{cell}" height="{cell}"/>')
    for j in range(c):
        body.append(_text(70 + j * (f * cell + gap) + f * cell / 2, 16, f"channel {j}", "cnnqa-value cnnqa-small cnnqa-muted"))
    bx = 70 + c * (f * cell + gap) + 10
    body.append(_text(bx + cell / 2, 16, "bias", "cnnqa-value cnnqa-small cnnqa-muted"))
    total = shapes.conv2d_num_params(c, k, f)
    y = 30 + k * (f * cell + gap) + 14
    body.append(_text(0, y, f"{k} × {c} × {f} × {f} weights + {k} biases = {total}", ""))
    return figure_html(svg_html("".join(body), max(bx + 40, 330), y + 10, caption), caption)


def connectivity_figure(n: int, kernel_size: int, caption: str) -> str:
    r"""Dense and convolutional connections side by side, for ``n`` inputs and outputs in a row.

    Each weight has a shade; the convolution's ``kernel_size`` shades repeat at every output
    (weight sharing). The counts come from :func:`cnnqa.shapes.linear_num_params` and
    :func:`cnnqa.shapes.conv2d_num_params` (one channel, a 1×F kernel, no bias).

    >>> html = connectivity_figure(6, 3, "see")
    >>> "36 weights" in html and "3 weights" in html
    True
    """
    pad = kernel_size // 2
    gap, width_one = 34, 34 * (n - 1)
    body = []
    for panel, x0 in (("dense", 20), ("conv", 20 + width_one + 80)):
        top, bottom = 40, 150
        for o in range(n):
            sources = range(n) if panel == "dense" else range(o - pad, o + pad + 1)
            for tap, i in enumerate(sources):
                if 0 <= i < n:
                    cls = "cnnqa-link" if panel == "dense" else f"cnnqa-link cnnqa-tap{tap % 3}"
                    body.append(f'<line class="{cls}" x1="{x0 + i * gap}" y1="{bottom}" x2="{x0 + o * gap}" y2="{top}"/>')
        for i in range(n):
            body.append(f'<circle class="cnnqa-input" cx="{x0 + i * gap}" cy="{bottom}" r="8"/>')
            body.append(f'<circle class="cnnqa-output" cx="{x0 + i * gap}" cy="{top}" r="8"/>')
        count = (shapes.linear_num_params(n, n, bias=False) if panel == "dense"
                 else shapes.conv2d_num_params(1, 1, (1, kernel_size), bias=False))
        name = "fully connected" if panel == "dense" else f"convolution, kernel {kernel_size}"
        body.append(_text(x0, 18, f"{name}: {count} weights", "cnnqa-label"))
    width = 20 + 2 * width_one + 80 + 20
    return figure_html(svg_html("".join(body), width, 170, caption), caption)


def paths_to_unit(layers: Sequence, size: int, unit: tuple[int, int] | None = None) -> np.ndarray:
    """How many paths join each input pixel to one output unit of a stack of square layers.

    ``layers`` are ``(kernel_size, stride[, dilation[, padding]])``, input side first, as for
    :func:`cnnqa.shapes.receptive_field_at`; ``unit`` is the output unit's ``(row, column)``, the
    centre by default. With all-ones kernels the count is the unit's gradient with respect to the
    input: :func:`cnnqa.numpy_ops.conv2d_input` carries a one-hot output gradient back through each
    layer. Zeros inside the receptive field are its holes.

    Examples
    --------
    >>> paths_to_unit([(3, 1), (3, 1)], 5)[2]  # two 3x3 convs: 1, 2, 3, 2, 1 ways along each side
    array([3., 6., 9., 6., 3.])
    """
    layers = [shapes._layer(layer) for layer in layers]
    sizes = [size]
    for layer in layers:
        sizes.append(shapes.conv_output_size(sizes[-1], layer.kernel_size, layer.stride, layer.padding, layer.dilation))
    unit = (sizes[-1] // 2, sizes[-1] // 2) if unit is None else unit
    grad = np.zeros((1, 1, sizes[-1], sizes[-1]))
    grad[0, 0][unit] = 1.0
    for layer, below in zip(reversed(layers), reversed(sizes[:-1])):
        kernel = np.ones((1, 1, layer.kernel_size, layer.kernel_size))
        grad = numpy_ops.conv2d_input((1, 1, below, below), kernel, grad, layer.stride, layer.padding, layer.dilation)
    return grad[0, 0]


def receptive_field_figure(layers: Sequence[tuple[int, int]], width: int, caption: str) -> str:
    r"""How one unit's view widens down a stack of layers (``(kernel, stride)`` each, no padding).

    Each row is a layer's positions along one axis; the shaded cells are those the top unit
    depends on. The bottom span equals :func:`cnnqa.shapes.receptive_field` of the stack.

    >>> "receptive field 7" in receptive_field_figure([(3, 1), (3, 1), (3, 1)], 9, "see")
    True
    """
    sizes = [width]
    for k, s in layers:
        sizes.append(shapes.conv_output_size(sizes[-1], k, s))
    spans = [(0, 0)]  # the top unit, then the inputs it reads, layer by layer downwards
    for (k, s), size in zip(reversed(layers), reversed(sizes[:-1])):
        first, last = spans[-1]
        spans.append((first * s, min(last * s + k - 1, size - 1)))
    field = spans[-1][1] - spans[-1][0] + 1
    if field != shapes.receptive_field(layers):
        raise ValueError(f"width={width}: too narrow to show the whole receptive field of {list(layers)}")
    cell = 24
    body = []
    rows = list(zip(reversed(sizes), spans))  # top row first
    for r, (size, (first, last)) in enumerate(rows):
        y = 10 + r * (cell + 22)
        name = "input" if r == len(rows) - 1 else f"layer {len(rows) - 1 - r}"
        body.append(_text(0, y + cell / 2 + 4, name, "cnnqa-muted"))
        for i in range(size):
            cls = "cnnqa-window" if first <= i <= last else "cnnqa-input"
            if r == 0:
                cls = "cnnqa-current" if i == 0 else "cnnqa-input"
            body.append(f'<rect class="{cls}" x="{70 + i * cell}" y="{y}" width="{cell}" height="{cell}"/>')
    y = 10 + len(rows) * (cell + 22)
    body.append(_text(70, y, f"receptive field {field} pixels wide", "cnnqa-label"))
    return figure_html(svg_html("".join(body), 70 + width * cell + 10, y + 10, caption), caption)


def grids_figure(panels: Sequence[tuple[str, np.ndarray]], caption: str, windows: int = 0) -> str:
    r"""Number grids side by side (an input and what ops made of it), values as given.

    ``windows`` outlines the input's non-overlapping ``windows``\ ×\ ``windows`` blocks.

    >>> x = np.arange(16.0).reshape(4, 4)
    >>> "10.5" in grids_figure([("input", x), ("avg", numpy_ops.avg_pool2d(x[None], 2)[0])], "see", 2)
    True
    """
    body, x = [], 0.0
    for title, grid in panels:
        body.append(_text(x, 16, title, "cnnqa-label"))
        for (r, c), value in np.ndenumerate(grid):
            body.append(_cell(x + c * CELL, 26 + r * CELL, "cnnqa-input"))
            body.append(_text(x + c * CELL + CELL / 2, 26 + r * CELL + CELL / 2, _number(float(value)), "cnnqa-value"))
        if windows and grid is panels[0][1]:
            for r in range(0, grid.shape[0] - windows + 1, windows):
                for c in range(0, grid.shape[1] - windows + 1, windows):
                    body.append(f'<rect class="cnnqa-outline" x="{x + c * CELL}" y="{26 + r * CELL}" '
                                f'width="{windows * CELL}" height="{windows * CELL}"/>')
        x += max(grid.shape[1] * CELL, 7.5 * len(title)) + 2 * CELL  # room for the title too
    height = 26 + max(grid.shape[0] for _, grid in panels) * CELL + 4
    return figure_html(svg_html("".join(body), x - 2 * CELL + 2, height, caption), caption)


def coverage_figure(size: int, kernel_size: int, paddings: Sequence[int], caption: str) -> str:
    r"""How many windows read each input pixel, for each padding: darker is read more often.

    The counts are :func:`cnnqa.numpy_ops.conv_transpose2d` of an all-ones output with an
    all-ones kernel, the adjoint of sliding the window (a pixel's count is how many windows
    cover it).

    >>> "9" in coverage_figure(6, 3, [0, 1], "see")
    True
    """
    panels = []
    for p in paddings:
        out = shapes.conv_output_size(size, kernel_size, padding=p)
        counts = numpy_ops.conv_transpose2d(np.ones((1, 1, out, out)), np.ones((1, 1, kernel_size, kernel_size)),
                                            padding=p)[0, 0]
        panels.append((f"padding {p}", counts))
    body, x = [], 0.0
    most = kernel_size * kernel_size
    for title, grid in panels:
        body.append(_text(x, 16, title, "cnnqa-label"))
        for (r, c), value in np.ndenumerate(grid):
            shade = f' style="fill-opacity: {0.12 + 0.78 * value / most:.2f}"'
            body.append(f'<rect class="cnnqa-heat" x="{x + c * CELL:g}" y="{26 + r * CELL:g}" '
                        f'width="{CELL}" height="{CELL}"{shade}/>')
            body.append(_text(x + c * CELL + CELL / 2, 26 + r * CELL + CELL / 2, _number(float(value)), "cnnqa-value"))
        x += size * CELL + CELL
    return figure_html(svg_html("".join(body), x - CELL, 26 + size * CELL + 4, caption), caption)
