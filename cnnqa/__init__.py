"""cnnqa: an executable question-and-answer guide to convolutional neural networks.

``cnnqa.shapes`` holds the integer arithmetic, ``cnnqa.numpy_ops`` the NumPy ops (re-exported
here). ``cnnqa.torch_ops`` needs torch and is imported explicitly: ``from cnnqa import torch_ops``.
"""

from cnnqa import numpy_ops, shapes
from cnnqa.numpy_ops import (
    avg_pool2d,
    avg_pool2d_reference,
    conv2d,
    conv2d_reference,
    conv_transpose2d,
    max_pool2d,
    max_pool2d_reference,
    max_unpool2d,
)
from cnnqa.shapes import (
    Field,
    Layer,
    conv2d_macs,
    conv2d_num_params,
    conv_output_size,
    conv_padding,
    conv_transpose_output_size,
    effective_kernel_size,
    linear_num_params,
    pool_output_size,
    receptive_field,
    receptive_field_at,
)

__all__ = [
    "Field",
    "Layer",
    "avg_pool2d",
    "avg_pool2d_reference",
    "conv2d",
    "conv2d_macs",
    "conv2d_num_params",
    "conv2d_reference",
    "conv_output_size",
    "conv_padding",
    "conv_transpose2d",
    "conv_transpose_output_size",
    "effective_kernel_size",
    "linear_num_params",
    "max_pool2d",
    "max_pool2d_reference",
    "max_unpool2d",
    "numpy_ops",
    "pool_output_size",
    "receptive_field",
    "receptive_field_at",
    "shapes",
]
