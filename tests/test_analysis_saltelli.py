"""Saltelli estimators: analytic Ishigami and G-function indices, SALib on the same rows, failed samples."""

import numpy as np
import pytest
from SALib.analyze import sobol as salib_sobol

from uqms.analysis import saltelli as saltelli_module
from uqms.analysis.saltelli import saltelli_indices
from uqms.sampling.saltelli import Saltelli
from uqms.test_functions import ishigami


def saltelli_points(n_base, dim, seed, lower=0.0, upper=1.0):
    n = n_base * (dim + 2)
    return lower + (upper - lower) * Saltelli().unit_cube(0, n, n, dim, seed)


def ishigami_rows(n_base, seed=11):
    x = saltelli_points(n_base, 3, seed, -np.pi, np.pi)
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


@pytest.fixture(scope="module")
def ishigami_2_14():
    y = ishigami_rows(2**14)
    return y, saltelli_indices(y, 3, resamples=500)


def test_ishigami_indices_lie_in_their_bootstrap_intervals_at_2_14_base_samples(ishigami_2_14):
    _, found = ishigami_2_14
    first, total = ishigami.sobol_indices()
    for kind, exact in (("first", first), ("total", total)):
        lower, upper = found[f"{kind}_interval"][:, :, 0]
        assert ((lower <= exact) & (exact <= upper)).all(), (kind, lower, exact, upper)
        assert (lower <= found[kind][:, 0]).all() and (found[kind][:, 0] <= upper).all()
        assert (upper - lower).max() < 0.05


def test_equal_to_salib_on_the_same_rows(ishigami_2_14):
    y, found = ishigami_2_14
    problem = {"num_vars": 3, "names": ["x1", "x2", "x3"], "bounds": [[-np.pi, np.pi]] * 3}
    reference = salib_sobol.analyze(problem, y, calc_second_order=False, num_resamples=10, seed=1)
    np.testing.assert_allclose(found["first"][:, 0], reference["S1"], atol=1e-10)
    np.testing.assert_allclose(found["total"][:, 0], reference["ST"], atol=1e-10)


@pytest.mark.parametrize("a", [np.array([0.0, 1.0, 4.5, 9.0]), np.array([0.5, 2.0, 99.0, 99.0])])
def test_sobol_g_function_indices_lie_in_their_intervals(a):
    x = saltelli_points(2**13, 4, seed=3)
    y = np.prod((np.abs(4 * x - 2) + a) / (1 + a), axis=1)
    v = 1 / (3 * (1 + a) ** 2)
    variance = np.prod(1 + v) - 1
    first, total = v / variance, v * np.prod(1 + v) / (1 + v) / variance
    found = saltelli_indices(y, 4, resamples=300)
    for kind, exact in (("first", first), ("total", total)):
        lower, upper = found[f"{kind}_interval"][:, :, 0]
        assert ((lower <= exact) & (exact <= upper)).all(), (kind, lower, exact, upper)


def test_several_output_columns_are_estimated_independently():
    y = ishigami_rows(256)
    both = saltelli_indices(np.column_stack([y, 2 * y**2]), 3, resamples=50)
    alone = saltelli_indices(2 * y**2, 3, resamples=50)
    np.testing.assert_allclose(both["first"][:, 1], alone["first"][:, 0], rtol=1e-12)
    np.testing.assert_allclose(both["total_interval"][..., 1], alone["total_interval"][..., 0], rtol=1e-12)


def test_bootstrap_in_chunks_gives_the_same_intervals(monkeypatch):
    """Resamples are drawn a few at a time so that memory stays bounded for any number
    of base samples; the intervals are those of drawing them all at once."""
    y = ishigami_rows(512)
    whole = saltelli_indices(y, 3, resamples=200)
    monkeypatch.setattr(saltelli_module, "BOOTSTRAP_ENTRIES", 512 * 7)  # 7 resamples per chunk
    chunked = saltelli_indices(y, 3, resamples=200)
    for key in ("first_interval", "total_interval"):
        np.testing.assert_allclose(chunked[key], whole[key], rtol=1e-12)  # same resamples; sums blocked differently
