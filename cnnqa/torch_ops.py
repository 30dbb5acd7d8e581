r"""The ops of :mod:`cnnqa.numpy_ops`, built from torch tensor primitives.

Built from ``F.pad``, ``F.unfold``/``F.fold``, ``Tensor.unfold``, ``matmul``, reductions and
indexing (``gather``, ``scatter_``, ``where``): none of the ``torch.nn.functional`` ops
re-implemented here is called (they are what the tests compare against). Takes and returns
``torch.Tensor``; validation is shared with the NumPy ops.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from cnnqa import _args, _config, shapes

__all__ = [
    "avg_pool2d",
    "avg_pool2d_backward",
    "conv2d",
    "conv2d_input",
    "conv2d_weight",
    "conv_transpose2d",
    "max_pool2d",
    "max_pool2d_backward",
    "max_unpool2d",
]

_TORCH_PAD_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def _float_tensor(name: str, value) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name}={type(value).__name__}: {name} must be a torch.Tensor")
    _args.floating(name, value.dtype, value.is_floating_point())
    return value


def _conv_tensors(input, weight, bias) -> None:
    _float_tensor("input", input)
    _args.same_dtype(input.dtype, "weight", _float_tensor("weight", weight).dtype)
    if bias is not None:
        _args.same_dtype(input.dtype, "bias", _float_tensor("bias", bias).dtype)


def _pad(x: torch.Tensor, pads, mode: str = "zeros", value: float = 0.0) -> torch.Tensor:
    """Pad (N, C, H, W) by ``((top, bottom), (left, right))`` (F.pad wants left, right, top, bottom)."""
    (top, bottom), (left, right) = pads
    if mode == "zeros":
        return F.pad(x, (left, right, top, bottom), value=value)
    return F.pad(x, (left, right, top, bottom), mode=_TORCH_PAD_MODES[mode])


def _batch(x: torch.Tensor, batched: bool) -> torch.Tensor:
    return x if batched else x.unsqueeze(0)  # (N, C, H, W)


def _finish(out: torch.Tensor, bias, batched: bool) -> torch.Tensor:
    if bias is not None:
        out = out + bias[:, None, None]
    return out if batched else out[0]


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros"):
    """:func:`cnnqa.numpy_ops.conv2d` in torch: ``F.unfold`` (im2col) and a grouped matmul.

    Examples
    --------
    >>> conv2d(torch.ones(1, 4, 4), torch.ones(2, 1, 3, 3), padding="same").shape
    torch.Size([2, 4, 4])
    """
    _conv_tensors(input, weight, bias)
    cfg = _config.conv2d(tuple(input.shape), tuple(weight.shape), None if bias is None else tuple(bias.shape),
                         stride, padding, dilation, groups, padding_mode)
    x = _pad(_batch(input, cfg.batched), cfg.pads, cfg.padding_mode)  # (N, C, Hp, Wp)
    cols = F.unfold(x, cfg.kernel, dilation=cfg.dilation, stride=cfg.stride)  # (N, C*kh*kw, L)
    n, g = x.shape[0], cfg.groups
    cols = cols.reshape(n, g, -1, cols.shape[-1])  # (N, g, C/g*kh*kw, L)
    w = weight.reshape(g, cfg.out_channels // g, -1)  # (g, O/g, C/g*kh*kw)
    out = torch.matmul(w, cols).reshape(n, cfg.out_channels, *cfg.out_hw)  # (N, O, Ho, Wo)
    return _finish(out, bias, cfg.batched)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """:func:`cnnqa.numpy_ops.conv_transpose2d` in torch: a grouped matmul to columns, ``F.fold``, crop.

    Examples
    --------
    >>> conv_transpose2d(torch.ones(1, 1, 3, 3), torch.ones(1, 2, 3, 3), stride=2, padding=1).shape
    torch.Size([1, 2, 5, 5])
    """
    _conv_tensors(input, weight, bias)
    cfg = _config.conv_transpose2d(tuple(input.shape), tuple(weight.shape),
                                   None if bias is None else tuple(bias.shape),
                                   stride, padding, output_padding, groups, dilation)
    x = _batch(input, cfg.batched)
    n, c, h, w = x.shape
    g = cfg.groups
    weights = weight.reshape(g, c // g, -1).transpose(1, 2)  # (g, O/g*kh*kw, C/g)
    cols = torch.matmul(weights, x.reshape(n, g, c // g, h * w))  # (N, g, O/g*kh*kw, H*W)
    full_hw = tuple(
        shapes.conv_transpose_output_size(size, k, s, 0, 0, d)
        for size, k, s, d in zip((h, w), cfg.kernel, cfg.stride, cfg.dilation)
    )
    out = F.fold(cols.reshape(n, -1, h * w), full_hw, cfg.kernel, dilation=cfg.dilation, stride=cfg.stride)
    (eh, ew), ((ph, _), (pw, _)), (ho, wo) = cfg.output_padding, cfg.pads, cfg.out_hw
    out = F.pad(out, (0, ew, 0, eh))[:, :, ph : ph + ho, pw : pw + wo]  # (N, O, Ho, Wo)
    return _finish(out, bias, cfg.batched)


def _windows(x: torch.Tensor, cfg) -> torch.Tensor:
    """Pooling windows of a padded (N, C, Hp, Wp) batch as (N, C, Ho, Wo, kh*kw)."""
    spans = [shapes.effective_kernel_size(k, d) for k, d in zip(cfg.kernel, cfg.dilation)]
    win = x.unfold(2, spans[0], cfg.stride[0]).unfold(3, spans[1], cfg.stride[1])  # (N, C, Ho', Wo', sh, sw)
    win = win[:, :, : cfg.out_hw[0], : cfg.out_hw[1], :: cfg.dilation[0], :: cfg.dilation[1]]
    return win.reshape(*win.shape[:4], -1)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """:func:`cnnqa.numpy_ops.max_pool2d` in torch: ``Tensor.unfold`` windows and ``max``.

    With NaNs in a window, the index is the first NaN's (``F.max_pool2d`` gives the last one's).

    Examples
    --------
    >>> max_pool2d(torch.arange(16.0).reshape(1, 4, 4), 2)
    tensor([[[ 5.,  7.],
             [13., 15.]]])
    """
    cfg = _config.pool2d(tuple(_float_tensor("input", input).shape), kernel_size, stride, padding, dilation, ceil_mode)
    x = _pad(_batch(input, cfg.batched), cfg.pads, value=float("-inf"))
    out, best = _windows(x, cfg).max(dim=-1)  # (N, C, Ho, Wo)
    if not _args.as_bool("return_indices", return_indices):
        return out if cfg.batched else out[0]
    height, width = input.shape[-2:]
    flat = torch.arange(height * width).reshape(1, 1, height, width)
    flat = _windows(_pad(flat, cfg.pads, value=-1), cfg).expand(*x.shape[:2], -1, -1, -1)
    indices = flat.gather(-1, best[..., None])[..., 0]
    first = torch.tensor(_config.first_window_index(cfg, width)).expand_as(indices)
    indices = torch.where((indices < 0) | (out == float("-inf")), first, indices)
    return (out, indices) if cfg.batched else (out[0], indices[0])


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """:func:`cnnqa.numpy_ops.avg_pool2d` in torch: window sums over the divisors.

    Examples
    --------
    >>> avg_pool2d(torch.arange(16.0).reshape(1, 4, 4), 2)
    tensor([[[ 2.5000,  4.5000],
             [10.5000, 12.5000]]])
    """
    cfg = _config.pool2d(tuple(_float_tensor("input", input).shape), kernel_size, stride, padding, 1, ceil_mode)
    divisor = torch.tensor(_config.avg_divisors(cfg, input.shape[-2:], count_include_pad, divisor_override),
                           dtype=input.dtype)
    x = _pad(_batch(input, cfg.batched), cfg.pads)
    out = _windows(x, cfg).sum(dim=-1) / divisor
    return out if cfg.batched else out[0]


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """:func:`cnnqa.numpy_ops.max_unpool2d` in torch: ``scatter`` into a zero plane.

    Examples
    --------
    >>> max_unpool2d(torch.ones(1, 1, 1), torch.tensor([[[3]]]), 2)
    tensor([[[0., 0.],
             [0., 1.]]])
    """
    _float_tensor("input", input)
    if not isinstance(indices, torch.Tensor) or indices.is_floating_point() or indices.is_complex():
        raise TypeError(f"indices={type(indices).__name__}: indices must be an integer torch.Tensor")
    out_hw = _config.unpool2d(tuple(input.shape), tuple(indices.shape), kernel_size, stride, padding, output_size)
    plane = out_hw[0] * out_hw[1]
    if indices.numel() and (indices.min() < 0 or indices.max() >= plane):
        raise ValueError(f"indices: values must lie in [0, {plane}) for output_size={out_hw}")
    batched = input.dim() == 4
    x, idx = _batch(input, batched), _batch(indices, batched).long()
    out = torch.zeros(*x.shape[:2], plane, dtype=input.dtype)
    out.scatter_(2, idx.reshape(*idx.shape[:2], -1), x.reshape(*x.shape[:2], -1))
    out = out.reshape(*x.shape[:2], *out_hw)  # (N, C, Ho, Wo)
    return out if batched else out[0]


# --- Backward passes, from the same primitives (never from autograd of the op they differentiate).


def _conv_backward_config(input_shape, weight_shape, grad_output, dtype, stride, padding, dilation, groups,
                          input_name="input"):
    _args.same_dtype(dtype, "grad_output", _float_tensor("grad_output", grad_output).dtype)
    cfg = _config.conv2d(input_shape, weight_shape, None, stride, padding, dilation, groups, "zeros", input_name)
    _args.grad_output(tuple(grad_output.shape), _config.forward_shape(cfg, input_shape, cfg.out_channels))
    return cfg


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """:func:`cnnqa.numpy_ops.conv2d_input` in torch: a grouped matmul to columns, ``F.fold``, crop.

    Examples
    --------
    >>> conv2d_input((1, 3, 3), torch.ones(1, 1, 2, 2), torch.ones(1, 2, 2))[0, 1]
    tensor([2., 4., 2.])
    """
    size = _args.size("input_size", input_size, (3, 4))
    cfg = _conv_backward_config(size, tuple(_float_tensor("weight", weight).shape), grad_output, weight.dtype,
                                stride, padding, dilation, groups, "input_size")
    go = _batch(grad_output, cfg.batched)  # (N, K, Ho, Wo)
    n, g, k = go.shape[0], cfg.groups, cfg.out_channels
    w = weight.reshape(g, k // g, -1).transpose(1, 2)  # (g, C/g*kh*kw, K/g)
    cols = torch.matmul(w, go.reshape(n, g, k // g, -1))  # (N, g, C/g*kh*kw, L)
    (top, bottom), (left, right) = cfg.pads
    padded_hw = (size[-2] + top + bottom, size[-1] + left + right)
    grad = F.fold(cols.reshape(n, -1, cols.shape[-1]), padded_hw, cfg.kernel, dilation=cfg.dilation, stride=cfg.stride)
    grad = grad[:, :, top : top + size[-2], left : left + size[-1]]  # (N, C, H, W)
    return grad if cfg.batched else grad[0]


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """:func:`cnnqa.numpy_ops.conv2d_weight` in torch: ``F.unfold`` (im2col) and a grouped matmul.

    Examples
    --------
    >>> conv2d_weight(torch.arange(9.0).reshape(1, 3, 3), (1, 1, 2, 2), torch.ones(1, 2, 2))[0, 0]
    tensor([[ 8., 12.],
            [20., 24.]])
    """
    size = _args.size("weight_size", weight_size, (4,))
    cfg = _conv_backward_config(tuple(_float_tensor("input", input).shape), size, grad_output, input.dtype,
                                stride, padding, dilation, groups)
    x = _pad(_batch(input, cfg.batched), cfg.pads)  # (N, C, Hp, Wp)
    cols = F.unfold(x, cfg.kernel, dilation=cfg.dilation, stride=cfg.stride)  # (N, C*kh*kw, L)
    n, g = x.shape[0], cfg.groups
    seen = cols.reshape(n, g, -1, cols.shape[-1])  # (N, g, C/g*kh*kw, L)
    gy = _batch(grad_output, cfg.batched).reshape(n, g, size[0] // g, -1)  # (N, g, K/g, L)
    return torch.einsum("ngol,ngcl->goc", gy, seen).reshape(size)


def _pool_backward_call(grad_output, input, cfg) -> torch.Tensor:
    _args.same_dtype(input.dtype, "grad_output", _float_tensor("grad_output", grad_output).dtype)
    _args.grad_output(tuple(grad_output.shape), _config.forward_shape(cfg, tuple(input.shape), input.shape[-3]))
    return _batch(grad_output, cfg.batched)


def max_pool2d_backward(grad_output, input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """:func:`cnnqa.numpy_ops.max_pool2d_backward` in torch: the forward's indices and ``index_add_``.

    Examples
    --------
    >>> max_pool2d_backward(torch.ones(1, 1, 1), torch.tensor([[[1.0, 1.0]]]), (1, 2))
    tensor([[[1., 0.]]])
    """
    cfg = _config.pool2d(tuple(_float_tensor("input", input).shape), kernel_size, stride, padding, dilation, ceil_mode)
    go = _pool_backward_call(grad_output, input, cfg)
    _, indices = max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)
    indices = _batch(indices, cfg.batched)
    n, c, height, width = go.shape[0], go.shape[1], *input.shape[-2:]
    keep = torch.tensor(_config.windows_with_input(cfg, (height, width))).expand_as(go)  # windows with an input tap
    planes = torch.arange(n * c).reshape(n, c, 1, 1) * (height * width)
    grad = torch.zeros(n * c * height * width, dtype=input.dtype).index_add_(0, (indices + planes)[keep], go[keep])
    grad = grad.reshape(n, c, height, width)
    return grad if cfg.batched else grad[0]


def avg_pool2d_backward(grad_output, input, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True, divisor_override=None):
    """:func:`cnnqa.numpy_ops.avg_pool2d_backward` in torch: each window's share, ``F.fold``, crop.

    Examples
    --------
    >>> avg_pool2d_backward(torch.ones(1, 1, 1), torch.zeros(1, 2, 2), 2)
    tensor([[[0.2500, 0.2500],
             [0.2500, 0.2500]]])
    """
    cfg = _config.pool2d(tuple(_float_tensor("input", input).shape), kernel_size, stride, padding, 1, ceil_mode)
    divisor = torch.tensor(_config.avg_divisors(cfg, input.shape[-2:], count_include_pad, divisor_override),
                           dtype=input.dtype)
    go = _pool_backward_call(grad_output, input, cfg)
    n, c = go.shape[:2]
    share = (go / divisor).reshape(n * c, 1, -1)  # (N*C, 1, L)
    (top, bottom), (left, right) = cfg.pads
    height, width = input.shape[-2:]
    taps = cfg.kernel[0] * cfg.kernel[1]
    grad = F.fold(share.expand(-1, taps, -1), (height + top + bottom, width + left + right), cfg.kernel,
                  stride=cfg.stride)  # (N*C, 1, Hp, Wp)
    grad = grad.reshape(n, c, *grad.shape[-2:])[:, :, top : top + height, left : left + width]
    return grad if cfg.batched else grad[0]
