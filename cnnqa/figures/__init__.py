"""Pictures for the site, drawn from cnnqa's own computations.

:mod:`cnnqa.figures.motion` computes what a picture shows (every value by :mod:`cnnqa.numpy_ops`),
:mod:`cnnqa.figures.svg` draws it as SVG whose colours come from the site's stylesheet, so a
figure reads in the light and the dark palette; :mod:`cnnqa.figures.diagrams` draws the still
pictures (volumes, weights, connections, receptive fields) and :mod:`cnnqa.figures.photos` the
photographs and charts, with matplotlib, imported only when one is drawn. A page draws one in a line::

    from cnnqa import figures
    print(figures.animation("stride-unread", caption="..."))

Nothing here imports matplotlib: ``import cnnqa`` stays light.
"""

from cnnqa.figures.motion import (
    GALLERY,
    Animation,
    Frame,
    conv_animation,
    conv_transpose_animation,
    gallery,
    pool_animation,
    unpool_animation,
)
from cnnqa.figures.diagrams import (
    channels_figure,
    connectivity_figure,
    coverage_figure,
    funnel_figure,
    grids_figure,
    paths_to_unit,
    receptive_field_figure,
    weight_tensor_figure,
)
from cnnqa.figures.photos import (
    conv_matrix_figure,
    feature_maps_figure,
    images_figure,
    learning_curve_chart,
    output_size_chart,
    padding_modes_figure,
    pooling_photo_figure,
)
from cnnqa.figures.svg import animation_html

__all__ = [
    "GALLERY",
    "Animation",
    "Frame",
    "animation",
    "animation_html",
    "channels_figure",
    "connectivity_figure",
    "conv_matrix_figure",
    "coverage_figure",
    "feature_maps_figure",
    "funnel_figure",
    "grids_figure",
    "images_figure",
    "learning_curve_chart",
    "output_size_chart",
    "paths_to_unit",
    "padding_modes_figure",
    "pooling_photo_figure",
    "receptive_field_figure",
    "weight_tensor_figure",
    "conv_animation",
    "conv_transpose_animation",
    "gallery",
    "pool_animation",
    "unpool_animation",
]


def animation(name: str, caption: str = "") -> str:
    """The HTML of one :data:`GALLERY` animation with its player.

    >>> animation("max-pool").startswith('<figure class="cnnqa-anim"')
    True
    """
    return animation_html(gallery(name), caption)
