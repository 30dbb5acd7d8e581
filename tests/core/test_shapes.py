"""Every formula in cnnqa.shapes equals the shape (or count) of what torch actually returns."""

import re

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cnnqa import shapes

sizes, kernels, strides, dilations = st.integers(1, 12), st.integers(1, 5), st.integers(1, 4), st.integers(1, 3)


def torch_length(call):
    """Output width of a 1 x W torch op, or None if torch refuses the configuration."""
    try:
        return call().shape[-1]
    except RuntimeError:
        return None


def ours(call):
    try:
        return call()
    except ValueError:
        return None


@settings(max_examples=400)
@given(sizes, kernels, strides, st.integers(0, 3), dilations)
def test_conv_output_size_matches_torch(size, k, s, p, d):
    expected = torch_length(lambda: F.conv2d(torch.ones(1, 1, 1, size), torch.ones(1, 1, 1, k), stride=s, padding=(0, p), dilation=d))
    assert ours(lambda: shapes.conv_output_size(size, k, s, p, d)) == expected


@settings(max_examples=400)
@given(sizes, kernels, dilations, st.sampled_from(["same", "valid"]))
def test_conv_output_size_string_padding_matches_torch(size, k, d, padding):
    expected = torch_length(lambda: F.conv2d(torch.ones(1, 1, 1, size), torch.ones(1, 1, 1, k), padding=padding, dilation=d))
    assert ours(lambda: shapes.conv_output_size(size, k, padding=padding, dilation=d)) == expected


@settings(max_examples=300)
@given(sizes, kernels, strides, dilations)
def test_same_padding_gives_ceil_of_size_over_stride_with_the_least_padding(size, k, s, d):
    """TensorFlow's SAME: ceil(H/S) windows, from the least padding, the odd pixel after; torch's 'same' at S=1."""
    before, after = shapes.same_padding(size, k, s, d)
    y = F.conv2d(F.pad(torch.ones(1, 1, 1, size), (before, after)), torch.ones(1, 1, 1, k), stride=s, dilation=d)
    assert y.shape[-1] == -(-size // s)
    assert after - before in (0, 1)
    if before + after > 0:  # one pixel less and the last window no longer fits
        shorter = size + before + after - 1 - shapes.effective_kernel_size(k, d)
        assert shorter < 0 or shorter // s + 1 < -(-size // s)
    if s == 1:
        assert (before, after) == shapes.conv_padding(k, "same", dilation=d)


@settings(max_examples=400)
@given(sizes, kernels, st.none() | strides, st.integers(0, 3), dilations, st.booleans())
def test_pool_output_size_matches_torch(size, k, s, p, d, ceil_mode):
    expected = torch_length(lambda: F.max_pool2d(torch.ones(1, 1, size), (1, k), (1, s or k), (0, p), (1, d), ceil_mode))
    assert ours(lambda: shapes.pool_output_size(size, k, s, p, d, ceil_mode)) == expected


@given(st.integers(1, 8), kernels, strides, st.integers(0, 3), st.integers(0, 3), dilations)
def test_conv_transpose_output_size_matches_torch(size, k, s, p, a, d):
    expected = torch_length(lambda: F.conv_transpose2d(torch.ones(1, 1, 1, size), torch.ones(1, 1, 1, k), stride=(1, s),
                                                       padding=(0, p), output_padding=(0, a), dilation=(1, d)))
    assert ours(lambda: shapes.conv_transpose_output_size(size, k, s, p, a, d)) == expected


@settings(max_examples=400)
@given(sizes, kernels, strides, st.integers(0, 2), dilations)
def test_conv_transpose_inverts_conv(size, k, s, p, d):
    out = ours(lambda: shapes.conv_output_size(size, k, s, p, d))
    assume(out is not None)
    a = (size + 2 * p - shapes.effective_kernel_size(k, d)) % s  # the rows the floor dropped
    assume(a < s or a < d)
    assert shapes.conv_transpose_output_size(out, k, s, p, a, d) == size


@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.tuples(kernels, kernels), st.booleans())
def test_num_params_match_torch_modules(cin_g, cout_g, groups, kernel, bias):
    layer = torch.nn.Conv2d(cin_g * groups, cout_g * groups, kernel, groups=groups, bias=bias)
    assert shapes.conv2d_num_params(cin_g * groups, cout_g * groups, kernel, bias, groups) == sum(
        t.numel() for t in layer.parameters())
    dense = torch.nn.Linear(cin_g * 7, cout_g * 5, bias=bias)
    assert shapes.linear_num_params(cin_g * 7, cout_g * 5, bias) == sum(t.numel() for t in dense.parameters())


@given(st.integers(1, 3), st.integers(1, 3), kernels, st.integers(1, 6))
def test_macs_count_one_multiply_per_weight_per_output_pixel(cin, cout, k, out):
    # conv of an all-ones input with all-ones weights: each output sums C_in * k * k products
    x, w = torch.ones(1, cin, out + k - 1, out + k - 1), torch.ones(cout, cin, k, k)
    assert shapes.conv2d_macs(cin, cout, k, out) == F.conv2d(x, w).sum().item()


@given(st.lists(st.tuples(kernels, st.integers(1, 3), st.integers(1, 2)), min_size=1, max_size=4))
def test_receptive_field_is_the_gradient_footprint(layers):
    """Backpropagate from one output unit of a conv stack; the nonzero input gradient spans r."""
    field = shapes.receptive_field(layers)
    size = field + 8
    x = torch.ones(1, 1, 1, size, requires_grad=True)
    y = x
    for k, s, d in layers:
        if y.shape[-1] < shapes.effective_kernel_size(k, d):
            assume(False)
        y = F.conv2d(y, torch.ones(1, 1, 1, k), stride=(1, s), dilation=(1, d))
    y[..., 0].sum().backward()
    touched = torch.nonzero(x.grad[0, 0, 0]).flatten()
    assert touched.max().item() + 1 == field


# (kind, kernel, stride, dilation, padding) of one layer: a conv, or an average pool (no dilation)
stack_layers = st.tuples(st.sampled_from(["conv", "pool"]), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3),
                         st.integers(0, 2))


@settings(max_examples=200)
@given(st.lists(stack_layers, min_size=1, max_size=4), st.data())
def test_receptive_field_at_spans_exactly_the_pixels_with_a_gradient(stack, data):
    """One output unit's field, first to last pixel, is the extent of its non-zero input gradient.

    All-positive conv weights, average pooling and no nonlinearity: no path's contribution can
    cancel another's, so every pixel some path reaches has a non-zero gradient. The unit is drawn
    among those whose field lies inside the input (the padding still moves where it starts).
    """
    # a pool has no dilation, and torch pads it by at most half its kernel
    stack = [(kind, k, s, d, p) if kind == "conv" else (kind, k, s, 1, min(p, k // 2)) for kind, k, s, d, p in stack]
    layers = [shapes.Layer(k, s, d, p) for _, k, s, d, p in stack]
    first = shapes.receptive_field_at(layers)
    width = first.size - 2 * first.start + 2 * first.jump + 2  # room for a unit whose field is inside
    generator = torch.Generator().manual_seed(len(stack))
    x = torch.ones(1, 1, 1, width, dtype=torch.float64, requires_grad=True)
    y = x
    for kind, k, s, d, p in stack:
        assume(y.shape[-1] + 2 * p >= d * (k - 1) + 1)  # the layer has a window to compute
        if kind == "conv":
            w = 0.5 + torch.rand(1, 1, 1, k, dtype=torch.float64, generator=generator)
            y = F.conv2d(y, w, stride=(1, s), padding=(0, p), dilation=(1, d))
        else:
            y = F.avg_pool2d(y, (1, k), (1, s), (0, p))
    inside = [u for u in range(y.shape[-1]) if 0 <= first.start + u * first.jump
              and first.start + u * first.jump + first.size <= width]
    assume(inside)
    unit = data.draw(st.sampled_from(inside))
    y[..., unit].sum().backward()
    touched = torch.nonzero(x.grad[0, 0, 0]).flatten()
    field = shapes.receptive_field_at(layers, unit)
    assert (touched.min().item(), touched.max().item() + 1) == (field.start, field.stop), (layers, unit)
    assert field.size == shapes.receptive_field(layers) and field.jump == first.jump


@pytest.mark.parametrize("bad, message", [
    (dict(layers=[(3, 1, 1, -1)]), "padding=-1"),
    (dict(layers=[(0, 1)]), "kernel_size=0"),
    (dict(layers=[(3, 1)], unit=-2), "unit=-2"),
    (dict(layers=[(3, 1, 1, 1, 9)]), "layer=(3, 1, 1, 1, 9)"),
])
def test_receptive_field_at_names_what_is_wrong(bad, message):
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        shapes.receptive_field_at(**bad)


def test_receptive_field_of_no_layer_is_one_pixel():
    assert shapes.receptive_field([]) == 1


@pytest.mark.parametrize(("layer", "kernel", "dilation"), [(shapes.Layer(3, 1, 2), 3, 2), ((5, 2), 5, 1), ([2, 3, 3], 2, 3)],
                         ids=["dataclass", "pair", "list"])
def test_receptive_field_of_one_layer_is_its_dilated_kernel(layer, kernel, dilation):
    assert shapes.receptive_field([layer]) == shapes.effective_kernel_size(kernel, dilation)
