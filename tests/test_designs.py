"""Designs are reproducible per sample index, whatever the batch size."""

import numpy as np
import pytest
from scipy.stats import qmc

from uqms.sampling import DESIGNS, make_design
from uqms.sampling.designs import keyed_permutation

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


@pytest.mark.parametrize("n", [1, 2, 3, 1000, 4097, 65536])
def test_keyed_permutation_is_a_bijection_of_range_n(n):
    image = keyed_permutation(np.arange(n, dtype=np.uint64), n, np.random.default_rng(5))
    assert np.array_equal(np.sort(image), np.arange(n))


def test_keyed_permutations_look_random():
    n = 100_003
    index = np.arange(n, dtype=np.uint64)
    a, b = (keyed_permutation(index, n, np.random.default_rng(key)) for key in (5, 6))
    assert abs(np.corrcoef(index, a)[0, 1]) < 4 / np.sqrt(n)  # not close to the identity
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / np.sqrt(n)  # two keys, two unrelated permutations
    assert (a == index).sum() < 10  # fixed points: Poisson(1) for a random permutation
    # a batch far into a large design costs O(batch): its strata come without the other n
    far = keyed_permutation(np.arange(10**12 - 5, 10**12, dtype=np.uint64), 10**12, np.random.default_rng(5))
    assert np.all(far < 10**12) and len(np.unique(far)) == 5


@pytest.mark.parametrize("method", ["sobol", "halton"])
def test_quasi_random_points_integrate_better_than_random(method):
    # Integral of prod(2 x_i) over the unit cube is 1; QMC error is far below MC's ~1/sqrt(n).
    n = 4096
    qmc_error = abs(np.prod(2 * make_design(method).unit_cube(0, n, n, DIM, 3), axis=1).mean() - 1)
    assert qmc_error < 0.2 / np.sqrt(n)


def test_halton_batches_deep_in_the_design_equal_scipys_fast_forward():
    start = 300_000
    engine = qmc.Halton(d=DIM, scramble=True, rng=np.random.default_rng([SEED, 2]))
    engine.fast_forward(start)
    expected = engine.random(100)
    np.testing.assert_array_equal(make_design("halton").unit_cube(start, start + 100, 10**6, DIM, SEED), expected)


def test_unknown_design():
    with pytest.raises(ValueError, match="unknown design 'grid'"):
        make_design("grid")
