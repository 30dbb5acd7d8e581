r"""Well-known CNNs by the numbers: parameters, multiply-accumulates, depth and receptive field.

Each network is written out layer by layer with a :class:`Builder`, and every count comes from
:mod:`cnnqa.shapes`; nothing is typed in. The conventions:

- **Parameters**: every weight and bias, batch-norm scales and shifts included.
- **Multiply-accumulates (MACs)**: those of conv, transposed-conv and fully connected layers,
  $K \cdot C/G \cdot F_h F_w \cdot H' W'$ for a conv (:func:`cnnqa.shapes.conv2d_macs`); pooling,
  normalisation, activations and additions are not counted (they are a small share).
- **Depth**: the weight layers (conv, transposed conv, fully connected) on the longest path from
  input to output. Shortcuts and parallel branches do not add to it.
- **Receptive field**: of one unit of the last feature map, the one the head pools or flattens, in
  input pixels along one side: the span from the first to the last input pixel that some path
  connects to the unit (:func:`cnnqa.shapes.receptive_field` along a chain of layers). Each state
  keeps the exact span of any run of its units; where branches merge, a unit depends on the
  union of the branches' spans. After a transposed conv, units at different positions can see
  spans of different widths: the field is the widest. Squeeze-and-excitation gates (EfficientNet)
  are left out: through their global average every unit depends on the whole image.

Examples
--------
>>> net = vgg16()
>>> net.params, net.depth, net.field
(138357544, 16, 212)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache
from math import lcm

from cnnqa import _args, shapes

__all__ = [
    "Builder",
    "NETWORKS",
    "Network",
    "Row",
    "State",
    "alexnet",
    "densenet121",
    "efficientnet_b0",
    "googlenet",
    "layer_table",
    "lenet5",
    "resnet50",
    "summary_table",
    "unet",
    "vgg16",
]


def _identity(lo: int, hi: int) -> tuple[int, int]:
    return lo, hi


@dataclass(frozen=True)
class State:
    """The feature maps at one point of a network, and how they came to be.

    ``span(lo, hi)`` gives the input pixels, first and last along one side, that units ``lo`` to
    ``hi`` of these maps depend on (ignoring the input's edges); ``period`` is how many units apart
    that pattern repeats (more than 1 only after up-sampling).
    """

    channels: int
    height: int
    width: int
    depth: int = 0  # weight layers on the longest path so far
    jump: Fraction = Fraction(1)  # input pixels between neighbouring units, on average
    span: Callable[[int, int], tuple[int, int]] = field(default=_identity, compare=False, repr=False)
    period: int = 1

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.channels, self.height, self.width

    @property
    def field(self) -> int:
        """The receptive field of one unit, input pixels along one side: the widest over a period."""
        return max(hi - lo + 1 for lo, hi in map(lambda u: self.span(u, u), range(self.period)))


def _read(x: State, step: int, before: int, reach: int) -> Callable[[int, int], tuple[int, int]]:
    """The span of a layer whose unit ``u`` reads units ``u step - before`` to that ``+ reach`` of ``x``."""
    return lru_cache(maxsize=None)(lambda lo, hi: x.span(lo * step - before, hi * step - before + reach))


@dataclass(frozen=True)
class Row:
    """One layer of a network's table: what it outputs and what it costs."""

    name: str
    kind: str
    output: tuple[int, int, int]  # (C, H, W) of its output
    params: int
    macs: int

    @property
    def activations(self) -> int:
        """Values in the layer's output, for one image."""
        return self.output[0] * self.output[1] * self.output[2]


@dataclass
class Network:
    """A network's layers and totals, for one input size."""

    name: str
    input: tuple[int, int, int]
    rows: list[Row] = field(default_factory=list)
    depth: int = 0
    field: int = 0  # receptive field of a unit of the last feature map

    @property
    def params(self) -> int:
        return sum(row.params for row in self.rows)

    @property
    def macs(self) -> int:
        return sum(row.macs for row in self.rows)


class Builder:
    r"""Writes a network down layer by layer; each call returns the :class:`State` after the layer.

    Branches are ordinary Python: pass the same state to several calls, then :meth:`concat` or
    :meth:`add` their results. A conv's row costs $K (C/G) F^2 \cdot H'W'$ multiply-accumulates,
    a dense layer's $nm$, a transposed conv's $C K F^2 \cdot HW$ (each input unit stamps a kernel).

    Examples
    --------
    >>> b = Builder("two convs and a shortcut", 8, 16)
    >>> x = b.input()
    >>> y = b.conv(b.conv(x, 8, 3, padding=1), 8, 3, padding=1)
    >>> net = b.done(b.add(x, y))
    >>> net.params, net.macs, net.depth, y.field
    (1168, 294912, 2, 5)
    """

    def __init__(self, name: str, channels: int, height: int, width: int | None = None):
        height = _args.positive_int("height", height)
        width = height if width is None else _args.positive_int("width", width)
        self.net = Network(name, (_args.positive_int("channels", channels), height, width))

    def input(self) -> State:
        return State(*self.net.input)

    def _row(self, name: str, kind: str, out: State, params: int, macs: int) -> State:
        self.net.rows.append(Row(name, kind, out.shape, params, macs))
        return out

    def conv(self, x: State, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
             groups: int = 1, bias: bool = True, name: str = "conv") -> State:
        """A square conv; output size by :func:`cnnqa.shapes.conv_output_size`."""
        h, w = (shapes.conv_output_size(size, kernel_size, stride, padding) for size in (x.height, x.width))
        out = State(out_channels, h, w, x.depth + 1, x.jump * stride, _read(x, stride, padding, kernel_size - 1), x.period)
        params = shapes.conv2d_num_params(x.channels, out_channels, kernel_size, bias, groups)
        return self._row(name, "conv", out, params, shapes.conv2d_macs(x.channels, out_channels, kernel_size, (h, w), groups))

    def up(self, x: State, out_channels: int, kernel_size: int, stride: int, name: str = "up-conv") -> State:
        """A transposed conv (no padding): each input unit stamps a kernel onto the output."""
        h, w = (shapes.conv_transpose_output_size(size, kernel_size, stride) for size in (x.height, x.width))

        @lru_cache(maxsize=None)
        def span(lo, hi):  # output unit o reads the input units i with i S <= o <= i S + F - 1
            return x.span(-((kernel_size - 1 - lo) // stride), hi // stride)

        out = State(out_channels, h, w, x.depth + 1, x.jump / stride, span, x.period * stride)
        params = shapes.conv2d_num_params(x.channels, out_channels, kernel_size)
        return self._row(name, "up-conv", out, params, x.channels * out_channels * kernel_size**2 * x.height * x.width)

    def norm(self, x: State, name: str = "batch norm") -> State:
        """Batch norm: a scale and a shift per channel."""
        return self._row(name, "norm", x, 2 * x.channels, 0)

    def pool(self, x: State, kernel_size: int, stride: int | None = None, padding: int = 0, ceil_mode: bool = False,
             name: str = "pool") -> State:
        """Max or average pooling: no parameters; output size by :func:`cnnqa.shapes.pool_output_size`."""
        stride = kernel_size if stride is None else stride
        h, w = (shapes.pool_output_size(size, kernel_size, stride, padding, ceil_mode=ceil_mode)
                for size in (x.height, x.width))
        out = replace(x, height=h, width=w, jump=x.jump * stride, span=_read(x, stride, padding, kernel_size - 1))
        return self._row(name, "pool", out, 0, 0)

    def global_pool(self, x: State, name: str = "global average pool") -> State:
        """One value per channel: the head starts here, so the network's field is taken first."""
        self.net.field = x.field
        return self._row(name, "pool", replace(x, height=1, width=1), 0, 0)

    def flatten(self, x: State) -> State:
        """The maps as one vector, for a dense head: the network's field is taken here."""
        self.net.field = x.field
        return replace(x, channels=x.channels * x.height * x.width, height=1, width=1)

    def linear(self, x: State, out_features: int, bias: bool = True, name: str = "dense") -> State:
        out = replace(x, channels=out_features, depth=x.depth + 1)
        params = shapes.linear_num_params(x.channels, out_features, bias)
        return self._row(name, "dense", out, params, x.channels * out_features)

    def concat(self, *xs: State) -> State:
        """Branches stacked along the channels: the longest path and the largest field count."""
        _same_grid(xs)
        return replace(xs[0], channels=sum(x.channels for x in xs), depth=max(x.depth for x in xs), span=_union(xs),
                       period=lcm(*(x.period for x in xs)))

    def add(self, *xs: State) -> State:
        """Branches summed (a shortcut): the same shape on every branch."""
        _same_grid(xs)
        if len({x.channels for x in xs}) != 1:
            raise ValueError(f"channels={[x.channels for x in xs]}: added branches must have equal channels")
        return replace(xs[0], depth=max(x.depth for x in xs), span=_union(xs), period=lcm(*(x.period for x in xs)))

    def crop(self, x: State, like: State) -> State:
        """Centre-crop ``x`` to ``like``'s size (U-Net's skip connections)."""
        return replace(x, height=like.height, width=like.width, span=_read(x, 1, -((x.height - like.height) // 2), 0))

    def done(self, x: State) -> Network:
        self.net.depth = x.depth
        return self.net


def _union(xs) -> Callable[[int, int], tuple[int, int]]:
    """Merged branches: a unit depends on what any branch's unit depends on."""
    @lru_cache(maxsize=None)
    def span(lo, hi):
        spans = [x.span(lo, hi) for x in xs]
        return min(a for a, _ in spans), max(b for _, b in spans)

    return span


def _same_grid(xs) -> None:
    if len({(x.height, x.width, x.jump) for x in xs}) != 1:
        raise ValueError(f"sizes={[(x.height, x.width) for x in xs]}: merged branches must have the same grid")


# --- The networks. Each follows torchvision's model of the same name where there is one.


def lenet5() -> Network:
    """LeNet-5 as it is usually rebuilt: every C3 map reads all six S2 maps, pooling has no weights.

    Examples
    --------
    >>> net = lenet5()
    >>> net.params, net.macs, net.depth, net.field
    (61706, 416520, 5, 32)
    """
    b = Builder("LeNet-5", 1, 32)
    x = b.conv(b.input(), 6, 5, name="C1")
    x = b.pool(x, 2, name="S2")
    x = b.conv(x, 16, 5, name="C3")
    x = b.pool(x, 2, name="S4")
    x = b.conv(x, 120, 5, name="C5")
    x = b.linear(b.flatten(x), 84, name="F6")
    return b.done(b.linear(x, 10, name="output"))


def alexnet() -> Network:
    """torchvision's AlexNet: the one-GPU form of Krizhevsky et al. (2012), 64/192/384/256/256 kernels.

    Examples
    --------
    >>> net = alexnet()
    >>> net.params, net.macs, net.depth, net.field
    (61100840, 714188480, 8, 195)
    """
    b = Builder("AlexNet", 3, 224)
    x = b.pool(b.conv(b.input(), 64, 11, 4, 2, name="conv1"), 3, 2, name="pool1")
    x = b.pool(b.conv(x, 192, 5, padding=2, name="conv2"), 3, 2, name="pool2")
    x = b.conv(x, 384, 3, padding=1, name="conv3")
    x = b.conv(x, 256, 3, padding=1, name="conv4")
    x = b.pool(b.conv(x, 256, 3, padding=1, name="conv5"), 3, 2, name="pool5")
    x = b.flatten(x)  # 256 x 6 x 6 at 224 x 224 (torchvision pools adaptively to 6 x 6)
    x = b.linear(b.linear(x, 4096, name="fc6"), 4096, name="fc7")
    return b.done(b.linear(x, 1000, name="fc8"))


VGG16_STAGES = ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3))  # (channels, 3x3 convs) per stage


def vgg16() -> Network:
    """VGG-16 (configuration D of Simonyan & Zisserman, 2015), as torchvision's ``vgg16``."""
    b = Builder("VGG-16", 3, 224)
    x = b.input()
    for stage, (channels, convs) in enumerate(VGG16_STAGES, start=1):
        for i in range(1, convs + 1):
            x = b.conv(x, channels, 3, padding=1, name=f"conv{stage}_{i}")
        x = b.pool(x, 2, name=f"pool{stage}")
    x = b.linear(b.linear(b.flatten(x), 4096, name="fc6"), 4096, name="fc7")
    return b.done(b.linear(x, 1000, name="fc8"))


def _conv_bn(b: Builder, x: State, out: int, k: int, stride: int = 1, padding: int = 0, groups: int = 1,
             name: str = "conv") -> State:
    """A conv without bias followed by batch norm, the unit of the modern networks."""
    return b.norm(b.conv(x, out, k, stride, padding, groups, bias=False, name=name), name=f"{name} bn")


# (1x1, 3x3 reduce, 3x3, "5x5" reduce, "5x5", pool projection) per inception module
GOOGLENET_INCEPTION = {
    "3a": (64, 96, 128, 16, 32, 32), "3b": (128, 128, 192, 32, 96, 64),
    "4a": (192, 96, 208, 16, 48, 64), "4b": (160, 112, 224, 24, 64, 64), "4c": (128, 128, 256, 24, 64, 64),
    "4d": (112, 144, 288, 32, 64, 64), "4e": (256, 160, 320, 32, 128, 128),
    "5a": (256, 160, 320, 32, 128, 128), "5b": (384, 192, 384, 48, 128, 128),
}


def googlenet(paper: bool = False) -> Network:
    """GoogLeNet (Szegedy et al., 2015) without its auxiliary classifiers.

    By default torchvision's ``googlenet``: batch norm after every conv (no conv biases), and a
    3x3 kernel in the branch the paper gives a 5x5. ``paper=True`` follows the paper's table:
    5x5 kernels, conv biases, no batch norm (and no local response normalisation, which has no
    parameters).

    Examples
    --------
    >>> net = googlenet()
    >>> net.params, net.macs, net.depth, net.field
    (6624904, 1498376192, 22, 379)
    >>> net = googlenet(paper=True)
    >>> net.params, net.macs, net.depth, net.field
    (6998552, 1582671872, 22, 699)
    """
    b = Builder("GoogLeNet (paper)" if paper else "GoogLeNet", 3, 224)

    def unit(x, out, k, stride=1, padding=0, name="conv"):
        return b.conv(x, out, k, stride, padding, name=name) if paper else _conv_bn(b, x, out, k, stride, padding, name=name)

    x = b.pool(unit(b.input(), 64, 7, 2, 3, name="conv1"), 3, 2, ceil_mode=True, name="pool1")
    x = unit(unit(x, 64, 1, name="conv2 reduce"), 192, 3, padding=1, name="conv2")
    x = b.pool(x, 3, 2, ceil_mode=True, name="pool2")
    big = 5 if paper else 3
    for module, (c1, r3, c3, r5, c5, proj) in GOOGLENET_INCEPTION.items():
        if module in ("4a", "5a"):
            x = b.pool(x, 3 if module == "4a" else 2, 2, ceil_mode=True, name=f"pool before {module}")
        branches = (
            unit(x, c1, 1, name=f"{module} 1x1"),
            unit(unit(x, r3, 1, name=f"{module} 3x3 reduce"), c3, 3, padding=1, name=f"{module} 3x3"),
            unit(unit(x, r5, 1, name=f"{module} 5x5 reduce"), c5, big, padding=big // 2, name=f"{module} 5x5"),
            unit(b.pool(x, 3, 1, 1, ceil_mode=True, name=f"{module} pool"), proj, 1, name=f"{module} pool proj"),
        )
        x = b.concat(*branches)
    return b.done(b.linear(b.global_pool(x), 1000, name="fc"))


def resnet50() -> Network:
    """ResNet-50 (He et al., 2016) as torchvision's ``resnet50``: the stride sits on the 3x3 conv.

    Examples
    --------
    >>> net = resnet50()
    >>> net.params, net.macs, net.depth, net.field
    (25557032, 4089184256, 50, 427)
    """
    b = Builder("ResNet-50", 3, 224)
    x = b.pool(_conv_bn(b, b.input(), 64, 7, 2, 3, name="conv1"), 3, 2, 1, name="max pool")
    for stage, (width, blocks) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3)), start=2):
        for block in range(blocks):
            stride = 2 if block == 0 and stage > 2 else 1
            name = f"conv{stage}_{block + 1}"
            y = _conv_bn(b, x, width, 1, name=f"{name} 1x1")
            y = _conv_bn(b, y, width, 3, stride, 1, name=f"{name} 3x3")
            y = _conv_bn(b, y, 4 * width, 1, name=f"{name} 1x1 expand")
            if block == 0:  # the shortcut must change shape too: a strided 1x1 projection
                x = _conv_bn(b, x, 4 * width, 1, stride, name=f"{name} projection")
            x = b.add(x, y)
    return b.done(b.linear(b.global_pool(x), 1000, name="fc"))


def densenet121() -> Network:
    """DenseNet-121 (Huang et al., 2017) as torchvision's ``densenet121``: growth 32, bottleneck 4x.

    Examples
    --------
    >>> net = densenet121()
    >>> net.params, net.macs, net.depth, net.field
    (7978856, 2834161664, 121, 2071)
    """
    growth, bottleneck = 32, 4
    b = Builder("DenseNet-121", 3, 224)
    x = b.pool(_conv_bn(b, b.input(), 64, 7, 2, 3, name="conv0"), 3, 2, 1, name="pool0")
    for block, layers in enumerate((6, 12, 24, 16), start=1):
        for layer in range(1, layers + 1):
            name = f"block{block} layer{layer}"
            y = b.conv(b.norm(x, name=f"{name} bn1"), bottleneck * growth, 1, bias=False, name=f"{name} 1x1")
            y = b.conv(b.norm(y, name=f"{name} bn2"), growth, 3, padding=1, bias=False, name=f"{name} 3x3")
            x = b.concat(x, y)
        if block < 4:
            x = b.conv(b.norm(x, name=f"transition{block} bn"), x.channels // 2, 1, bias=False, name=f"transition{block}")
            x = b.pool(x, 2, name=f"transition{block} pool")
    x = b.norm(x, name="final bn")
    return b.done(b.linear(b.global_pool(x), 1000, name="fc"))


# (expansion, kernel, stride, output channels, blocks) per stage of EfficientNet-B0
EFFICIENTNET_B0_STAGES = ((1, 3, 1, 16, 1), (6, 3, 2, 24, 2), (6, 5, 2, 40, 2), (6, 3, 2, 80, 3),
                          (6, 5, 1, 112, 3), (6, 5, 2, 192, 4), (6, 3, 1, 320, 1))


def efficientnet_b0() -> Network:
    """EfficientNet-B0 (Tan & Le, 2019) as torchvision's ``efficientnet_b0``.

    Each block: a 1x1 expansion (unless the expansion is 1), a depthwise conv, squeeze-and-excitation
    (global average pool, 1x1 to a quarter of the block's input channels, 1x1 back, both with
    biases), and a 1x1 projection; a shortcut where the shape is kept.

    Examples
    --------
    >>> net = efficientnet_b0()
    >>> net.params, net.macs, net.depth, net.field
    (5288548, 385814752, 82, 851)
    """
    b = Builder("EfficientNet-B0", 3, 224)
    x = _conv_bn(b, b.input(), 32, 3, 2, 1, name="stem")
    for stage, (expansion, k, stride, out, blocks) in enumerate(EFFICIENTNET_B0_STAGES, start=1):
        for block in range(blocks):
            name, s = f"stage{stage} block{block + 1}", stride if block == 0 else 1
            y = x if expansion == 1 else _conv_bn(b, x, x.channels * expansion, 1, name=f"{name} expand")
            y = _conv_bn(b, y, y.channels, k, s, k // 2, groups=y.channels, name=f"{name} depthwise")
            squeeze = b.conv(replace(y, height=1, width=1), max(1, x.channels // 4), 1, name=f"{name} squeeze")
            b.conv(squeeze, y.channels, 1, name=f"{name} excite")  # scales y's channels: y keeps its shape
            y = _conv_bn(b, replace(y, depth=y.depth + 2), out, 1, name=f"{name} project")
            x = b.add(x, y) if s == 1 and x.channels == out else y
    x = _conv_bn(b, x, 1280, 1, name="head")
    return b.done(b.linear(b.global_pool(x), 1000, name="fc"))


def unet(size: int = 224, padding: int = 1, classes: int = 2) -> Network:
    """U-Net (Ronneberger et al., 2015): 64 to 1024 channels and back, 2x2 up-convs, skip connections.

    The paper's convs are unpadded (``padding=0``) and take a 572x572 tile to a 388x388 map; an
    unpadded U-Net cannot take 224x224 (a map of odd size would reach a 2x2 pool). By default the
    3x3 convs are padded by 1, so the output has the input's size.

    Examples
    --------
    >>> net = unet()
    >>> net.params, net.macs, net.depth, net.field
    (31030658, 36823564288, 23, 204)
    >>> net = unet(572, padding=0)
    >>> net.params, net.macs, net.depth, net.field
    (31030658, 150428424448, 23, 204)
    """
    size, padding = _args.positive_int("size", size), _args.nonnegative_int("padding", padding)
    b = Builder("U-Net" if padding else "U-Net (unpadded)", 1, size)
    x, skips = b.input(), []
    for level, channels in enumerate((64, 128, 256, 512, 1024)):
        if level:
            x = b.pool(x, 2, name=f"down{level} pool")
        x = b.conv(x, channels, 3, padding=padding, name=f"down{level} conv1")
        x = b.conv(x, channels, 3, padding=padding, name=f"down{level} conv2")
        skips.append(x)
    for level, channels in zip(range(4, 0, -1), (512, 256, 128, 64)):
        x = b.up(x, channels, 2, 2, name=f"up{level} up-conv")
        x = b.concat(b.crop(skips[level - 1], x), x)
        x = b.conv(x, channels, 3, padding=padding, name=f"up{level} conv1")
        x = b.conv(x, channels, 3, padding=padding, name=f"up{level} conv2")
    b.net.field = x.field
    return b.done(b.conv(x, classes, 1, name="output 1x1"))


#: The networks the popular-architectures page names, in its order (GoogLeNet in both forms).
NETWORKS = (lenet5, alexnet, vgg16, googlenet, lambda: googlenet(paper=True), resnet50, unet, densenet121,
            efficientnet_b0)


def _count(n: float) -> str:
    """``n`` with a unit: 61.7 k, 4.09 G."""
    for unit, scale in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return str(int(n))


def summary_table(networks=NETWORKS) -> str:
    """A Markdown table of the networks' totals: parameters, MACs, depth, receptive field.

    Examples
    --------
    >>> print(summary_table([lenet5]).splitlines()[2])
    | LeNet-5 | 1×32×32 | 61,706 | 417 k | 5 | 32 |
    """
    lines = ["| network | input | parameters | multiply-accumulates | depth | receptive field |",
             "|---|---|---:|---:|---:|---:|"]
    for build in networks:
        net = build()
        c, h, w = net.input
        lines.append(f"| {net.name} | {c}×{h}×{w} | {net.params:,} | {_count(net.macs)} | {net.depth} | {net.field} |")
    return "\n".join(lines)


def layer_table(net: Network, bytes_per_value: int = 4) -> str:
    """A Markdown table of a network's weight and pooling layers: output, parameters, activation memory.

    Activation memory is the layer's output for one image at ``bytes_per_value`` (4: float32);
    the shares are of the network's totals.

    Examples
    --------
    >>> print(layer_table(lenet5()).splitlines()[2])
    | C1 | 6×28×28 | 156 | 0.3 % | 18.4 KiB | 58.1 % |
    """
    total_params = net.params
    total_memory = sum(row.activations for row in net.rows) * bytes_per_value
    lines = ["| layer | output | parameters | share | activations | share |", "|---|---|---:|---:|---:|---:|"]
    for row in net.rows:
        memory = row.activations * bytes_per_value
        c, h, w = row.output
        size = f"{memory / 2**20:.1f} MiB" if memory >= 2**20 else f"{memory / 2**10:.1f} KiB"
        lines.append(f"| {row.name} | {c}×{h}×{w} | {row.params:,} | {100 * row.params / total_params:.1f} % | "
                     f"{size} | {100 * memory / total_memory:.1f} % |")
    return "\n".join(lines)
