"""Normalise and validate hyperparameters and array shapes.

Pure Python (no NumPy, no torch): :mod:`cnnqa.shapes`, :mod:`cnnqa.numpy_ops` and
:mod:`cnnqa.torch_ops` share these checks, so a bad hyperparameter or shape gets the same
message from the NumPy and the torch op, naming the parameter and its value and saying what is
allowed.
"""

from __future__ import annotations

from numbers import Integral

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def is_int(value) -> bool:
    """True for Python and NumPy integers, False for bools (``True`` is not a stride)."""
    return isinstance(value, Integral) and not isinstance(value, bool)


def as_int(name: str, value) -> int:
    """Return ``value`` as an int; ``TypeError`` naming ``name`` otherwise."""
    if not is_int(value):
        raise TypeError(f"{name}={value!r}: {name} must be an int, not {type(value).__name__}")
    return int(value)


def as_pair(name: str, value) -> tuple[int, int]:
    """Normalise an int, or a tuple or list of one or two ints, to a pair ``(h, w)``.

    >>> as_pair("stride", 2), as_pair("kernel_size", (3, 5)), as_pair("padding", [1])
    ((2, 2), (3, 5), (1, 1))
    """
    if is_int(value):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) in (1, 2) and all(map(is_int, value)):
        return int(value[0]), int(value[-1])
    raise TypeError(f"{name}={value!r}: {name} must be an int or a pair of ints")


def positive(name: str, value) -> tuple[int, int]:
    """Pair of ints, each ``>= 1`` (kernel sizes, strides, dilations)."""
    pair = as_pair(name, value)
    if min(pair) < 1:
        raise ValueError(f"{name}={value!r}: {name} must be >= 1 in each dimension")
    return pair


def nonnegative(name: str, value) -> tuple[int, int]:
    """Pair of ints, each ``>= 0`` (paddings)."""
    pair = as_pair(name, value)
    if min(pair) < 0:
        raise ValueError(f"{name}={value!r}: {name} must be >= 0 in each dimension")
    return pair


def positive_int(name: str, value) -> int:
    """A single int ``>= 1`` (groups, a size)."""
    number = as_int(name, value)
    if number < 1:
        raise ValueError(f"{name}={value!r}: {name} must be >= 1")
    return number


def nonnegative_int(name: str, value) -> int:
    """A single int ``>= 0`` (a padding)."""
    number = as_int(name, value)
    if number < 0:
        raise ValueError(f"{name}={value!r}: {name} must be >= 0")
    return number


def as_bool(name: str, value) -> bool:
    """A real bool (``ceil_mode``, ``count_include_pad``, ``return_indices``)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name}={value!r}: {name} must be True or False")
    return value


def padding_mode(value) -> str:
    """One of ``zeros``, ``reflect``, ``replicate``, ``circular`` (as ``torch.nn.Conv2d``)."""
    if value not in PADDING_MODES:
        raise ValueError(f"padding_mode={value!r}: padding_mode must be one of {PADDING_MODES}")
    return value


def floating(name: str, dtype, is_floating: bool) -> None:
    """Refuse integer, bool and complex arrays: the ops are defined for real floats only."""
    if not is_floating:
        raise TypeError(f"{name}.dtype={dtype}: {name} must be a floating-point array")


def same_dtype(dtype, other_name: str, other_dtype) -> None:
    """Refuse mixed precision, as torch does (``input`` and ``weight`` must agree)."""
    if other_dtype != dtype:
        raise TypeError(
            f"{other_name}.dtype={other_dtype}: {other_name} must have the input's dtype {dtype}"
        )


def image_rank(name: str, shape) -> bool:
    """Check an ``(N, C, H, W)`` or unbatched ``(C, H, W)`` shape; return True if batched."""
    if len(shape) not in (3, 4):
        raise ValueError(
            f"{name}.shape={tuple(shape)}: {name} must be (N, C, H, W) or unbatched (C, H, W)"
        )
    if min(shape[-2:]) < 1 or shape[-3] < 1:
        raise ValueError(f"{name}.shape={tuple(shape)}: {name} needs C, H and W >= 1")
    return len(shape) == 4


def size(name: str, value, ranks: tuple[int, ...]) -> tuple[int, ...]:
    """A shape given as a value (``torch.Size``, tuple or list of ints), of one of ``ranks``.

    >>> size("weight_size", [4, 3, 3, 3], (4,))
    (4, 3, 3, 3)
    """
    if not isinstance(value, (tuple, list)) or len(value) not in ranks or not all(map(is_int, value)) \
            or min(value, default=0) < 0:
        wanted = " or ".join(f"{r} non-negative ints" for r in ranks)
        raise ValueError(f"{name}={value!r}: {name} must be a tuple or list of {wanted}")
    return tuple(int(v) for v in value)


def grad_output(shape, expected) -> None:
    """A gradient has the shape of the forward output it belongs to; name both if not."""
    if tuple(shape) != tuple(expected):
        raise ValueError(
            f"grad_output.shape={tuple(shape)}: grad_output must have the forward output's shape "
            f"{tuple(expected)}"
        )


def conv_weight(input_shape, weight_shape, bias_shape, groups: int, transposed: bool,
                input_name: str = "input.shape") -> int:
    """Check weight and bias against the input's channels; return ``out_channels``.

    ``conv2d`` weights are ``(C_out, C_in / groups, kH, kW)``; ``conv_transpose2d`` weights are
    ``(C_in, C_out / groups, kH, kW)``.
    """
    if len(weight_shape) != 4 or min(weight_shape) < 1:
        raise ValueError(
            f"weight.shape={tuple(weight_shape)}: weight must have 4 non-empty dimensions"
        )
    channels = input_shape[-3]
    first, second = weight_shape[:2]
    if first % groups:
        raise ValueError(
            f"groups={groups}: weight.shape[0]={first} must be divisible by groups"
        )
    expected = first if transposed else second * groups
    if channels != expected:
        raise ValueError(
            f"{input_name}={tuple(input_shape)}: expected {expected} input channels for "
            f"weight.shape={tuple(weight_shape)} and groups={groups}, got {channels}"
        )
    out_channels = second * groups if transposed else first
    if bias_shape is not None and tuple(bias_shape) != (out_channels,):
        raise ValueError(f"bias.shape={tuple(bias_shape)}: bias must have shape ({out_channels},)")
    return out_channels
