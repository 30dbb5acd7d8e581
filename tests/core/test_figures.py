"""Every value an animation on the site draws equals PyTorch's, frame by frame.

The frames come from cnnqa.numpy_ops (cnnqa.figures.motion); here each is recomputed with
torch.nn.functional from the drawn input and kernel, and the drawn windows are checked against
the values they claim to produce.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnqa import figures


def t(array):
    return torch.from_numpy(np.ascontiguousarray(array))[None, None]


def drawn_grid(a, fill):
    """The input as drawn: inside its padding ring (``fill`` in the ring)."""
    return np.pad(a.input, a.input_pad, constant_values=fill)


@pytest.mark.parametrize("name", sorted(figures.GALLERY))
def test_every_frame_of_every_animation_matches_torch(name):
    function, settings = figures.GALLERY[name]
    a = figures.gallery(name)
    settings = {k: v for k, v in settings.items() if k not in ("size", "mode", "seed")}
    if a.kind in ("conv", "transposed"):
        settings.pop("kernel_size")  # the kernel is the drawn weight
    if a.kind == "conv":
        expected = F.conv2d(t(a.input), t(a.kernel), **settings)[0, 0].numpy()
        grid = drawn_grid(a, 0.0)
        for k, frame in enumerate(a.frames):
            (target,) = frame.targets
            window = np.array([grid[cell] for cell in frame.window]).reshape(a.kernel.shape)
            assert (window * a.kernel).sum() == expected[target], f"{name}: frame {k}'s window"
    elif a.kind == "transposed":
        expected = F.conv_transpose2d(t(a.input), t(a.kernel), **settings)[0, 0].numpy()
        for k, frame in enumerate(a.frames):
            kept = np.where(np.arange(a.input.size).reshape(a.input.shape) <= k, a.input, 0.0)
            np.testing.assert_array_equal(frame.output, F.conv_transpose2d(t(kept), t(a.kernel), **settings)[0, 0])
    elif a.kind in ("max", "avg"):
        pool = F.max_pool2d if a.kind == "max" else F.avg_pool2d
        expected = pool(t(a.input), **settings)[0, 0].numpy()
        grid = drawn_grid(a, -np.inf if a.kind == "max" else 0.0)
        for k, frame in enumerate(a.frames):
            (target,) = frame.targets
            window = [grid[cell] for cell in frame.window]
            if a.kind == "max":
                assert max(window) == expected[target], f"{name}: frame {k}'s window"
            assert len(window) == settings["kernel_size"] ** 2
    else:
        pooled, indices = F.max_pool2d(t(a.frames[-1].output), settings["kernel_size"], return_indices=True)
        np.testing.assert_array_equal(a.input, pooled[0, 0])
        for k, frame in enumerate(a.frames):
            kept = torch.where(torch.arange(pooled.numel()).reshape(pooled.shape) <= k, pooled, 0.0)
            np.testing.assert_array_equal(frame.output, F.max_unpool2d(kept, indices, settings["kernel_size"])[0, 0])
        return
    np.testing.assert_allclose(a.output, expected, rtol=1e-12)
    # each frame writes one more output cell (row-major), the rest not yet drawn
    for k, frame in enumerate(a.frames):
        if a.kind != "transposed":
            written = ~np.isnan(frame.output)
            assert written.sum() == k + 1
            np.testing.assert_allclose(frame.output[written], expected[written], rtol=1e-12)


def test_unread_cells_are_exactly_those_no_window_reads():
    a = figures.gallery("stride-unread")
    h, w = a.input.shape
    assert a.unread == {(h - 1, c) for c in range(w)} | {(r, w - 1) for r in range(h)}
    assert not figures.gallery("stride-padding").unread


def test_bad_settings_are_refused_with_cnnqas_own_messages():
    with pytest.raises(ValueError, match="padding='same'"):
        figures.conv_animation(5, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="mode='min': mode must be 'max' or 'avg'"):
        figures.pool_animation(4, 2, mode="min")
    with pytest.raises(ValueError, match="name='spin': not an animation"):
        figures.gallery("spin")


def test_every_frame_is_drawn_with_its_caption_and_the_first_is_shown():
    page = figures.animation("max-pool", caption="What to look at.")
    a = figures.gallery("max-pool")
    assert page.count('<g class="cnnqa-frame') == len(a.frames)
    assert page.count("is-current") == 1
    assert "<figcaption>What to look at.</figcaption>" in page
    for frame in a.frames:
        assert f'data-caption="{frame.caption}"' in page
