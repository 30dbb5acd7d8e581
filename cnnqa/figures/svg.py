"""Draw an :class:`~cnnqa.figures.motion.Animation` as an SVG figure with a frame player.

The SVG carries no colours of its own: every shape has a class from one vocabulary, styled by the
site's ``stylesheets/figures.css`` in the light and the dark palette alike:

``cnnqa-input``, ``cnnqa-padding`` (the ring of padding, or the output's cropped ring),
``cnnqa-kernel`` (the kernel's weights),
``cnnqa-window`` (the cells the kernel's window reads), ``cnnqa-output``, ``cnnqa-current`` (the
output cells being written) and ``cnnqa-unread`` (input cells no window ever reads).

Each frame is a ``<g class="cnnqa-frame">``; the first is shown, and the site's ``player.js``
steps through the rest (play, pause, step back and forward, from the mouse or the keyboard).
"""

from __future__ import annotations

import html
import math

import numpy as np

from cnnqa.figures.motion import Animation

__all__ = ["animation_html", "figure_html", "svg_html"]

CELL = 30  # px per grid cell in the SVG's own units
GAP = 2 * CELL  # between the input and the output grids
TOP = 24  # room for the grids' labels
MIN_SCALE = 0.85  # numbers are 13 px in the SVG: never drawn below 11 px


def _text(x: float, y: float, text: str, cls: str = "") -> str:
    attr = f' class="{cls}"' if cls else ""
    return f'<text x="{x:g}" y="{y:g}"{attr}>{html.escape(text)}</text>'


def _cell(x: float, y: float, cls: str) -> str:
    return f'<rect class="{cls}" x="{x:g}" y="{y:g}" width="{CELL}" height="{CELL}"/>'


def svg_html(body: str, width: float, height: float, label: str) -> str:
    """An SVG of the site's figure vocabulary, scaling with the page down to MIN_SCALE, then scrolling."""
    return (
        f'<div class="cnnqa-scroll"><svg class="cnnqa-grid" viewBox="0 0 {width:g} {height:g}" width="{width:g}" '
        f'style="min-width: {width * MIN_SCALE:.0f}px" role="img" aria-label="{html.escape(label)}">{body}</svg></div>'
    )


def figure_html(content: str, caption: str, label: str = "") -> str:
    """A ``<figure>`` holding a drawing and a caption that says what to look at."""
    aria = f' aria-label="{html.escape(label)}"' if label else ""
    return f'<figure class="cnnqa-figure"{aria}>{content}<figcaption>{html.escape(caption)}</figcaption></figure>'


def _number(value: float) -> str:
    """A drawn value: whole numbers plainly, fractions to three significant digits (averages)."""
    if math.isnan(value):
        return ""
    if value == int(value):
        return f"{int(value)}"
    return f"{value:.3g}"


def animation_html(animation: Animation, caption: str = "") -> str:
    """The animation as an HTML ``<figure>``: SVG frames, a player, and a caption saying what to see.

    >>> from cnnqa.figures.motion import conv_animation
    >>> page = animation_html(conv_animation(4, 3))
    >>> page.count('class="cnnqa-frame'), 'aria-label="Convolution: 4×4 input' in page
    (4, True)
    """
    a = animation
    (it, ib), (il, ir) = a.input_pad
    (ot, ob), (ol, or_) = a.output_pad
    in_h, in_w = a.input.shape[0] + it + ib, a.input.shape[1] + il + ir
    out_h, out_w = a.output.shape[0] + ot + ob, a.output.shape[1] + ol + or_
    out_x = in_w * CELL + GAP
    kernel_x = out_x + out_w * CELL + GAP
    kernel_hw = a.kernel.shape if a.kernel is not None else (0, 0)
    width = kernel_x + kernel_hw[1] * CELL if a.kernel is not None else out_x + out_w * CELL
    height = TOP + max(in_h, out_h, kernel_hw[0]) * CELL + 4
    static = [
        _text(0, TOP - 8, "input" if a.kind != "unpool" else "pooled", "cnnqa-label"),
        _text(out_x, TOP - 8, "output", "cnnqa-label"),
    ]
    if a.kernel is not None:
        static.append(_text(kernel_x, TOP - 8, "kernel", "cnnqa-label"))
        for (r, c), weight in np.ndenumerate(a.kernel):
            x, y = kernel_x + c * CELL, TOP + r * CELL
            static += [_cell(x, y, "cnnqa-kernel"), _text(x + CELL / 2, y + CELL / 2, _number(weight), "cnnqa-value")]
    for r in range(in_h):
        for c in range(in_w):
            inside = it <= r < it + a.input.shape[0] and il <= c < il + a.input.shape[1]
            cls = "cnnqa-input" if inside else "cnnqa-padding"
            if (r, c) in a.unread:
                cls += " cnnqa-unread"
            x, y = c * CELL, TOP + r * CELL
            static.append(_cell(x, y, cls))
            value = _number(a.input[r - it, c - il]) if inside else a.pad_value
            static.append(_text(x + CELL / 2, y + CELL / 2, value, "cnnqa-value"))
    for r in range(out_h):
        for c in range(out_w):
            inside = ot <= r < ot + a.output.shape[0] and ol <= c < ol + a.output.shape[1]
            static.append(_cell(out_x + c * CELL, TOP + r * CELL, "cnnqa-output" if inside else "cnnqa-padding"))
    frames = []
    for k, frame in enumerate(a.frames):
        shapes = [_cell(c * CELL, TOP + r * CELL, "cnnqa-window") for r, c in frame.window]
        shapes += [_cell(out_x + c * CELL, TOP + r * CELL, "cnnqa-current") for r, c in frame.targets]
        for r in range(a.output.shape[0]):
            for c in range(a.output.shape[1]):
                x, y = out_x + (c + ol) * CELL, TOP + (r + ot) * CELL
                shapes.append(_text(x + CELL / 2, y + CELL / 2, _number(frame.output[r, c]), "cnnqa-value"))
        current = " is-current" if k == 0 else ""
        frames.append(
            f'<g class="cnnqa-frame{current}" data-caption="{html.escape(frame.caption)}">{"".join(shapes)}</g>'
        )
    svg = svg_html("".join(static) + "".join(frames), width, height, a.title)
    player = (
        '<div class="cnnqa-player" hidden>'
        '<button type="button" class="md-button" data-step="-1" aria-label="Step back">◀</button>'
        '<button type="button" class="md-button" data-play aria-pressed="false">Play</button>'
        '<button type="button" class="md-button" data-step="1" aria-label="Step forward">▶</button>'
        f'<span class="cnnqa-player__count" aria-live="polite">1 / {len(a.frames)}</span>'
        f'<span class="cnnqa-player__caption">{html.escape(a.frames[0].caption)}</span>'
        "</div>"
    )
    text = html.escape(caption or a.title)
    return (
        f'<figure class="cnnqa-anim" tabindex="0" aria-label="{html.escape(a.title)}">'
        f"{svg}{player}<figcaption>{text}</figcaption></figure>"
    )
