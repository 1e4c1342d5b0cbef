"""The bounds in the settings keep the work they allow bounded: the slowest bandwidth schedule stays short."""

from __future__ import annotations

import pytest

from nnscape.config import MAX_BANDWIDTH_REDUCTION, PROCESSING_SETTINGS
from nnscape.processing.edges import EDGE_START_BANDWIDTH
from nnscape.processing.nodes import NODE_START_BANDWIDTH
from nnscape.processing.potential import bandwidths

# The schedule length docs/limits.md promises at the bound (about 3 100 steps).
MAX_SCHEDULE_STEPS = 4_000


@pytest.mark.parametrize("start", [EDGE_START_BANDWIDTH, NODE_START_BANDWIDTH])
def test_the_slowest_allowed_schedule_is_a_few_thousand_steps(start: float) -> None:
    rate = next(setting for setting in PROCESSING_SETTINGS if setting.key == "sampling_rate")
    assert rate.high is not None
    finest = 2 * (1.0 / rate.high) / 3  # h_min = 2s/3 at the finest spacing s allowed
    steps = len(bandwidths(start, MAX_BANDWIDTH_REDUCTION, finest))
    assert 1_000 < steps < MAX_SCHEDULE_STEPS
