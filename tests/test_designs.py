"""Designs are reproducible per sample index, whatever the batch size."""

import numpy as np
import pytest

from uqms.sampling import DESIGNS, make_design

N, DIM, SEED = 1000, 4, 17


def _in_batches(design, batch_size):
    return np.vstack([design.unit_cube(a, min(a + batch_size, N), N, DIM, SEED) for a in range(0, N, batch_size)])


@pytest.mark.parametrize("method", sorted(DESIGNS))
def test_sample_i_is_the_same_for_batch_sizes_1_7_1000(method):
    design = make_design(method)
    whole = _in_batches(design, 1000)
    assert whole.shape == (N, DIM)
    assert np.array_equal(whole, _in_batches(design, 7))
    assert np.array_equal(whole, _in_batches(design, 1))
    assert np.all((whole >= 0) & (whole < 1))


@pytest.mark.parametrize("method", sorted(DESIGNS))
def test_seed_changes_the_points_and_is_reproducible(method):
    design = make_design(method)
    a = design.unit_cube(0, 64, 64, DIM, 1)
    assert np.array_equal(a, design.unit_cube(0, 64, 64, DIM, 1))
    assert not np.array_equal(a, design.unit_cube(0, 64, 64, DIM, 2))


def test_latin_hypercube_has_one_point_per_stratum_on_every_axis():
    points = make_design("lhs").unit_cube(0, N, N, DIM, SEED)
    for axis in range(DIM):
        assert np.array_equal(np.sort(np.floor(points[:, axis] * N)), np.arange(N))


@pytest.mark.parametrize("method", ["sobol", "halton"])
def test_quasi_random_points_integrate_better_than_random(method):
    # Integral of prod(2 x_i) over the unit cube is 1; QMC error is far below MC's ~1/sqrt(n).
    n = 4096
    qmc_error = abs(np.prod(2 * make_design(method).unit_cube(0, n, n, DIM, 3), axis=1).mean() - 1)
    assert qmc_error < 0.2 / np.sqrt(n)


def test_unknown_design():
    with pytest.raises(ValueError, match="unknown design 'grid'"):
        make_design("grid")
