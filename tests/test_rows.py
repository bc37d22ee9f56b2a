"""Row reductions of per-sample arrays against numpy's own reductions along the rows."""

import numpy as np
import pytest

from uqms.models.rows import every, largest_magnitude


@pytest.mark.parametrize("shape", [(0, 5), (7,), (50, 5), (40, 3, 4), (9, 0)])
def test_every_equals_all_along_the_rows(shape):
    """Any number of samples (none too) and of entries per sample (none too: vacuously true)."""
    mask = np.random.default_rng(1).uniform(size=shape) < 0.97
    got = every(mask)
    assert got.shape == (shape[0],)
    np.testing.assert_array_equal(got, mask.reshape(shape[0], -1).all(axis=1) if shape[0] else np.ones(0, bool))
    assert shape[0] < 20 or 0 < got.sum() < shape[0]  # both outcomes occur, so the check could fail


def test_largest_magnitude_equals_the_row_maximum_of_magnitudes_and_keeps_nan():
    values = np.random.default_rng(2).normal(size=(30, 5))
    values[4, 2] = np.nan
    got = largest_magnitude(values)
    expected = np.abs(values).max(axis=1)
    np.testing.assert_array_equal(got, expected)
    assert np.isnan(got[4]) and np.isfinite(np.delete(got, 4)).all()
    np.testing.assert_array_equal(largest_magnitude(np.zeros((3, 0))), np.zeros(3))
