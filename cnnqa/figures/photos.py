"""Photographs through cnnqa's ops, and the site's two charts, drawn with matplotlib.

The photograph is the portrait of Grace Hopper that matplotlib ships as sample data, so nothing
is downloaded. Every image shown is an output of :mod:`cnnqa.numpy_ops` (padding is a 1×1
identity convolution with the padding mode under test). matplotlib is imported only here, and
only when a picture is drawn: ``import cnnqa`` stays light.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

import numpy as np

from cnnqa import numpy_ops, shapes
from cnnqa.figures.svg import figure_html

__all__ = [
    "conv_matrix_figure",
    "feature_maps_figure",
    "output_size_chart",
    "padding_modes_figure",
    "photo",
    "pooling_photo_figure",
]

# Hand-set kernels a first layer often learns something like (cross-correlation, as conv2d).
EDGE_VERTICAL = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])  # Sobel
EDGE_HORIZONTAL = EDGE_VERTICAL.T.copy()
BLUR = np.full((5, 5), 1 / 25)


def photo(size: int = 128) -> np.ndarray:
    """Grace Hopper's face from matplotlib's sample data: a grey ``size``×``size`` image in [0, 1].

    The square around the face is averaged down by :func:`cnnqa.numpy_ops.avg_pool2d`.

    >>> photo(64).shape
    (64, 64)
    """
    import matplotlib.cbook
    import matplotlib.image

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as file:
        rgb = matplotlib.image.imread(file, format="jpg").astype(np.float64) / 255
    face = rgb[40:552, :512].mean(axis=2)  # 512×512 around the face, grey
    factor = 512 // size
    if factor * size != 512:
        raise ValueError(f"size={size}: size must divide 512")
    return numpy_ops.avg_pool2d(face[None], factor)[0]


def _png(image: np.ndarray, cmap: str = "gray", symmetric: bool = False) -> str:
    """A data: URL of the image as PNG (no file, no request)."""
    import matplotlib.image

    limit = float(np.abs(image).max()) or 1.0
    low, high = (-limit, limit) if symmetric else (float(image.min()), float(image.max()))
    buffer = io.BytesIO()
    matplotlib.image.imsave(buffer, image, cmap=cmap, vmin=low, vmax=high, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _panels(panels: Sequence[tuple[str, str, str]], caption: str, size: int = 160) -> str:
    """(label, data URL, alt) panels in a row that wraps on narrow screens, each ``size`` px square."""
    items = "".join(
        f'<figure class="cnnqa-panel"><img src="{url}" alt="{html.escape(alt)}" width="{size}" height="{size}">'
        f"<figcaption>{html.escape(label)}</figcaption></figure>"
        for label, url, alt in panels
    )
    return figure_html(f'<div class="cnnqa-panels">{items}</div>', caption)


def padding_modes_figure(caption: str, pad: int = 24) -> str:
    """The photograph padded by ``pad`` pixels in each of the four padding modes of ``nn.Conv2d``.

    >>> padding_modes_figure("see").count('<img src="data:image/png')
    4
    """
    x = photo()[None, None]
    identity = np.ones((1, 1, 1, 1))
    panels = []
    for mode in ("zeros", "reflect", "replicate", "circular"):
        padded = numpy_ops.conv2d(x, identity, padding=pad, padding_mode=mode)[0, 0]
        panels.append((f"padding_mode='{mode}'", _png(padded), f"the photograph with {pad} pixels of {mode} padding"))
    return _panels(panels, caption)


def feature_maps_figure(caption: str) -> str:
    """The photograph and three feature maps: vertical edges, horizontal edges, blur.

    Red and blue are positive and negative responses of the edge kernels. The border is padded by
    replicating it, so that no false edge frames the maps (zero padding would draw one).

    >>> feature_maps_figure("see").count("<img")
    4
    """
    x = photo()[None, None]
    panels = [("input", _png(x[0, 0]), "the photograph")]
    for label, kernel, colours in (
        ("vertical edges", EDGE_VERTICAL, "RdBu_r"),
        ("horizontal edges", EDGE_HORIZONTAL, "RdBu_r"),
        ("blur (5×5 average)", BLUR, "gray"),
    ):
        out = numpy_ops.conv2d(x, kernel[None, None], padding="same", padding_mode="replicate")[0, 0]
        panels.append((label, _png(out, colours, symmetric=colours != "gray"), f"feature map: {label}"))
    return _panels(panels, caption)


def pooling_photo_figure(caption: str, kernel_size: int = 8) -> str:
    """The photograph, max-pooled and average-pooled with ``kernel_size`` windows.

    >>> pooling_photo_figure("see").count("<img")
    3
    """
    x = photo()[None]
    return _panels(
        [
            ("input", _png(x[0]), "the photograph"),
            (f"max pool {kernel_size}×{kernel_size}", _png(numpy_ops.max_pool2d(x, kernel_size)[0]),
             "max-pooled: bright details survive"),
            (f"average pool {kernel_size}×{kernel_size}", _png(numpy_ops.avg_pool2d(x, kernel_size)[0]),
             "average-pooled: a smooth, blurred copy"),
        ],
        caption,
    )


def _svg_of(fig) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight", transparent=True)
    plt.close(fig)
    return buffer.getvalue()


def _pyplot(salt: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = salt  # stable ids: the page does not change between builds
    plt.rcParams["svg.fonttype"] = "none"
    return plt


def output_size_chart(widths: Sequence[int], settings: Sequence[tuple[int, int, int]], caption: str) -> str:
    """Output width against input width for each ``(F, S, P)``, by :func:`cnnqa.shapes.conv_output_size`.

    >>> "F=3, S=2, P=1" in output_size_chart(range(5, 9), [(3, 2, 1)], "see")
    True
    """
    plt = _pyplot("output-size-chart")
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6, 3.2))
    for (f, s, p), colour in zip(settings, ["#1e88e5", "#43a047", "#fb8c00", "#e53935"]):
        outs = [shapes.conv_output_size(w, f, s, p) for w in widths]
        ax.step(list(widths), outs, where="mid", color=colour, linewidth=1.5, label=f"F={f}, S={s}, P={p}")
        ax.plot(list(widths), outs, "o", color=colour, markersize=4)
    ax.set_xlabel("input width W", color="#808080")
    ax.set_ylabel("output width W'", color="#808080")
    ax.tick_params(colors="#808080")
    for spine in ax.spines.values():
        spine.set_color("#808080")
    ax.set_xticks(list(widths))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, framealpha=0.5)
    return figure_html(_svg_of(fig), caption)


def conv_matrix_figure(size: int, kernel_size: int, caption: str) -> str:
    """A convolution on a ``size``×``size`` input as the sparse matrix it is, each entry naming its weight.

    Column ``j`` is :func:`cnnqa.numpy_ops.conv2d` of the ``j``-th one-hot image with a kernel
    whose weights are numbered 1 to F², so an entry says which weight (0: none) links that input
    pixel to that output pixel.

    >>> "w[u, v]" in conv_matrix_figure(4, 3, "see")
    True
    """
    plt = _pyplot("conv-as-matrix")
    numbered = np.arange(1, kernel_size**2 + 1, dtype=np.float64).reshape(1, 1, kernel_size, kernel_size)
    basis = np.eye(size * size).reshape(size * size, 1, size, size)
    matrix = numpy_ops.conv2d(basis, numbered).reshape(size * size, -1).T.round().astype(int)
    colours = plt.get_cmap("tab10")(np.arange(kernel_size**2) % 10)
    rgba = np.ones(matrix.shape + (4,))
    rgba[matrix > 0] = colours[matrix[matrix > 0] - 1]
    fig, ax = plt.subplots(figsize=(8, 3.4))
    ax.imshow(rgba, interpolation="nearest")
    for i, j in zip(*np.nonzero(matrix)):
        u, v = divmod(matrix[i, j] - 1, kernel_size)
        ax.text(j, i, f"{u}{v}", ha="center", va="center", fontsize=7, color="white")
    ax.vlines(np.arange(-0.5, size * size), -0.5, matrix.shape[0] - 0.5, color="0.6", linewidth=0.5)
    ax.hlines(np.arange(-0.5, matrix.shape[0]), -0.5, size * size - 0.5, color="0.6", linewidth=0.5)
    ax.set_xticks(range(0, size * size, size))
    ax.set_yticks(range(matrix.shape[0]))
    ax.set_xlabel(f"input pixel (row-major index in the {size}×{size} image)", color="0.5")
    ax.set_ylabel("output pixel", color="0.5")
    ax.set_title(f"{kernel_size}×{kernel_size} convolution on a {size}×{size} input as a "
                 f"{matrix.shape[0]}×{matrix.shape[1]} matrix (label uv = weight w[u, v])", color="0.5", fontsize=10)
    ax.tick_params(colors="0.5")
    return figure_html(_svg_of(fig), caption)


def images_figure(images: Sequence[np.ndarray], labels: Sequence[str], caption: str, symmetric: bool = False,
                  size: int = 72) -> str:
    """Small 2-D arrays side by side (digits, learned kernels, feature maps), each with its label.

    ``symmetric`` draws signed values in red (positive) and blue (negative) around a white zero;
    otherwise grey levels from the smallest value (black) to the largest (white).

    >>> images_figure([np.eye(3), -np.eye(3)], ["a", "b"], "see", symmetric=True).count("<img")
    2
    """
    if len(images) != len(labels):
        raise ValueError(f"labels: got {len(labels)} labels for {len(images)} images")
    cmap = "RdBu_r" if symmetric else "gray"
    panels = [(label, _png(np.asarray(image, dtype=float), cmap, symmetric), label)
              for image, label in zip(images, labels)]
    return _panels(panels, caption, size)


def learning_curve_chart(losses: Sequence[float], accuracies: Sequence[float], caption: str) -> str:
    """Training loss (left axis) and test accuracy (right axis) after each epoch.

    >>> "test accuracy" in learning_curve_chart([2.0, 1.0], [0.5, 0.9], "see")
    True
    """
    if len(losses) != len(accuracies):
        raise ValueError(f"accuracies: got {len(accuracies)} values for {len(losses)} losses")
    plt = _pyplot("learning-curve")
    epochs = list(range(1, len(losses) + 1))
    fig, ax = plt.subplots(figsize=(6, 3.2))
    ax.plot(epochs, losses, "o-", color="#1e88e5", markersize=4, label="training loss")
    ax.set_xlabel("epoch", color="#808080")
    ax.set_ylabel("training loss", color="#1e88e5")
    right = ax.twinx()
    right.plot(epochs, [100 * a for a in accuracies], "s-", color="#fb8c00", markersize=4, label="test accuracy")
    right.set_ylabel("test accuracy (%)", color="#fb8c00")
    for axis in (ax, right):
        axis.tick_params(colors="#808080")
        for spine in axis.spines.values():
            spine.set_color("#808080")
    ax.grid(alpha=0.3)
    return figure_html(_svg_of(fig), caption)
