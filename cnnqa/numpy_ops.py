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
    "avg_pool2d_backward",
    "avg_pool2d_backward_reference",
    "avg_pool2d_reference",
    "conv2d",
    "conv2d_input",
    "conv2d_input_reference",
    "conv2d_reference",
    "conv2d_weight",
    "conv2d_weight_reference",
    "conv_transpose2d",
    "max_pool2d",
    "max_pool2d_backward",
    "max_pool2d_backward_reference",
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


def _conv_config(input, weight, bias, stride, padding, dilation, groups, padding_mode):
    """Shared front of both conv2d versions: validate the call."""
    _conv_arrays(input, weight, bias)
    return _config.conv2d(input.shape, weight.shape, None if bias is None else bias.shape,
                          stride, padding, dilation, groups, padding_mode)


def _conv_padded(input, weight, bias, stride, padding, dilation, groups, padding_mode):
    """Validate, then batch and pad the input."""
    cfg = _conv_config(input, weight, bias, stride, padding, dilation, groups, padding_mode)
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
    cfg = _conv_config(input, weight, bias, stride, padding, dilation, groups, padding_mode)
    x, origin = _batch(input, cfg.batched), _numpy_fast.origin(cfg.pads)
    if cfg.padding_mode != "zeros":  # the fast path reads zeros outside the input; pad the others
        x, origin = _numpy_fast.pad(x, cfg.pads, cfg.padding_mode), (0, 0)
    out = _numpy_fast.conv2d(x, weight, cfg.groups, origin, cfg.stride, cfg.dilation, cfg.out_hw)
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
            rows = _config.taps_inside(i, height, cfg.kernel[0], cfg.stride[0], cfg.padding[0], cfg.dilation[0])
            cols = _config.taps_inside(j, width, cfg.kernel[1], cfg.stride[1], cfg.padding[1], cfg.dilation[1])
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


# --- Backward passes: the gradients of conv2d and pooling, as torch.nn.grad and autograd give them.


def _conv_backward_config(input_shape, weight_shape, grad_output, dtype, stride, padding, dilation, groups,
                          input_name="input"):
    """Validate a conv backward call against the forward conv it differentiates."""
    _args.same_dtype(dtype, "grad_output", _float_array("grad_output", grad_output).dtype)
    cfg = _config.conv2d(input_shape, weight_shape, None, stride, padding, dilation, groups, "zeros", input_name)
    _args.grad_output(grad_output.shape, _config.forward_shape(cfg, input_shape, cfg.out_channels))
    return cfg


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    r"""Gradient of :func:`conv2d` with respect to its input, as ``torch.nn.grad.conv2d_input``.

    The input gradient is a transposed convolution of the output gradient with the same weights:
    each output gradient scatters a weighted copy of the kernel back onto the input.

    $$ \frac{\partial L}{\partial \tilde x_{n,\,g(k) C/G + c,\; S_h i + D_h u,\; S_w j + D_w v}}
       \mathrel{+}= \frac{\partial L}{\partial y_{n,k,i,j}}\, w_{k,c,u,v} $$

    over all $k, i, j, u, v$; the gradient of the input is that of the padded input $\tilde x$
    with the padding cropped off. ``input_size`` is ``(N, C, H, W)`` or unbatched ``(C, H, W)``;
    unlike torch's, ``padding`` may be ``"same"`` or ``"valid"``, and a ``grad_output`` whose
    shape is not the forward output's (its batch included) is refused.

    Examples
    --------
    >>> conv2d_input((1, 1, 3, 3), np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)))[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    cfg, size = _conv_input_call(input_size, weight, grad_output, stride, padding, dilation, groups)
    grad = _numpy_fast.conv_input_grad(_batch(grad_output, cfg.batched), weight, cfg.groups, _numpy_fast.origin(cfg.pads),
                                       cfg.stride, cfg.dilation, tuple(size[-2:]))
    return _unbatch(grad, cfg.batched)


def _conv_input_call(input_size, weight, grad_output, stride, padding, dilation, groups):
    size = _args.size("input_size", input_size, (3, 4))
    _float_array("weight", weight)
    cfg = _conv_backward_config(size, weight.shape, grad_output, weight.dtype, stride, padding, dilation, groups,
                                "input_size")
    return cfg, size


def conv2d_input_reference(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """Readable :func:`conv2d_input`: scatter each output gradient back through its window.

    Examples
    --------
    >>> conv2d_input_reference((1, 3, 3), np.ones((1, 1, 2, 2)), np.ones((1, 2, 2)))[0, 1]
    array([2., 4., 2.])
    """
    cfg, size = _conv_input_call(input_size, weight, grad_output, stride, padding, dilation, groups)
    go = _batch(grad_output, cfg.batched)
    (top, bottom), (left, right) = cfg.pads
    (sh, sw), (dh, dw), (kh, kw) = cfg.stride, cfg.dilation, cfg.kernel
    span_h, span_w = shapes.effective_kernel_size(kh, dh), shapes.effective_kernel_size(kw, dw)
    n, c = go.shape[0], size[-3]
    grad = np.zeros((n, c, size[-2] + top + bottom, size[-1] + left + right), weight.dtype)
    c_group, o_group = c // cfg.groups, cfg.out_channels // cfg.groups
    for g in range(cfg.groups):
        w = weight[g * o_group : (g + 1) * o_group]  # (O/g, C/g, kh, kw)
        for i in range(cfg.out_hw[0]):
            for j in range(cfg.out_hw[1]):
                window = grad[:, g * c_group : (g + 1) * c_group, i * sh : i * sh + span_h : dh, j * sw : j * sw + span_w : dw]
                window += np.einsum("no,ochw->nchw", go[:, g * o_group : (g + 1) * o_group, i, j], w)
    return _unbatch(grad[:, :, top : top + size[-2], left : left + size[-1]], cfg.batched)


def _conv_weight_call(input, weight_size, grad_output, stride, padding, dilation, groups):
    _float_array("input", input)
    size = _args.size("weight_size", weight_size, (4,))
    cfg = _conv_backward_config(input.shape, size, grad_output, input.dtype, stride, padding, dilation, groups)
    return cfg, size, _batch(grad_output, cfg.batched)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    r"""Gradient of :func:`conv2d` with respect to its weight, as ``torch.nn.grad.conv2d_weight``.

    The weight gradient is a correlation of the (padded) input with the output gradient:
    each tap of the kernel sums, over the batch and every position, the input it saw times the
    gradient of the output it made.

    $$ \frac{\partial L}{\partial w_{k,c,u,v}} = \sum_{n,i,j} \frac{\partial L}{\partial y_{n,k,i,j}}\,
       \tilde x_{n,\,g(k) C/G + c,\; S_h i + D_h u,\; S_w j + D_w v} $$

    ``weight_size`` is ``(K, C/G, kH, kW)``. Unlike torch's, ``padding`` may be ``"same"`` or
    ``"valid"``, the input may be unbatched ``(C, H, W)``, and a ``grad_output`` whose shape is
    not the forward output's is refused.

    Examples
    --------
    >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
    >>> conv2d_weight(x, (1, 1, 2, 2), np.ones((1, 1, 2, 2)))[0, 0]
    array([[ 8., 12.],
           [20., 24.]])
    """
    cfg, size, go = _conv_weight_call(input, weight_size, grad_output, stride, padding, dilation, groups)
    return _numpy_fast.conv_weight_grad(_batch(input, cfg.batched), go, size, cfg.groups, _numpy_fast.origin(cfg.pads),
                                        cfg.stride, cfg.dilation)


def conv2d_weight_reference(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """Readable :func:`conv2d_weight`: add each output gradient times the window it came from.

    Examples
    --------
    >>> conv2d_weight_reference(np.ones((1, 3, 3)), (2, 1, 3, 3), np.ones((2, 1, 1)))[1, 0, 0]
    array([1., 1., 1.])
    """
    cfg, size, go = _conv_weight_call(input, weight_size, grad_output, stride, padding, dilation, groups)
    xp = _numpy_fast.pad(_batch(input, cfg.batched), cfg.pads)
    (sh, sw), (dh, dw), (kh, kw) = cfg.stride, cfg.dilation, cfg.kernel
    span_h, span_w = shapes.effective_kernel_size(kh, dh), shapes.effective_kernel_size(kw, dw)
    c_group, o_group = size[1], size[0] // cfg.groups
    grad = np.zeros(size, input.dtype)
    for g in range(cfg.groups):
        x = xp[:, g * c_group : (g + 1) * c_group]  # (N, C/g, Hp, Wp)
        for i in range(cfg.out_hw[0]):
            for j in range(cfg.out_hw[1]):
                window = x[:, :, i * sh : i * sh + span_h : dh, j * sw : j * sw + span_w : dw]
                grad[g * o_group : (g + 1) * o_group] += np.einsum("no,nchw->ochw", go[:, g * o_group : (g + 1) * o_group, i, j], window)
    return grad


def _pool_backward_call(grad_output, input, cfg):
    _args.same_dtype(input.dtype, "grad_output", _float_array("grad_output", grad_output).dtype)
    _args.grad_output(grad_output.shape, _config.forward_shape(cfg, input.shape, input.shape[-3]))
    return _batch(grad_output, cfg.batched)


def max_pool2d_backward(grad_output, input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    r"""Gradient of :func:`max_pool2d` with respect to its input, as autograd gives it.

    Each output gradient goes to the one input that won its window, the index
    :func:`max_pool2d` returns (the first maximum, as torch); an input that wins several
    windows collects them all, and every other input gets zero:

    $$ \frac{\partial L}{\partial x_{n,c,h,w}} = \sum_{i,j:\ \mathrm{idx}_{n,c,i,j} = hW + w}
       \frac{\partial L}{\partial y_{n,c,i,j}} $$

    A window lying wholly in the padding depends on no input: its gradient is dropped. (torch
    2.13's own backward sends it to an index past the plane: into the next channel's gradient,
    or past the end of the buffer.) The forward pass is recomputed.

    Examples
    --------
    >>> x = np.array([[[1.0, 3.0, 2.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]])
    >>> max_pool2d_backward(np.ones((1, 2, 2)), x, 2, stride=1)[0]  # 3 and the centre win twice
    array([[0., 2., 0.],
           [0., 2., 0.],
           [0., 0., 0.]])
    """
    cfg = _config.pool2d(_float_array("input", input).shape, kernel_size, stride, padding, dilation, ceil_mode)
    go = _pool_backward_call(grad_output, input, cfg)
    grad = _numpy_fast.max_pool_grad(_batch(input, cfg.batched), go, cfg)
    if grad is not None:
        return _unbatch(grad, cfg.batched)
    # a window's maximum is NaN or -inf: follow torch's indices
    _, indices = max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)
    indices, x = _batch(indices, cfg.batched), _batch(input, cfg.batched)
    n, c, height, width = x.shape
    keep = np.broadcast_to(np.array(_config.windows_with_input(cfg, (height, width))), go.shape)
    planes = np.arange(n * c).reshape(n, c, 1, 1) * (height * width)  # each (n, c) plane's offset
    grad = np.bincount((indices + planes)[keep], weights=go[keep], minlength=n * c * height * width)
    return _unbatch(grad.astype(input.dtype).reshape(x.shape), cfg.batched)


def max_pool2d_backward_reference(grad_output, input, kernel_size, stride=None, padding=0, dilation=1,
                                  ceil_mode=False):
    """Readable :func:`max_pool2d_backward`: find each window's winner, give it the gradient.

    The winner is :func:`max_pool2d_reference`'s index: in a window with NaNs, the first NaN
    (torch and :func:`max_pool2d_backward` pick the last).

    Examples
    --------
    >>> max_pool2d_backward_reference(np.ones((1, 1, 1)), np.array([[[1.0, 1.0]]]), (1, 2))[0]
    array([[1., 0.]])
    """
    cfg = _config.pool2d(_float_array("input", input).shape, kernel_size, stride, padding, dilation, ceil_mode)
    go = _pool_backward_call(grad_output, input, cfg)
    _, indices = max_pool2d_reference(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)
    indices, x = _batch(indices, cfg.batched), _batch(input, cfg.batched)
    grad = np.zeros((*x.shape[:2], x.shape[2] * x.shape[3]), input.dtype)
    keep = _config.windows_with_input(cfg, x.shape[-2:])
    for n, c, i, j in np.ndindex(*go.shape):
        if keep[i][j]:
            grad[n, c, indices[n, c, i, j]] += go[n, c, i, j]
    return _unbatch(grad.reshape(x.shape), cfg.batched)


def avg_pool2d_backward(grad_output, input, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True, divisor_override=None):
    r"""Gradient of :func:`avg_pool2d` with respect to its input, as autograd gives it.

    Each output gradient is shared out over its window, divided by the same divisor $m_{ij}$ as
    in the forward pass; the shares that fall on padding are dropped:

    $$ \frac{\partial L}{\partial x_{n,c,h,w}} = \sum_{i,j:\ (h, w) \in \mathcal{W}_{ij}}
       \frac{1}{m_{ij}} \frac{\partial L}{\partial y_{n,c,i,j}} $$

    Examples
    --------
    >>> avg_pool2d_backward(np.ones((1, 2, 2)), np.zeros((1, 2, 2)), 2, padding=1, count_include_pad=False)
    array([[[1., 1.],
            [1., 1.]]])
    """
    cfg = _config.pool2d(_float_array("input", input).shape, kernel_size, stride, padding, 1, ceil_mode)
    divisor = np.array(_config.avg_divisors(cfg, input.shape[-2:], count_include_pad, divisor_override))
    go = _pool_backward_call(grad_output, input, cfg)
    share = go / divisor.astype(input.dtype)  # (N, C, Ho, Wo)
    (top, bottom), (left, right) = cfg.pads
    height, width = input.shape[-2:]
    grad = np.zeros((*go.shape[:2], height + top + bottom, width + left + right), input.dtype)
    for u in range(cfg.kernel[0]):
        for v in range(cfg.kernel[1]):
            _numpy_fast.tap(grad, (u, v), cfg.stride, cfg.out_hw)[...] += share
    return _unbatch(grad[:, :, top : top + height, left : left + width], cfg.batched)


def avg_pool2d_backward_reference(grad_output, input, kernel_size, stride=None, padding=0, ceil_mode=False,
                                  count_include_pad=True, divisor_override=None):
    """Readable :func:`avg_pool2d_backward`: each window hands its share to the inputs it covers.

    Examples
    --------
    >>> avg_pool2d_backward_reference(np.ones((1, 1, 1)), np.zeros((1, 2, 2)), 2)
    array([[[0.25, 0.25],
            [0.25, 0.25]]])
    """
    cfg = _config.pool2d(_float_array("input", input).shape, kernel_size, stride, padding, 1, ceil_mode)
    divisor = _config.avg_divisors(cfg, input.shape[-2:], count_include_pad, divisor_override)
    go = _pool_backward_call(grad_output, input, cfg)
    grad = np.zeros((*go.shape[:2], *input.shape[-2:]), input.dtype)
    for i in range(cfg.out_hw[0]):
        for j in range(cfg.out_hw[1]):
            top, left = i * cfg.stride[0] - cfg.padding[0], j * cfg.stride[1] - cfg.padding[1]
            window = grad[:, :, max(top, 0) : top + cfg.kernel[0], max(left, 0) : left + cfg.kernel[1]]
            window += go[:, :, i, j, None, None] / input.dtype.type(divisor[i][j])
    return _unbatch(grad, cfg.batched)
