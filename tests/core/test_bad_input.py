"""Bad input: cnnqa raises ValueError/TypeError exactly where torch refuses, naming the parameter."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from cnnqa_checks import (
    as_tensors,
    assert_both_raise_or_agree,
    conv_cases,
    conv_transpose_cases,
    pool_cases,
    torch_conv2d,
)
from hypothesis import assume, given
from hypothesis import strategies as st

from cnnqa import _args, numpy_ops, shapes, torch_ops


@given(conv_cases(lo=0))
def test_conv2d_raises_where_torch_does(case):
    x, w, b, kwargs = case
    padding = kwargs["padding"]
    # documented deviation: nn.Conv2d crops on negative padding with a non-zero padding_mode
    # (F.pad crops); cnnqa refuses negative padding for every mode
    assume(kwargs["padding_mode"] == "zeros" or isinstance(padding, str) or min(_args.as_pair("p", padding)) >= 0)
    assert_both_raise_or_agree(lambda: numpy_ops.conv2d(x, w, b, **kwargs), lambda: torch_conv2d(x, w, b, **kwargs))
    assert_both_raise_or_agree(lambda: torch_ops.conv2d(*as_tensors(x, w, b), **kwargs),
                               lambda: torch_conv2d(x, w, b, **kwargs))


@given(conv_transpose_cases(lo=0))
def test_conv_transpose2d_raises_where_torch_does(case):
    x, w, b, kwargs = case
    expected = lambda: F.conv_transpose2d(*as_tensors(x, w, b), **kwargs)  # noqa: E731
    assert_both_raise_or_agree(lambda: numpy_ops.conv_transpose2d(x, w, b, **kwargs), expected)
    assert_both_raise_or_agree(lambda: torch_ops.conv_transpose2d(*as_tensors(x, w, b), **kwargs), expected)


@given(pool_cases(lo=0), st.sampled_from(["max_pool2d", "avg_pool2d"]))
def test_pools_raise_where_torch_does(case, op):
    x, kwargs = case
    if op == "avg_pool2d":
        kwargs.pop("dilation")
    expected = lambda: getattr(F, op)(torch.from_numpy(x), **kwargs)  # noqa: E731
    assert_both_raise_or_agree(lambda: getattr(numpy_ops, op)(x, **kwargs), expected)
    assert_both_raise_or_agree(lambda: getattr(torch_ops, op)(torch.from_numpy(x), **kwargs), expected)


X = np.ones((1, 4, 5, 5))
W = np.ones((2, 4, 3, 3))
# id: (op name, args, kwargs, text the message must contain)
BAD = {
    "stride-0": ("conv2d", (X, W), dict(stride=0), "stride=0"),
    "stride-pair-0": ("conv2d", (X, W), dict(stride=(0, 1)), "stride=(0, 1)"),
    "negative-padding": ("conv2d", (X, W), dict(padding=-1), "padding=-1"),
    "dilation-0": ("conv2d", (X, W), dict(dilation=0), "dilation=0"),
    "same-strided": ("conv2d", (X, W), dict(padding="same", stride=2), "'same'"),
    "bad-padding-string": ("conv2d", (X, W), dict(padding="full"), "padding='full'"),
    "groups-not-dividing": ("conv2d", (X, np.ones((2, 4, 3, 3))), dict(groups=3), "groups=3"),
    "groups-0": ("conv2d", (X, W), dict(groups=0), "groups=0"),
    "weight-rank-3": ("conv2d", (X, np.ones((2, 4, 3))), {}, "weight.shape=(2, 4, 3)"),
    "wrong-channels": ("conv2d", (X, np.ones((2, 3, 3, 3))), {}, "input.shape=(1, 4, 5, 5)"),
    "bias-shape": ("conv2d", (X, W, np.ones(3)), {}, "bias.shape=(3,)"),
    "input-rank-2": ("conv2d", (np.ones((5, 5)), W), {}, "input.shape=(5, 5)"),
    "input-too-small": ("conv2d", (np.ones((1, 4, 2, 2)), W), {}, "size=2"),
    "reflect-padding-too-big": ("conv2d", (np.ones((1, 4, 3, 3)), W), dict(padding=3, padding_mode="reflect"),
                                "padding=3"),
    "output-padding-too-big": ("conv_transpose2d", (X, np.ones((4, 2, 3, 3))), dict(stride=2, output_padding=2),
                               "output_padding=2"),
    "pool-padding-over-half": ("max_pool2d", (X, 3), dict(padding=2), "padding=2"),
    "pool-stride-0": ("avg_pool2d", (X, 2), dict(stride=0), "stride=0"),
    "pool-kernel-0": ("max_pool2d", (X, 0), {}, "kernel_size=0"),
    "pool-too-small": ("max_pool2d", (np.ones((1, 1, 2, 2)), 3), {}, "size=2"),
    "divisor-0": ("avg_pool2d", (X, 2), dict(divisor_override=0), "divisor_override=0"),
    "unpool-output-size": ("max_unpool2d", (np.ones((1, 1, 2, 2)), np.zeros((1, 1, 2, 2), np.int64), 2),
                           dict(output_size=(9, 9)), "output_size=(9, 9)"),
    "unpool-indices-shape": ("max_unpool2d", (np.ones((1, 1, 2, 2)), np.zeros((1, 1, 2, 1), np.int64), 2), {},
                             "indices.shape=(1, 1, 2, 1)"),
    "unpool-output-size-length": ("max_unpool2d", (np.ones((1, 1, 2, 2)), np.zeros((1, 1, 2, 2), np.int64), 2),
                                  dict(output_size=(4,)), "output_size=(4,)"),
    "unpool-output-size-3d": ("max_unpool2d", (np.ones((1, 2, 2)), np.zeros((1, 2, 2), np.int64), 2),
                              dict(output_size=(1, 4, 4)), "output_size=(1, 4, 4)"),
    "unpool-index-range": ("max_unpool2d", (np.ones((1, 1, 2, 2)), np.full((1, 1, 2, 2), 16), 2), {},
                           "indices"),
}


def to_torch(value):
    return torch.from_numpy(value) if isinstance(value, np.ndarray) else value


@pytest.mark.parametrize(("op", "args", "kwargs", "text"), BAD.values(), ids=BAD.keys())
def test_bad_input_raises_with_a_message_naming_the_parameter(op, args, kwargs, text):
    with pytest.raises(Exception):  # noqa: B017, PT011 - torch's exception types vary
        getattr(F, op)(*map(to_torch, args), **kwargs)
    for module, convert in [(numpy_ops, lambda a: a), (torch_ops, to_torch)]:
        with pytest.raises((ValueError, TypeError)) as error:
            getattr(module, op)(*map(convert, args), **kwargs)
        assert text in str(error.value), f"{module.__name__}.{op}: {error.value}"


TYPE_ERRORS = {
    "float-stride": ("conv2d", (X, W), dict(stride=1.5), "stride=1.5"),
    "bool-stride": ("conv2d", (X, W), dict(stride=True), "stride=True"),
    "integer-input": ("conv2d", (np.ones((1, 4, 5, 5), np.int64), W), {}, "input.dtype=int64"),
    "mixed-dtypes": ("conv2d", (X, W.astype(np.float32)), {}, "weight.dtype=float32"),
    "list-input": ("max_pool2d", ([[[1.0]]], 1), {}, "input=list"),
    "float-indices": ("max_unpool2d", (np.ones((1, 1, 1)), np.zeros((1, 1, 1)), 2), {}, "indices"),
    "ceil-mode-not-bool": ("max_pool2d", (X, 2), dict(ceil_mode="yes"), "ceil_mode='yes'"),
}


@pytest.mark.parametrize(("op", "args", "kwargs", "text"), TYPE_ERRORS.values(), ids=TYPE_ERRORS.keys())
def test_wrong_types_raise_type_error(op, args, kwargs, text):
    with pytest.raises(TypeError) as error:
        getattr(numpy_ops, op)(*args, **kwargs)
    assert text in str(error.value)


# torch's counterparts live in nn.Conv2d or refuse before any check: cnnqa's own errors.
OWN_ERRORS = {
    "padding-mode": ("conv2d", (X, W), dict(padding_mode="mirror"), ValueError, "padding_mode='mirror'"),
    "empty-input": ("avg_pool2d", (np.ones((1, 0, 3)), 1), {}, ValueError, "input.shape=(1, 0, 3)"),
    "not-an-array": ("conv2d", ([[[[1.0]]]], W), {}, TypeError, "input=list"),
}


@pytest.mark.parametrize(("op", "args", "kwargs", "error", "text"), OWN_ERRORS.values(), ids=OWN_ERRORS.keys())
def test_own_errors_in_both_modules(op, args, kwargs, error, text):
    for module, convert in [(numpy_ops, lambda a: a), (torch_ops, to_torch)]:
        with pytest.raises(error) as raised:
            getattr(module, op)(*map(convert, args), **kwargs)
        assert text in str(raised.value), f"{module.__name__}.{op}: {raised.value}"


def test_torch_ops_refuses_float_indices():
    with pytest.raises(TypeError, match="indices"):
        torch_ops.max_unpool2d(torch.ones(1, 1, 1), torch.zeros(1, 1, 1), 2)


SHAPE_ERRORS = {
    "same-strided": (shapes.conv_padding, (3, "same", 2), {}),
    "negative-padding": (shapes.conv_padding, (3, -1), {}),
    "float-kernel": (shapes.receptive_field, ([(2.5, 1)],), {}),
    "conv-stride-0": (shapes.conv_output_size, (5, 3), dict(stride=0)),
    "conv-too-small": (shapes.conv_output_size, (2, 3), {}),
    "pool-padding": (shapes.pool_output_size, (5, 2), dict(padding=2)),
    "transpose-output-padding": (shapes.conv_transpose_output_size, (5, 3), dict(stride=2, output_padding=2)),
    "transpose-empty": (shapes.conv_transpose_output_size, (1, 1), dict(padding=1)),
    "params-groups": (shapes.conv2d_num_params, (4, 6, 3), dict(groups=4)),
    "receptive-field-layer": (shapes.receptive_field, ([(3,)],), {}),
    "effective-kernel-0": (shapes.effective_kernel_size, (0,), {}),
}


@pytest.mark.parametrize(("fn", "args", "kwargs"), SHAPE_ERRORS.values(), ids=SHAPE_ERRORS.keys())
def test_shapes_refuse_bad_arguments(fn, args, kwargs):
    with pytest.raises((ValueError, TypeError)):
        fn(*args, **kwargs)
