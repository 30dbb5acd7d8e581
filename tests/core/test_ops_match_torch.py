"""NumPy fast == NumPy reference == torch_ops == torch.nn.functional, and shapes == cnnqa.shapes."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from cnnqa_checks import as_tensors, assert_same, conv_cases, conv_transpose_cases, pool_cases, torch_conv2d
from hypothesis import assume, given
from hypothesis import strategies as st

from cnnqa import _args, numpy_ops, shapes, torch_ops

DTYPES = st.sampled_from([np.float64, np.float32])
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")


def expected_hw(size_hw, kernel, kwargs, fn):
    """Output (H, W) from cnnqa.shapes, one dimension at a time."""
    pairs = {k: _args.as_pair(k, v) if not isinstance(v, str) and v is not None else (v, v)
             for k, v in kwargs.items() if k not in ("groups", "padding_mode", "ceil_mode")}
    extra = {"ceil_mode": kwargs["ceil_mode"]} if "ceil_mode" in kwargs else {}
    return tuple(fn(size, k, **{name: p[i] for name, p in pairs.items()}, **extra)
                 for i, (size, k) in enumerate(zip(size_hw, kernel)))


@given(conv_cases(dtype=DTYPES))
def test_conv2d_all_four_agree(case):
    x, w, b, kwargs = case
    expected = torch_conv2d(x, w, b, **kwargs)
    assert_same(numpy_ops.conv2d(x, w, b, **kwargs), expected, "numpy fast")
    assert_same(numpy_ops.conv2d_reference(x, w, b, **kwargs), expected, "numpy reference")
    assert_same(torch_ops.conv2d(*as_tensors(x, w, b), **kwargs), expected, "torch_ops")
    hw_kwargs = {k: v for k, v in kwargs.items() if k in ("stride", "padding", "dilation")}
    assert expected.shape[-2:] == expected_hw(x.shape[-2:], w.shape[-2:], hw_kwargs, shapes.conv_output_size)


@given(conv_transpose_cases(dtype=DTYPES))
def test_conv_transpose2d_agrees(case):
    x, w, b, kwargs = case
    hw_kwargs = {k: v for k, v in kwargs.items() if k != "groups"}
    try:
        hw = expected_hw(x.shape[-2:], w.shape[-2:], hw_kwargs, shapes.conv_transpose_output_size)
    except ValueError:
        assume(False)
    expected = F.conv_transpose2d(*as_tensors(x, w, b), **kwargs)
    assert expected.shape[-2:] == hw
    assert_same(numpy_ops.conv_transpose2d(x, w, b, **kwargs), expected, "numpy")
    assert_same(torch_ops.conv_transpose2d(*as_tensors(x, w, b), **kwargs), expected, "torch_ops")


@given(pool_cases(dtype=DTYPES), st.booleans())
def test_max_pool2d_agrees(case, return_indices):
    x, kwargs = case
    expected = F.max_pool2d(torch.from_numpy(x), return_indices=return_indices, **kwargs)
    for name, fn in [("fast", numpy_ops.max_pool2d), ("reference", numpy_ops.max_pool2d_reference),
                     ("torch_ops", torch_ops.max_pool2d)]:
        arg = torch.from_numpy(x) if name == "torch_ops" else x
        actual = fn(arg, return_indices=return_indices, **kwargs)
        for a, e in zip(actual, expected) if return_indices else [(actual, expected)]:
            assert_same(a, e, name)
    values = expected[0] if return_indices else expected
    assert values.shape[-2:] == expected_hw(x.shape[-2:], _args.as_pair("k", kwargs["kernel_size"]),
                                            {k: v for k, v in kwargs.items() if k != "kernel_size"},
                                            shapes.pool_output_size)


@given(pool_cases(dtype=DTYPES, dilated=False), st.booleans(), st.sampled_from([None, 1, 3, -2]))
def test_avg_pool2d_agrees(case, count_include_pad, divisor_override):
    x, kwargs = case
    kwargs = dict(kwargs, count_include_pad=count_include_pad, divisor_override=divisor_override)
    expected = F.avg_pool2d(torch.from_numpy(x), **kwargs)
    assert_same(numpy_ops.avg_pool2d(x, **kwargs), expected, "fast")
    assert_same(numpy_ops.avg_pool2d_reference(x, **kwargs), expected, "reference")
    assert_same(torch_ops.avg_pool2d(torch.from_numpy(x), **kwargs), expected, "torch_ops")


@given(pool_cases(dilated=False), st.data())
def test_max_unpool2d_agrees(case, data):
    x, kwargs = case
    kwargs.pop("ceil_mode")
    values, indices = F.max_pool2d(torch.from_numpy(x), **kwargs, return_indices=True)
    unpool = dict(kwargs, stride=kwargs["stride"] or kwargs["kernel_size"])
    try:
        default = expected_hw(values.shape[-2:], _args.as_pair("k", kwargs["kernel_size"]),
                              {k: v for k, v in unpool.items() if k != "kernel_size"},
                              shapes.conv_transpose_output_size)
    except ValueError:
        assume(False)  # the pooling's inverse would be empty (padding as large as the input)
    if data.draw(st.booleans()):
        stride = _args.as_pair("stride", unpool["stride"])
        unpool["output_size"] = [data.draw(st.integers(max(d - s + 1, 1), d + s - 1)) for d, s in zip(default, stride)]
    try:
        expected = F.max_unpool2d(values, indices, **unpool)
    except RuntimeError:
        assume(False)  # an output_size too small for the recorded indices
    assert_same(numpy_ops.max_unpool2d(values.numpy(), indices.numpy(), **unpool), expected, "numpy")
    assert_same(torch_ops.max_unpool2d(values, indices, **unpool), expected, "torch_ops")


# Paths the small random cases do not reach: wide channels (row-stacked GEMMs), 1x1, channel
# multipliers, grouped dense, stems, depthwise convs over several blocks of channels.
PATH_CASES = {
    "rows-3x3-c64": ((2, 64, 7, 6), (5, 64, 3, 3), dict(padding=1)),
    "rows-dilated-c64": ((2, 64, 9, 8), (4, 64, 3, 2), dict(padding=(2, 1), dilation=(2, 3))),
    "rows-same-even-kernel": ((1, 64, 6, 7), (3, 64, 4, 2), dict(padding="same")),
    "stem-7x7-s2": ((2, 3, 23, 20), (8, 3, 7, 7), dict(stride=2, padding=3)),
    "1x1-strided": ((2, 8, 7, 9), (5, 8, 1, 1), dict(stride=(2, 3), padding=1)),
    "depthwise-multiplier": ((2, 4, 8, 8), (12, 1, 3, 3), dict(groups=4, stride=2, padding=1)),
    # stride 1: several cache-sized blocks of channels; uneven padding; rows and columns that fall off
    "depthwise-blocks-same-even-kernel": ((2, 48, 40, 37), (48, 1, 4, 2), dict(padding="same", dilation=(1, 3))),
    "depthwise-padding-past-the-kernel": ((3, 20, 30, 29), (40, 1, 3, 2), dict(padding=(4, 3))),
    "grouped-dense": ((2, 6, 8, 8), (4, 3, 3, 3), dict(groups=2, padding=1)),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize(("x_shape", "w_shape", "kwargs"), PATH_CASES.values(), ids=PATH_CASES.keys())
def test_conv2d_fast_paths(x_shape, w_shape, kwargs, dtype):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape).astype(dtype), rng.standard_normal(w_shape).astype(dtype)
    kwargs = dict(kwargs, groups=x_shape[1] // w_shape[1])
    expected = torch_conv2d(x, w, None, **kwargs)
    assert_same(numpy_ops.conv2d(x, w, **kwargs), expected, "fast")
    assert_same(numpy_ops.conv2d_reference(x, w, **kwargs), expected, "reference")


def _ties_and_minus_inf():
    x = np.full((1, 2, 4, 4), -np.inf)
    x[0, 1] = 1.0  # every window a tie
    return x, dict(kernel_size=2, stride=1, padding=1, dilation=3, ceil_mode=True)


EDGE_POOLS = {
    "ties-and-minus-inf": _ties_and_minus_inf(),
    "window-of-padding-only": (np.ones((1, 1, 1)), dict(kernel_size=(1, 2), padding=(0, 1), dilation=(1, 2))),
}


@pytest.mark.parametrize(("x", "kwargs"), EDGE_POOLS.values(), ids=EDGE_POOLS.keys())
def test_max_pool2d_edge_windows_follow_torch(x, kwargs):
    expected = F.max_pool2d(torch.from_numpy(x), return_indices=True, **kwargs)
    for fn, arg in [(numpy_ops.max_pool2d, x), (numpy_ops.max_pool2d_reference, x),
                    (torch_ops.max_pool2d, torch.from_numpy(x))]:
        for a, e in zip(fn(arg, return_indices=True, **kwargs), expected):
            assert_same(a, e, fn.__module__)
