"""Hypothesis profiles for the core suite: ``ci`` is derandomised (reproducible), ``dev`` is random.

The ``ci`` profile is the default; set ``HYPOTHESIS_PROFILE=dev`` for fresh random examples, or
``HYPOTHESIS_PROFILE=thorough`` for a long hunt (1000 random examples per property).
"""

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    print_blob=True,
)
settings.register_profile("dev", parent=settings.get_profile("ci"), derandomize=False)
settings.register_profile("thorough", parent=settings.get_profile("dev"), max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
