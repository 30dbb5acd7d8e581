r"""Convolution and pooling in NumPy, with the names, parameters and semantics of
``torch.nn.functional``.

Each op takes ``(N, C, H, W)`` or unbatched ``(C, H, W)`` floating-point arrays and returns an
array of the same dtype. Integer, bool and complex inputs raise ``TypeError``. torch is more
permissive on the CPU: its conv2d accepts integer and complex tensors, its max pool integers,
its average pool int64; cnnqa accepts real floating-point arrays only.

The defaults are vectorised (see ``cnnqa._numpy_fast``); :func:`conv2d_reference`,
:func:`max_pool2d_reference` and :func:`avg_pool2d_reference` loop over output positions the way
the formulas read and are what the fast versions are tested against.
"""

from __future__ import annotations

import numpy as np

from cnnqa import _args, _config, _numpy_fast, shapes

__all__ = [
    "avg_pool2d",
    "avg_pool2d_reference",
    "conv2d",
    "conv2d_reference",
    "conv_transpose2d",
    "max_pool2d",
    "max_pool2d_reference",
    "max_unpool2d",
]


def _float_array(name: str, value) -> np.ndarray:
    """Refuse anything but a floating-point ``np.ndarray``."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name}={type(value).__name__}: {name} must be a numpy.ndarray")
    _args.floating(name, value.dtype, np.issubdtype(value.dtype, np.floating))
    return value


def _conv_arrays(input, weight, bias):
    """Check types and dtypes of a conv call's arrays; return the input batched (N, C, H, W)."""
    _float_array("input", input)
    _args.same_dtype(input.dtype, "weight", _float_array("weight", weight).dtype)
    if bias is not None:
        _args.same_dtype(input.dtype, "bias", _float_array("bias", bias).dtype)
    return input


def _batch(x: np.ndarray, batched: bool) -> np.ndarray:
    return x if batched else x[None]  # (N, C, H, W)


def _unbatch(out, batched: bool):
    return out if batched else out[0]


def _with_bias(out: np.ndarray, bias) -> np.ndarray:
    if bias is not None:
        out += bias[:, None, None]
    return out


def _conv_padded(input, weight, bias, stride, padding, dilation, groups, padding_mode):
    """Shared front of both conv2d versions: validate, then batch and pad the input."""
    _conv_arrays(input, weight, bias)
    cfg = _config.conv2d(input.shape, weight.shape, None if bias is None else bias.shape,
                         stride, padding, dilation, groups, padding_mode)
    return cfg, _numpy_fast.pad(_batch(input, cfg.batched), cfg.pads, cfg.padding_mode)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    r"""2-D cross-correlation, as ``torch.nn.functional.conv2d`` (plus ``nn.Conv2d``'s ``padding_mode``).

    $$ y_{n,k,i,j} = b_k + \sum_{c=0}^{C/G-1} \sum_{u,v} w_{k,c,u,v}\,
       \tilde x_{n,\,g(k) C/G + c,\; S_h i + D_h u,\; S_w j + D_w v} $$

    where $\tilde x$ is the input padded with ``padding_mode``, $u$ and $v$ run over
    $0, \dots, F_h - 1$ and $0, \dots, F_w - 1$, and $g(k) = \lfloor k G / K \rfloor$ is the group
    of output channel $k$. ``padding`` is an int, a pair, ``"same"`` or ``"valid"``.

    Examples
    --------
    >>> x = np.arange(16, dtype=np.float64).reshape(1, 1, 4, 4)
    >>> conv2d(x, np.ones((1, 1, 2, 2)), stride=2)[0, 0]
    array([[10., 18.],
           [42., 50.]])
    """
    cfg, xp = _conv_padded(input, weight, bias, stride, padding, dilation, groups, padding_mode)
    out = _numpy_fast.conv2d(xp, weight, cfg.groups, cfg.stride, cfg.dilation, cfg.out_hw)
    return _unbatch(_with_bias(out, bias), cfg.batched)


def conv2d_reference(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    r"""Readable :func:`conv2d`: one dot product per output position and group.

    Examples
    --------
    >>> x = np.arange(16, dtype=np.float64).reshape(1, 4, 4)
    >>> conv2d_reference(x, np.ones((1, 1, 3, 3)), padding=1)[0, 0]
    array([10., 18., 24., 18.])
    """
    cfg, xp = _conv_padded(input, weight, bias, stride, padding, dilation, groups, padding_mode)
    (sh, sw), (dh, dw), (kh, kw) = cfg.stride, cfg.dilation, cfg.kernel
    span_h, span_w = shapes.effective_kernel_size(kh, dh), shapes.effective_kernel_size(kw, dw)
    c_group, o_group = xp.shape[1] // cfg.groups, cfg.out_channels // cfg.groups
    out = np.zeros((xp.shape[0], cfg.out_channels, *cfg.out_hw), input.dtype)
    for g in range(cfg.groups):
        w = weight[g * o_group : (g + 1) * o_group]  # (O/g, C/g, kh, kw)
        x = xp[:, g * c_group : (g + 1) * c_group]  # (N, C/g, Hp, Wp)
        for i in range(cfg.out_hw[0]):
            for j in range(cfg.out_hw[1]):
                window = x[:, :, i * sh : i * sh + span_h : dh, j * sw : j * sw + span_w : dw]
                out[:, g * o_group : (g + 1) * o_group, i, j] = np.einsum("nchw,ochw->no", window, w)
    return _unbatch(_with_bias(out, bias), cfg.batched)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    r"""Transposed convolution (the gradient of :func:`conv2d` w.r.t. its input), as torch.

    Weight is ``(C_in, C_out / groups, kH, kW)``. Each input pixel scatters a weighted copy of the
    kernel into the output (for ``groups=1``):

    $$ y_{n,k,\,S_h i + D_h u - P_h,\; S_w j + D_w v - P_w} \mathrel{+}= x_{n,c,i,j}\, w_{c,k,u,v} $$

    with $y$ starting at the bias; positions that fall outside the output are dropped. With
    groups, input channel $c$ of group $g$ reaches only that group's output channels
    $k = g\,C_\text{out}/G + k'$, through $w_{c,k',u,v}$.

    Output size: :func:`cnnqa.shapes.conv_transpose_output_size`.

    Examples
    --------
    >>> conv_transpose2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)), stride=2).shape
    (1, 1, 4, 4)
    """
    _conv_arrays(input, weight, bias)
    cfg = _config.conv_transpose2d(input.shape, weight.shape, None if bias is None else bias.shape,
                                   stride, padding, output_padding, groups, dilation)
    out = _numpy_fast.conv_transpose2d(_batch(input, cfg.batched), weight, cfg)
    return _unbatch(_with_bias(out, bias), cfg.batched)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    r"""2-D max pooling, as ``torch.nn.functional.max_pool2d``.

    $$ y_{n,c,i,j} = \max_{u < F_h,\, v < F_w} x_{n,c,\; S_h i + D_h u - P_h,\; S_w j + D_w v - P_w} $$

    over the taps inside the input (padding never wins). With ``return_indices`` also returns the
    flat index ``h * W + w`` of each maximum within its ``(H, W)`` plane: the first maximum, or
    the last NaN if the window holds NaNs, as torch.
    Output size: :func:`cnnqa.shapes.pool_output_size`.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 4, 4)
    >>> max_pool2d(x, 2, return_indices=True)
    (array([[[ 5.,  7.],
            [13., 15.]]]), array([[[ 5,  7],
            [13, 15]]]))
    """
    cfg = _config.pool2d(_float_array("input", input).shape, kernel_size, stride, padding, dilation, ceil_mode)
    xp = _numpy_fast.pad(_batch(input, cfg.batched), cfg.pads, value=-np.inf)
    if not _args.as_bool("return_indices", return_indices):
        return _unbatch(_numpy_fast.max_pool(xp, cfg), cfg.batched)
    height, width = input.shape[-2:]
    flat = np.arange(height * width, dtype=np.int64).reshape(1, 1, height, width)
    flat = _numpy_fast.pad(flat, cfg.pads, value=-1)
    out, indices = _numpy_fast.max_pool_with_indices(xp, flat, np.array(_config.first_window_index(cfg, width)), cfg)
    return _unbatch(out, cfg.batched), _unbatch(indices, cfg.batched)


def max_pool2d_reference(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                         return_indices=False):
    """Readable :func:`max_pool2d`: the first maximum over the in-bounds taps of each window.

    With NaNs in a window the values agree with torch, but the index is the first NaN's where
    torch (and :func:`max_pool2d`) report the last one.

    Examples
    --------
    >>> max_pool2d_reference(np.arange(9.0).reshape(1, 3, 3), 2, stride=1)
    array([[[4., 5.],
            [7., 8.]]])
    """
    cfg = _config.pool2d(_float_array("input", input).shape, kernel_size, stride, padding, dilation, ceil_mode)
    x = _batch(input, cfg.batched)
    height, width = x.shape[-2:]
    planes = x.reshape(*x.shape[:2], -1)  # (N, C, H*W)
    first = _config.first_window_index(cfg, width)
    out = np.full((*x.shape[:2], *cfg.out_hw), -np.inf, x.dtype)
    indices = np.zeros(out.shape, np.int64)
    for i in range(cfg.out_hw[0]):
        for j in range(cfg.out_hw[1]):
            rows = _taps_inside(i, height, cfg.kernel[0], cfg.stride[0], cfg.padding[0], cfg.dilation[0])
            cols = _taps_inside(j, width, cfg.kernel[1], cfg.stride[1], cfg.padding[1], cfg.dilation[1])
            if not rows or not cols:  # a window of padding only: torch keeps -inf and its start index
                indices[:, :, i, j] = first[i][j]
                continue
            flat = (np.array(rows)[:, None] * width + np.array(cols)).ravel()  # (taps,)
            window = planes[:, :, flat]  # (N, C, taps)
            best = np.argmax(window, axis=2)  # the first maximum, as torch
            indices[:, :, i, j] = flat[best]
            out[:, :, i, j] = np.take_along_axis(window, best[..., None], axis=2)[..., 0]
    out = _unbatch(out, cfg.batched)
    return (out, _unbatch(indices, cfg.batched)) if _args.as_bool("return_indices", return_indices) else out


def _taps_inside(o: int, size: int, kernel: int, stride: int, padding: int, dilation: int) -> list[int]:
    """Input positions, along one axis, of the taps of window ``o`` that fall inside the input."""
    taps = (o * stride - padding + dilation * u for u in range(kernel))
    return [t for t in taps if 0 <= t < size]


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    r"""2-D average pooling, as ``torch.nn.functional.avg_pool2d``.

    $$ y_{n,c,i,j} = \frac{1}{m_{ij}} \sum_{u < F_h,\, v < F_w} x_{n,c,\; S_h i + u - P_h,\; S_w j + v - P_w} $$

    with zero padding. $m_{ij}$ is ``divisor_override`` if given; else the number of taps of the
    window clipped to the padded input (``count_include_pad=True``) or to the input itself.

    Examples
    --------
    >>> avg_pool2d(np.arange(16.0).reshape(1, 4, 4), 2)
    array([[[ 2.5,  4.5],
            [10.5, 12.5]]])
    """
    cfg = _config.pool2d(_float_array("input", input).shape, kernel_size, stride, padding, 1, ceil_mode)
    divisor = np.array(_config.avg_divisors(cfg, input.shape[-2:], count_include_pad, divisor_override))
    sums = _numpy_fast.window_sums(_numpy_fast.pad(_batch(input, cfg.batched), cfg.pads), cfg)
    return _unbatch(sums / divisor.astype(input.dtype), cfg.batched)


def avg_pool2d_reference(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
                         divisor_override=None):
    """Readable :func:`avg_pool2d`: sum each window of the input, divide by its divisor.

    Examples
    --------
    >>> avg_pool2d_reference(np.ones((1, 2, 2)), 2, padding=1, count_include_pad=False)
    array([[[1., 1.],
            [1., 1.]]])
    """
    cfg = _config.pool2d(_float_array("input", input).shape, kernel_size, stride, padding, 1, ceil_mode)
    divisor = np.array(_config.avg_divisors(cfg, input.shape[-2:], count_include_pad, divisor_override))
    x = _batch(input, cfg.batched)
    out = np.zeros((*x.shape[:2], *cfg.out_hw), x.dtype)
    for i in range(cfg.out_hw[0]):
        for j in range(cfg.out_hw[1]):
            top, left = i * cfg.stride[0] - cfg.padding[0], j * cfg.stride[1] - cfg.padding[1]
            window = x[:, :, max(top, 0) : top + cfg.kernel[0], max(left, 0) : left + cfg.kernel[1]]
            out[:, :, i, j] = window.sum(axis=(2, 3)) / x.dtype.type(divisor[i, j])
    return _unbatch(out, cfg.batched)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    r"""Partial inverse of :func:`max_pool2d`: put each value back at its index, zeros elsewhere.

    $$ y_{n,c}[\,\mathrm{idx}_{n,c,i,j}\,] = x_{n,c,i,j} $$

    Default output size $(H - 1)\,S - 2P + F$ per dimension; ``output_size`` may pick another
    size strictly within ``stride`` of it.

    Examples
    --------
    >>> x = np.arange(16.0).reshape(1, 4, 4)
    >>> max_unpool2d(*max_pool2d(x, 2, return_indices=True), 2)[0, :2]
    array([[0., 0., 0., 0.],
           [0., 5., 0., 7.]])
    """
    _float_array("input", input)
    if not isinstance(indices, np.ndarray) or not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"indices={type(indices).__name__}: indices must be an integer numpy.ndarray")
    out_hw = _config.unpool2d(input.shape, indices.shape, kernel_size, stride, padding, output_size)
    plane = out_hw[0] * out_hw[1]
    if indices.size and (indices.min() < 0 or indices.max() >= plane):
        raise ValueError(
            f"indices: values must lie in [0, {plane}) for output_size={out_hw}, "
            f"got [{indices.min()}, {indices.max()}]"
        )
    batched = input.ndim == 4
    x, idx = _batch(input, batched), _batch(indices, batched)
    out = np.zeros((*x.shape[:2], plane), input.dtype)  # (N, C, Ho*Wo)
    np.put_along_axis(out, idx.reshape(*idx.shape[:2], -1), x.reshape(*x.shape[:2], -1), axis=2)
    return _unbatch(out.reshape(*x.shape[:2], *out_hw), batched)
