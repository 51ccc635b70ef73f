"""The largest magnitude the warehouse accepts for a position, velocity or measurement.

The marts square differences of positions and velocities (speeds, distances, standard
deviations, correlations) and bin positions into integers: values near 1e300 overflow them
(an error on Postgres, `inf` on DuckDB), for every later build. Every family refuses, at the
door and naming the file, row and column, a value with |value| > MAX_MAGNITUDE; squares of
differences of such values (4e30) and their sums stay finite. Real data is far inside it: a
diverging model's rollout reaches about 1e7 pixels.
"""

from __future__ import annotations

import numpy as np

MAX_MAGNITUDE = 1e15
RANGE_TEXT = "outside [-1e15, 1e15]"
RANGE_HINT = "larger values overflow the marts' computations; are the units right?"


def within(values: np.ndarray) -> np.ndarray:
    """Where the values are finite and within MAX_MAGNITUDE (NaN and inf are not)."""
    with np.errstate(invalid="ignore"):
        return np.abs(values) <= MAX_MAGNITUDE
