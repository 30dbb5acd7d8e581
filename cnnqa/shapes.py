r"""Convolution arithmetic as pure integers: output sizes, parameter and MAC counts, receptive fields.

The size, padding and receptive-field functions work on one spatial dimension; apply them to
height and width separately. The counts (``conv2d_num_params``, ``conv2d_macs``,
``linear_num_params``) are for a whole layer. The formulas use the site's notation, written for
the height: ``size`` is $H$, ``kernel_size`` $F$, ``stride`` $S$, ``padding`` $P$ (per side),
``dilation`` $D$, $\hat F$ the dilated kernel's span, and the output length is $H'$; $K$ kernels,
$C$ input channels, $G$ groups. The formulas follow PyTorch's conventions (``dilation=1`` means
none) and Dumoulin & Visin, *A guide to convolution arithmetic for deep learning* (2016), cited
below by relationship number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from cnnqa import _args

__all__ = [
    "Field",
    "Layer",
    "conv2d_macs",
    "conv2d_num_params",
    "conv_output_size",
    "conv_padding",
    "conv_transpose_output_size",
    "effective_kernel_size",
    "linear_num_params",
    "pool_output_size",
    "receptive_field",
    "receptive_field_at",
    "same_padding",
]


def effective_kernel_size(kernel_size: int, dilation: int = 1) -> int:
    r"""Span of a dilated kernel: the one place this formula lives.

    $$ \hat F = D\,(F - 1) + 1 $$

    (Dumoulin & Visin, section 5.1.)

    Examples
    --------
    >>> effective_kernel_size(3, dilation=2)
    5
    """
    kernel_size = _args.positive_int("kernel_size", kernel_size)
    dilation = _args.positive_int("dilation", dilation)
    return dilation * (kernel_size - 1) + 1


def conv_padding(kernel_size: int, padding=0, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    r"""Resolve a convolution ``padding`` (int, ``"same"`` or ``"valid"``) to ``(before, after)``.

    ``"same"`` pads a total of $\hat F - 1$ (:func:`effective_kernel_size`), the smaller half
    before and the extra element after, as ``torch.nn.functional.conv2d`` does. PyTorch defines it
    only for ``stride=1``; TensorFlow's SAME at any stride is :func:`same_padding`.

    $$ P_{\text{before}} = \left\lfloor \frac{\hat F - 1}{2} \right\rfloor, \qquad
       P_{\text{after}} = \hat F - 1 - P_{\text{before}} $$

    Examples
    --------
    >>> conv_padding(4, "same")
    (1, 2)
    >>> conv_padding(3, "valid"), conv_padding(3, 2)
    ((0, 0), (2, 2))
    """
    if isinstance(padding, str):
        if padding == "valid":
            return 0, 0
        if padding != "same":
            raise ValueError(f"padding={padding!r}: padding must be an int, a pair, 'same' or 'valid'")
        if _args.positive_int("stride", stride) != 1:
            raise ValueError(
                f"stride={stride!r}: padding='same' requires stride=1, as in PyTorch "
                "(for TensorFlow's SAME at any stride, pad by same_padding(size, kernel_size, stride))"
            )
        total = effective_kernel_size(kernel_size, dilation) - 1
        return total // 2, total - total // 2
    padding = _args.nonnegative_int("padding", padding)
    return padding, padding


def same_padding(size: int, kernel_size: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    r"""``(before, after)`` padding of TensorFlow/Keras ``padding="SAME"``: the output is $\lceil H/S \rceil$.

    SAME pads just enough for $\lceil H/S \rceil$ windows, at any stride, and puts the odd
    element after:

    $$ P = \max\!\left(\left(\left\lceil \frac{H}{S} \right\rceil - 1\right) S + \hat F - H,\ 0\right), \qquad
       P_{\text{before}} = \left\lfloor \frac{P}{2} \right\rfloor, \qquad
       P_{\text{after}} = P - P_{\text{before}} $$

    At ``stride=1`` this is $P = \hat F - 1$, PyTorch's ``padding="same"`` (``conv_padding``);
    PyTorch refuses ``"same"`` at larger strides, so pad explicitly with these numbers instead.

    Examples
    --------
    >>> same_padding(224, 7, stride=2)  # a 7x7 stride-2 stem: 224 -> 112
    (2, 3)
    >>> same_padding(10, 4) == conv_padding(4, "same")
    True
    """
    size = _args.positive_int("size", size)
    stride = _args.positive_int("stride", stride)
    out = -(-size // stride)
    total = max((out - 1) * stride + effective_kernel_size(kernel_size, dilation) - size, 0)
    return total // 2, total - total // 2


def conv_output_size(size: int, kernel_size: int, stride: int = 1, padding=0, dilation: int = 1) -> int:
    r"""Output length of a convolution along one dimension.

    $$ H' = \left\lfloor \frac{H + 2P - D\,(F - 1) - 1}{S} \right\rfloor + 1 $$

    (Dumoulin & Visin, relationship 15, the general case with dilation.) ``padding`` may also be
    ``"same"`` or ``"valid"``.

    Raises
    ------
    ValueError
        If the padded input is shorter than the dilated kernel.

    Examples
    --------
    >>> conv_output_size(56, 3, padding=1), conv_output_size(224, 7, stride=2, padding=3)
    (56, 112)
    >>> conv_output_size(10, 4, padding="same")
    10
    """
    size = _args.positive_int("size", size)
    stride = _args.positive_int("stride", stride)
    before, after = conv_padding(kernel_size, padding, stride, dilation)
    span = size + before + after - effective_kernel_size(kernel_size, dilation)
    if span < 0:
        raise ValueError(
            f"size={size}: the padded input ({size + before + after}) is smaller than the "
            f"dilated kernel ({effective_kernel_size(kernel_size, dilation)})"
        )
    return span // stride + 1


def pool_output_size(
    size: int, kernel_size: int, stride=None, padding: int = 0, dilation: int = 1, ceil_mode: bool = False
) -> int:
    r"""Output length of max or average pooling along one dimension (``stride=None`` means ``kernel_size``).

    $$ H' = \left\lfloor \frac{H + 2P - D\,(F - 1) - 1}{S} \right\rfloor + 1 $$

    With ``ceil_mode`` the floor becomes a ceiling, and PyTorch drops the last window if it would
    start in the right padding or beyond (its start, counted in the padded input, is at least
    $H + P$): if $(H' - 1)\,S \ge H + P$ then $H' \leftarrow H' - 1$.
    The padding may be at most half the (undilated) kernel, $P \le \lfloor F/2 \rfloor$.

    Examples
    --------
    >>> pool_output_size(112, 3, stride=2, padding=1)
    56
    >>> pool_output_size(5, 2, ceil_mode=True), pool_output_size(6, 2, padding=1, ceil_mode=True)
    (3, 4)
    """
    size = _args.positive_int("size", size)
    kernel_size = _args.positive_int("kernel_size", kernel_size)
    stride = kernel_size if stride is None else _args.positive_int("stride", stride)
    padding = _args.nonnegative_int("padding", padding)
    if padding > kernel_size // 2:
        raise ValueError(
            f"padding={padding}: padding must be at most half the kernel size ({kernel_size} // 2)"
        )
    span = size + 2 * padding - effective_kernel_size(kernel_size, dilation)
    out = (span + (stride - 1 if _args.as_bool("ceil_mode", ceil_mode) else 0)) // stride + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    if out < 1:
        raise ValueError(f"size={size}: input too small for the pooling window, output size {out}")
    return out


def conv_transpose_output_size(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, output_padding: int = 0, dilation: int = 1
) -> int:
    r"""Output length of a transposed convolution along one dimension.

    $$ H' = (H - 1)\,S - 2P + D\,(F - 1) + A + 1 $$

    with output padding $A$ smaller than $S$ or than $D$ (PyTorch's rule). Dumoulin & Visin,
    relationship 14, give the case $D = 1$ and write $a$ for the same extra rows. For $A < S$ it
    inverts :func:`conv_output_size`: a convolution with the same settings maps each of the $S$
    sizes it returns for $A = 0, \dots, S - 1$ back to $H$.

    Examples
    --------
    >>> conv_transpose_output_size(28, 3, stride=2, padding=1, output_padding=1)
    56
    """
    size = _args.positive_int("size", size)
    stride = _args.positive_int("stride", stride)
    dilation = _args.positive_int("dilation", dilation)
    padding = _args.nonnegative_int("padding", padding)
    output_padding = _args.nonnegative_int("output_padding", output_padding)
    if output_padding >= stride and output_padding >= dilation:
        raise ValueError(
            f"output_padding={output_padding}: output_padding must be smaller than either "
            f"stride ({stride}) or dilation ({dilation})"
        )
    out = (size - 1) * stride - 2 * padding + effective_kernel_size(kernel_size, dilation) + output_padding
    if out < 1:
        raise ValueError(f"padding={padding}: padding leaves an output of size {out}, must be >= 1")
    return out


def conv2d_num_params(in_channels: int, out_channels: int, kernel_size, bias: bool = True, groups: int = 1) -> int:
    r"""Learnable parameters of a ``Conv2d`` layer.

    $$ \#\text{params} = K \cdot \frac{C}{G} \cdot F_h F_w + [\text{bias}]\, K $$

    Examples
    --------
    >>> conv2d_num_params(64, 128, 3)
    73856
    >>> conv2d_num_params(128, 128, 3, bias=False, groups=128)  # depthwise
    1152
    """
    groups = _args.positive_int("groups", groups)
    in_channels = _args.positive_int("in_channels", in_channels)
    out_channels = _args.positive_int("out_channels", out_channels)
    for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
        if channels % groups:
            raise ValueError(f"{name}={channels}: {name} must be divisible by groups={groups}")
    kh, kw = _args.positive("kernel_size", kernel_size)
    return out_channels * (in_channels // groups) * kh * kw + (out_channels if _args.as_bool("bias", bias) else 0)


def linear_num_params(in_features: int, out_features: int, bias: bool = True) -> int:
    r"""Learnable parameters of a fully connected layer.

    $$ \#\text{params} = n_\text{in}\, n_\text{out} + [\text{bias}]\, n_\text{out} $$

    Compare a 3x3 conv from 64x56x56 to 64x56x56 with a dense layer between the same shapes:

    Examples
    --------
    >>> conv2d_num_params(64, 64, 3), linear_num_params(64 * 56 * 56, 64 * 56 * 56)
    (36928, 40282296320)
    """
    in_features = _args.positive_int("in_features", in_features)
    out_features = _args.positive_int("out_features", out_features)
    return in_features * out_features + (out_features if _args.as_bool("bias", bias) else 0)


def conv2d_macs(in_channels: int, out_channels: int, kernel_size, output_size, groups: int = 1) -> int:
    r"""Multiply-accumulates of one ``conv2d`` forward pass for one image (bias not counted).

    $$ \text{MACs} = K\, H' W' \cdot \frac{C}{G}\, F_h F_w $$

    FLOPs are about twice the MACs. ``output_size`` is an int or ``(H_out, W_out)``.

    Examples
    --------
    >>> conv2d_macs(64, 64, 3, 56)
    115605504
    """
    weights = conv2d_num_params(in_channels, out_channels, kernel_size, bias=False, groups=groups)
    height, width = _args.positive("output_size", output_size)
    return weights * height * width


@dataclass(frozen=True)
class Layer:
    """One layer of a stack for :func:`receptive_field`: a conv or pool along one dimension."""

    kernel_size: int
    stride: int = 1
    dilation: int = 1
    padding: int = 0


@dataclass(frozen=True)
class Field:
    """One output unit's receptive field along one dimension, in input pixels (0-based).

    ``start`` is the field's first input pixel and ``stop`` one past its last; a field that
    starts in the padding has ``start < 0``. ``jump`` is how far apart, in input pixels, the
    fields of neighbouring output units start (the stack's total stride).
    """

    size: int
    jump: int
    start: int

    @property
    def stop(self) -> int:
        return self.start + self.size


def _layer(layer) -> Layer:
    """A :class:`Layer` from a Layer or a tuple ``(kernel_size, stride[, dilation[, padding]])``, checked."""
    if not isinstance(layer, Layer):
        if not isinstance(layer, (tuple, list)) or not 2 <= len(layer) <= 4:
            raise TypeError(f"layer={layer!r}: each layer must be a Layer or (kernel_size, stride[, dilation[, padding]])")
        layer = Layer(*layer)
    _args.positive_int("kernel_size", layer.kernel_size)
    _args.positive_int("stride", layer.stride)
    _args.positive_int("dilation", layer.dilation)
    _args.nonnegative_int("padding", layer.padding)
    return layer


def receptive_field_at(layers: Iterable, unit: int = 0) -> Field:
    r"""Size, jump and start of the receptive field of output unit ``unit`` of a stack of layers.

    ``layers`` holds :class:`Layer` objects or tuples ``(kernel_size, stride[, dilation[, padding]])``,
    input side first: convs and pools alike, along one dimension. With $J_0 = 1$ and
    $\hat F_l = D_l (F_l - 1) + 1$, layer $l$ of $L$ gives

    $$ J_l = J_{l-1} S_l, \qquad R_l = R_{l-1} + (\hat F_l - 1) J_{l-1}, \qquad
       \text{start} = u\, J_L - \sum_{l=1}^{L} P_l J_{l-1} $$

    with $R_0 = 1$: the field of unit $u$ covers input pixels $\text{start}, \dots,
    \text{start} + R_L - 1$ (Araujo, Norris & Sim, *Computing Receptive Fields of Convolutional
    Neural Networks*, Distill 2019, eqs. 2 and 9). Pixels with a negative index, or one past the
    input, are padding. Inside the field, dilation and strides larger than the kernel can leave
    pixels that no path reaches: the field is the span, not a promise that every pixel in it counts.

    Examples
    --------
    >>> receptive_field_at([(3, 1, 1, 1), (3, 1, 1, 1)])  # two padded 3x3 convs, unit 0
    Field(size=5, jump=1, start=-2)
    >>> receptive_field_at([Layer(7, 2, padding=3), Layer(3, 2, padding=1)], unit=5)  # ResNet's stem
    Field(size=11, jump=4, start=15)
    """
    unit = _args.nonnegative_int("unit", unit)
    size, jump, start = 1, 1, 0
    for layer in map(_layer, layers):
        size += (effective_kernel_size(layer.kernel_size, layer.dilation) - 1) * jump
        start -= layer.padding * jump
        jump *= layer.stride
    return Field(size, jump, start + unit * jump)


def receptive_field(layers: Iterable) -> int:
    r"""Receptive field (in input pixels, one dimension) of one output unit of a stack of layers.

    ``layers`` holds :class:`Layer` objects or tuples ``(kernel_size, stride[, dilation[, padding]])``,
    input side first. Padding does not change the size of the field, only where it sits (see
    :func:`receptive_field_at`).

    $$ R = 1 + \sum_{l=1}^{L} (\hat F_l - 1) \prod_{m=1}^{l-1} S_m $$

    (Araujo, Norris & Sim, *Computing Receptive Fields of Convolutional Neural Networks*,
    Distill 2019, eq. 2.)

    Examples
    --------
    >>> receptive_field([(3, 1), (3, 1)])  # two 3x3 convs see 5x5
    5
    >>> receptive_field([Layer(7, 2), Layer(3, 2), Layer(3), Layer(3)])  # ResNet stem + block
    27
    """
    return receptive_field_at(layers).size
