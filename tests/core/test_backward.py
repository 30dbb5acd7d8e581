"""The backward passes equal torch.autograd: numpy fast == numpy reference == torch_ops == autograd.

Every case draws a forward call, runs it through autograd with a random output gradient, and asks
cnnqa's four versions for the same gradient; where torch refuses the forward call, cnnqa refuses
the backward one (ValueError or TypeError).
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from cnnqa_checks import assert_same, conv_cases, outcome, pool_cases
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnnqa import _config, _numpy_fast, numpy_ops, torch_ops

DTYPES = st.sampled_from([np.float64, np.float32])
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")


def autograd(forward, *arrays, seed=0):
    """``(g, grads)``: the gradients of ``(forward(*arrays) * g).sum()`` for a random ``g``.

    None if torch refuses the forward call.
    """
    tensors = [torch.from_numpy(a).requires_grad_() for a in arrays]
    status, out = outcome(lambda: forward(*tensors))
    if status == "raised":
        return None
    out = out[0] if isinstance(out, tuple) else out
    g = torch.from_numpy(np.random.default_rng(seed).standard_normal(tuple(out.shape)).astype(arrays[0].dtype))
    out.backward(g)
    return g.numpy(), [t.grad.numpy() for t in tensors]


@settings(max_examples=150)
@given(conv_cases(dtype=DTYPES, lo=0))
def test_conv2d_input_and_weight_match_autograd(case):
    x, w, _, kwargs = case
    kwargs.pop("padding_mode")
    result = autograd(lambda xt, wt: F.conv2d(xt, wt, **kwargs), x, w)
    if result is None:  # torch refuses the forward call: cnnqa refuses the backward one
        g = np.zeros((1,), x.dtype)
        for call in (lambda: numpy_ops.conv2d_input(x.shape, w, g, **kwargs),
                     lambda: numpy_ops.conv2d_weight(x, w.shape, g, **kwargs)):
            status, error = outcome(call)
            assert status == "raised" and isinstance(error, (ValueError, TypeError)), error
            assert not str(error).startswith("grad_output.shape"), f"refused for the gradient, not the call: {error}"
        return
    g, (gx, gw) = result
    tg, tw, tx = torch.from_numpy(g), torch.from_numpy(w), torch.from_numpy(x)
    assert_same(numpy_ops.conv2d_input(x.shape, w, g, **kwargs), gx, "input, numpy fast")
    assert_same(numpy_ops.conv2d_input_reference(x.shape, w, g, **kwargs), gx, "input, numpy reference")
    assert_same(torch_ops.conv2d_input(x.shape, tw, tg, **kwargs), gx, "input, torch_ops")
    assert_same(numpy_ops.conv2d_weight(x, w.shape, g, **kwargs), gw, "weight, numpy fast")
    assert_same(numpy_ops.conv2d_weight_reference(x, w.shape, g, **kwargs), gw, "weight, numpy reference")
    assert_same(torch_ops.conv2d_weight(tx, w.shape, tg, **kwargs), gw, "weight, torch_ops")


def test_conv2d_input_agrees_with_torch_nn_grad_and_refuses_a_batch_it_would_garble():
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((3, 2, 6, 6)), rng.standard_normal((4, 2, 3, 3))
    g = rng.standard_normal((3, 4, 2, 2))
    expected = torch.nn.grad.conv2d_input(x.shape, torch.from_numpy(w), torch.from_numpy(g), stride=2)
    assert_same(numpy_ops.conv2d_input(x.shape, w, g, stride=2), expected)
    # torch.nn.grad.conv2d_input accepts a grad_output of batch 2 for an input of batch 3
    torch.nn.grad.conv2d_input(x.shape, torch.from_numpy(w), torch.from_numpy(g[:2]), stride=2)
    for op in (numpy_ops.conv2d_input, numpy_ops.conv2d_input_reference):
        with pytest.raises(ValueError, match=r"grad_output.shape=\(2, 4, 2, 2\).*\(3, 4, 2, 2\)"):
            op(x.shape, w, g[:2], stride=2)
    with pytest.raises(ValueError, match=r"grad_output.shape=\(2, 4, 2, 2\).*\(3, 4, 2, 2\)"):
        torch_ops.conv2d_input(x.shape, torch.from_numpy(w), torch.from_numpy(g[:2]), stride=2)


@pytest.mark.parametrize("call", [
    lambda: numpy_ops.conv2d_weight(np.ones((1, 2, 5, 5)), (3, 2, 3, 3), np.ones((1, 3, 4, 4))),
    lambda: numpy_ops.max_pool2d_backward(np.ones((1, 2, 3)), np.ones((1, 4, 4)), 2),
    lambda: numpy_ops.avg_pool2d_backward(np.ones((2, 1, 2, 2)), np.ones((1, 1, 4, 4)), 2),
    lambda: torch_ops.conv2d_weight(torch.ones(1, 2, 5, 5), (3, 2, 3, 3), torch.ones(1, 3, 4, 4)),
    lambda: torch_ops.max_pool2d_backward(torch.ones(1, 2, 3), torch.ones(1, 4, 4), 2),
    lambda: torch_ops.avg_pool2d_backward(torch.ones(2, 1, 2, 2), torch.ones(1, 1, 4, 4), 2),
])
def test_a_grad_output_of_the_wrong_shape_is_refused_naming_both_shapes(call):
    with pytest.raises(ValueError, match=r"grad_output.shape=.*forward output's shape \("):
        call()


@pytest.mark.parametrize("bad, message", [
    (dict(input_size=(2, 5, 5)), r"input_size=\(2, 5, 5\): expected 1 input channels"),
    (dict(input_size=(1, 1, 5, 5, 5)), r"input_size=\(1, 1, 5, 5, 5\): input_size must be"),
    (dict(input_size="1155"), r"input_size='1155': input_size must be"),
    (dict(grad_output=np.ones((1, 1, 3, 3), np.float32)), r"grad_output.dtype=float32"),
    (dict(grad_output=[[1.0]]), r"grad_output=list"),
])
def test_bad_backward_arguments_name_the_parameter(bad, message):
    args = dict(input_size=(1, 1, 5, 5), weight=np.ones((1, 1, 3, 3)), grad_output=np.ones((1, 1, 3, 3)))
    with pytest.raises((ValueError, TypeError), match=message):
        numpy_ops.conv2d_input(**{**args, **bad})


def only_windows_with_input(x, kwargs):
    """Keep from torch's max-pool backward the settings where a window lies wholly in the padding:
    torch 2.13 sends its gradient past the plane there (the next channel's, or past the buffer)."""
    cfg = _config.pool2d(x.shape, kwargs["kernel_size"], kwargs.get("stride"), kwargs["padding"],
                         kwargs.get("dilation", 1), kwargs["ceil_mode"])
    return all(map(all, _config.windows_with_input(cfg, x.shape[-2:])))


def max_pool_cases(x, kwargs):
    assume(outcome(lambda: _config.pool2d(x.shape, kwargs["kernel_size"], kwargs.get("stride"), kwargs["padding"],
                                          kwargs.get("dilation", 1), kwargs["ceil_mode"]))[0] == "ok")
    return only_windows_with_input(x, kwargs)


@settings(max_examples=150)
@given(pool_cases(dtype=DTYPES), st.booleans())
def test_max_pool2d_backward_matches_autograd_ties_included(case, ties):
    x, kwargs = case
    if ties:  # few distinct values: windows hold several maxima, and torch picks the first
        x = np.round(x).astype(x.dtype)
    if not max_pool_cases(x, kwargs):
        return test_a_window_wholly_in_the_padding_sends_its_gradient_nowhere(x, kwargs)
    g, (gx,) = autograd(lambda xt: F.max_pool2d(xt, **kwargs), x)
    assert_same(numpy_ops.max_pool2d_backward(g, x, **kwargs), gx, "numpy fast")
    assert_same(numpy_ops.max_pool2d_backward_reference(g, x, **kwargs), gx, "numpy reference")
    assert_same(torch_ops.max_pool2d_backward(torch.from_numpy(g), torch.from_numpy(x), **kwargs), gx, "torch_ops")


@pytest.mark.parametrize("special", [np.nan, -np.inf], ids=["nan", "minus-inf"])
def test_max_pool2d_backward_follows_torch_where_a_window_holds_nan_or_only_minus_inf(special):
    """The fast path declines such windows (the last NaN wins; an all -inf window's first input tap
    wins); the index-tracking path then gives what autograd gives."""
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 7))
    x[0, 0, 1:4, 1:4] = special  # whole windows of it
    x[1, 2, ::3, ::2] = special  # windows holding one or several
    kwargs = dict(kernel_size=3, stride=2, padding=1)
    g, (gx,) = autograd(lambda xt: F.max_pool2d(xt, **kwargs), x)
    assert _numpy_fast.max_pool_grad(x, g, _config.pool2d(x.shape, 3, 2, 1, 1, False)) is None
    assert_same(numpy_ops.max_pool2d_backward(g, x, **kwargs), gx, "numpy fast")
    if not np.isnan(special):  # the reference sends a NaN window's gradient to its first NaN, as documented
        assert_same(numpy_ops.max_pool2d_backward_reference(g, x, **kwargs), gx, "numpy reference")


def test_max_pool2d_backward_plane_by_plane_matches_autograd(monkeypatch):
    """The fast path takes a cache-sized block of planes at a time: here one plane per block,
    with ties, and then a NaN that only the last block meets."""
    monkeypatch.setattr(_numpy_fast, "CACHE_BYTES", 1)
    x = np.random.default_rng(3).standard_normal((2, 3, 9, 8)).round()
    kwargs = dict(kernel_size=3, stride=2, padding=1)
    cfg = _config.pool2d(x.shape, 3, 2, 1, 1, False)
    g, (gx,) = autograd(lambda xt: F.max_pool2d(xt, **kwargs), x)
    assert_same(_numpy_fast.max_pool_grad(x, g, cfg), gx, "one plane per block")
    x[1, 2, 4, 4] = np.nan
    g, (gx,) = autograd(lambda xt: F.max_pool2d(xt, **kwargs), x)
    assert _numpy_fast.max_pool_grad(x, g, cfg) is None
    assert_same(numpy_ops.max_pool2d_backward(g, x, **kwargs), gx, "numpy fast")


def test_a_window_wholly_in_the_padding_sends_its_gradient_nowhere(x=None, kwargs=None):
    """Such a window reads no input (its output is -inf): cnnqa drops its gradient; all versions agree."""
    if x is None:  # the example: 2x2 input, kernel 2, stride 1, padding 1, dilation 3
        x, kwargs = np.arange(4.0).reshape(1, 1, 2, 2), dict(kernel_size=2, stride=1, padding=1, dilation=3, ceil_mode=False)
    out = numpy_ops.max_pool2d(x, **kwargs)
    g = np.random.default_rng(1).standard_normal(out.shape).astype(x.dtype)
    grad = numpy_ops.max_pool2d_backward(g, x, **kwargs)
    assert_same(numpy_ops.max_pool2d_backward_reference(g, x, **kwargs), grad, "numpy reference")
    assert_same(torch_ops.max_pool2d_backward(torch.from_numpy(g), torch.from_numpy(x), **kwargs), grad, "torch_ops")
    read = np.isfinite(out)  # windows with an input tap
    np.testing.assert_allclose(grad.sum(), g[read].sum(), rtol=1e-4, atol=1e-4)


@settings(max_examples=150)
@given(pool_cases(dtype=DTYPES, dilated=False), st.booleans(), st.sampled_from([None, 1, 3, -2]))
def test_avg_pool2d_backward_matches_autograd(case, count_include_pad, divisor_override):
    x, kwargs = case
    kwargs = dict(kwargs, count_include_pad=count_include_pad, divisor_override=divisor_override)
    result = autograd(lambda xt: F.avg_pool2d(xt, **kwargs), x)
    assume(result is not None)
    g, (gx,) = result
    assert_same(numpy_ops.avg_pool2d_backward(g, x, **kwargs), gx, "numpy fast")
    assert_same(numpy_ops.avg_pool2d_backward_reference(g, x, **kwargs), gx, "numpy reference")
    assert_same(torch_ops.avg_pool2d_backward(torch.from_numpy(g), torch.from_numpy(x), **kwargs), gx, "torch_ops")


@settings(max_examples=60)
@given(pool_cases(lo=0), st.sampled_from(["max", "avg"]))
def test_pooling_backward_refuses_what_torch_refuses(case, kind):
    x, kwargs = case
    if kind == "avg":
        kwargs.pop("dilation")
    forward = getattr(F, f"{kind}_pool2d")
    if outcome(lambda: forward(torch.from_numpy(x), **kwargs))[0] == "ok":
        return
    g = np.zeros((1,), x.dtype)
    status, error = outcome(lambda: getattr(numpy_ops, f"{kind}_pool2d_backward")(g, x, **kwargs))
    assert status == "raised" and isinstance(error, (ValueError, TypeError)), error
    assert not str(error).startswith("grad_output.shape"), f"refused for the gradient, not the call: {error}"
