"""Shared test helpers: one cross-check (shape, dtype, values), one both-raise check, strategies."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import assume
from hypothesis import strategies as st

from cnnqa import shapes

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def assert_same(actual, expected, what: str = "") -> None:
    """Same shape, same dtype, same values: float64 to 1e-10, float32 to a relative 1e-5.

    The float32 tolerance is relative to the largest expected magnitude, since a conv output
    near zero is a difference of large terms.
    """
    actual = actual.detach().numpy() if isinstance(actual, torch.Tensor) else np.asarray(actual)
    expected = expected.detach().numpy() if isinstance(expected, torch.Tensor) else np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    assert actual.dtype == expected.dtype, f"{what}: dtype {actual.dtype} != {expected.dtype}"
    if np.issubdtype(expected.dtype, np.integer):
        np.testing.assert_array_equal(actual, expected, err_msg=what)
        return
    tol = 1e-10 if expected.dtype == np.float64 else 1e-5
    scale = max(1.0, float(np.abs(expected[np.isfinite(expected)]).max(initial=0.0)))
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol * scale, err_msg=what)


def outcome(call):
    """Run ``call``; return ``("ok", result)`` or ``("raised", exception)``."""
    try:
        return "ok", call()
    except Exception as error:  # noqa: BLE001 - torch raises RuntimeError, IndexError, ...
        return "raised", error


def assert_both_raise_or_agree(cnnqa_call, torch_call, what: str = ""):
    """cnnqa raises ValueError/TypeError exactly where torch raises; otherwise results agree."""
    torch_status, torch_result = outcome(torch_call)
    status, result = outcome(cnnqa_call)
    if torch_status == "raised":
        assert status == "raised", f"{what}: torch raised {torch_result!r}, cnnqa returned"
        assert isinstance(result, (ValueError, TypeError)), f"{what}: cnnqa raised {result!r}"
        return result
    assert status == "ok", f"{what}: torch accepted it, cnnqa raised {result!r}"
    if isinstance(torch_result, tuple):
        for a, b in zip(result, torch_result):
            assert_same(a, b, what)
    else:
        assert_same(result, torch_result, what)
    return None


def as_tensors(*arrays):
    return [None if a is None else torch.from_numpy(a) for a in arrays]


def torch_conv2d(x, w, b, padding_mode="zeros", **kwargs):
    """The trusted reference: F.conv2d, or nn.Conv2d for the non-zero padding modes."""
    xt, wt, bt = as_tensors(x, w, b)
    if padding_mode == "zeros":
        return F.conv2d(xt, wt, bt, **kwargs)
    layer = torch.nn.Conv2d(w.shape[1] * kwargs["groups"], w.shape[0], w.shape[2:], bias=b is not None,
                            padding_mode=padding_mode, **kwargs).to(wt.dtype)
    with torch.no_grad():
        layer.weight.copy_(wt)
        if b is not None:
            layer.bias.copy_(bt)
        return layer(xt)


def maybe_int(draw, pair):
    """Pass a pair as an int when both entries agree, half of the time."""
    return pair[0] if pair[0] == pair[1] and draw(st.booleans()) else pair


def pair(lo, hi):
    return st.tuples(st.integers(lo, hi), st.integers(lo, hi))


def arrays(draw, batch, channels, hw, dtype):
    """A seeded standard-normal array, (N, C, H, W) or unbatched (C, H, W) when ``batch`` is None."""
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    shape = (channels, *hw) if batch is None else (batch, channels, *hw)
    return rng.standard_normal(shape).astype(dtype)


def grouped_channels(draw):
    """groups, in_channels, out_channels: both channel counts multiples of groups."""
    groups = draw(st.integers(1, 3))
    return groups, groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))


@st.composite
def conv_cases(draw, dtype=st.just(np.float64), lo=1):
    """A valid conv2d call: (input, weight, bias, kwargs); ``lo=0`` admits invalid values too."""
    lo, dtype = draw(st.integers(lo, 1)), draw(dtype)  # with lo=0, half the cases are valid ones
    groups, c_in, c_out = grouped_channels(draw)
    kernel = draw(pair(1, 3))
    stride, dilation = draw(pair(lo, 3)), draw(pair(lo, 2))
    mode = draw(st.sampled_from(PADDING_MODES))
    padding = draw(st.one_of(pair(lo - 1, 2), st.sampled_from(["valid", "same"])))
    assume(padding != "same" or stride == (1, 1))
    hw = []
    for k, d, p in zip(kernel, dilation, padding if not isinstance(padding, str) else (0, 0)):
        need = shapes.effective_kernel_size(k, max(d, 1)) - 2 * max(p, 0)
        low = max(1, need, p + 1 if mode != "zeros" else 1)
        hw.append(draw(st.integers(max(1, low - 2 * (1 - lo)), low + 4)))
    x = arrays(draw, draw(st.sampled_from([None, 1, 2])), c_in, hw, dtype)
    w = arrays(draw, c_out, c_in // groups, kernel, dtype)
    b = arrays(draw, None, c_out, (), dtype) if draw(st.booleans()) else None
    if lo < 1 and draw(st.booleans()):  # channels not divisible by groups
        groups = draw(st.integers(1, 4))
    kwargs = dict(stride=maybe_int(draw, stride), padding=padding if isinstance(padding, str) else maybe_int(draw, padding),
                  dilation=maybe_int(draw, dilation), groups=groups, padding_mode=mode)
    return x, w, b, kwargs


@st.composite
def pool_cases(draw, dtype=st.just(np.float64), lo=1, dilated=True):
    """A pooling call (input, kwargs); ``lo=0`` admits invalid values too."""
    lo, dtype = draw(st.integers(lo, 1)), draw(dtype)  # with lo=0, half the cases are valid ones
    kernel = draw(pair(1, 3))
    stride = draw(st.one_of(st.none(), pair(lo, 3)))
    padding = draw(st.tuples(*(st.integers(lo - 1, k // 2 + 1 - lo) for k in kernel)))
    dilation = draw(pair(lo, 2)) if dilated else (1, 1)
    hw = [
        draw(st.integers(max(1, shapes.effective_kernel_size(k, max(d, 1)) - 2 * max(p, 0) - 1 + lo), 9))
        for k, d, p in zip(kernel, dilation, padding)
    ]
    x = arrays(draw, draw(st.sampled_from([None, 1, 2])), draw(st.integers(1, 3)), hw, dtype)
    kwargs = dict(kernel_size=maybe_int(draw, kernel), stride=stride if stride is None else maybe_int(draw, stride),
                  padding=maybe_int(draw, padding), ceil_mode=draw(st.booleans()))
    if dilated:
        kwargs["dilation"] = maybe_int(draw, dilation)
    return x, kwargs


@st.composite
def conv_transpose_cases(draw, dtype=st.just(np.float64), lo=1):
    """A conv_transpose2d call (input, weight, bias, kwargs); ``lo=0`` admits invalid values too."""
    lo, dtype = draw(st.integers(lo, 1)), draw(dtype)  # with lo=0, half the cases are valid ones
    groups, c_in, c_out = grouped_channels(draw)
    kernel, stride, dilation = draw(pair(1, 3)), draw(pair(lo, 3)), draw(pair(lo, 2))
    padding = draw(pair(lo - 1, 2))
    output_padding = tuple(draw(st.integers(lo - 1, max(s, d) - lo)) for s, d in zip(stride, dilation))
    x = arrays(draw, draw(st.sampled_from([None, 1, 2])), c_in, draw(pair(1, 5)), dtype)
    w = arrays(draw, c_in, c_out // groups, kernel, dtype)
    b = arrays(draw, None, c_out, (), dtype) if draw(st.booleans()) else None
    kwargs = dict(stride=maybe_int(draw, stride), padding=maybe_int(draw, padding),
                  output_padding=maybe_int(draw, output_padding), groups=groups, dilation=maybe_int(draw, dilation))
    return x, w, b, kwargs
