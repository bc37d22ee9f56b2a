"""Shapley effects from given data: Gaussian closed forms (subset values by Gaussian conditioning, Shapley
weights by permutations), Ishigami, a discrete input, and refused input."""

from itertools import permutations

import numpy as np
import pytest

from uqms.analysis.shapley import shapley_effects, shapley_from_subsets, subset_values
from uqms.test_functions import ishigami

SIGMA = np.array([1.0, 1.5, 2.0])
RHO = 0.6


def gaussian_covariance(sd=SIGMA, rho=RHO):
    covariance = np.diag(sd**2)
    covariance[1, 2] = covariance[2, 1] = rho * sd[1] * sd[2]
    return covariance


def gaussian_subset_values(b, covariance):
    """Var(E[b.X | X_u]) / Var(b.X) for every subset u (bit j = input j), X ~ N(0, covariance)."""
    d = len(b)
    values = np.zeros(2**d)
    for subset in range(1, 2**d):
        u = [j for j in range(d) if subset >> j & 1]
        cross = covariance[u] @ b  # Cov(X_u, Y)
        values[subset] = cross @ np.linalg.solve(covariance[np.ix_(u, u)], cross)
    return values / (b @ covariance @ b)


def shapley_by_permutations(values):
    """Owen (2014): the mean over all orderings of each input's marginal contribution."""
    d = int(np.log2(len(values)))
    effects = np.zeros(d)
    orderings = list(permutations(range(d)))
    for ordering in orderings:
        before = 0
        for i in ordering:
            effects[i] += values[before | 1 << i] - values[before]
            before |= 1 << i
    return effects / len(orderings)


def test_the_closed_form_of_owen_and_prieur_is_the_shapley_value_of_gaussian_conditioning():
    v = SIGMA[0] ** 2 + SIGMA[1] ** 2 + SIGMA[2] ** 2 + 2 * RHO * SIGMA[1] * SIGMA[2]
    s1, s2, s3 = SIGMA**2
    closed = np.array([s1, s2 + RHO * SIGMA[1] * SIGMA[2] + RHO**2 * (s3 - s2) / 2,
                       s3 + RHO * SIGMA[1] * SIGMA[2] + RHO**2 * (s2 - s3) / 2]) / v
    values = gaussian_subset_values(np.ones(3), gaussian_covariance())
    np.testing.assert_allclose(shapley_by_permutations(values), closed, atol=1e-12)
    np.testing.assert_allclose(shapley_from_subsets(values)[:, 0], closed, atol=1e-12)


def test_correlated_gaussian_subset_values_and_effects_at_5000_rows():
    covariance = gaussian_covariance()
    x = np.random.default_rng(1).multivariate_normal(np.zeros(3), covariance, size=5000)
    exact = gaussian_subset_values(np.ones(3), covariance)
    found = subset_values(x, x.sum(axis=1))[:, 0]
    assert np.abs(found - exact).max() < 0.03, (found, exact)  # 20 seeds: median 0.012, max 0.025
    effects = shapley_effects(x, x.sum(axis=1))[:, 0]
    assert np.abs(effects - shapley_by_permutations(exact)).max() < 0.015, effects  # 20 seeds: max 0.011


def test_four_inputs_with_two_correlated_pairs_and_a_non_additive_weighting():
    sd = np.array([1.0, 0.5, 2.0, 1.0])
    corr = np.array([[1, -0.5, 0, 0], [-0.5, 1, 0, 0], [0, 0, 1, 0.8], [0, 0, 0.8, 1]])
    covariance = corr * np.outer(sd, sd)
    b = np.array([1.0, 3.0, 0.5, -1.0])
    x = np.random.default_rng(4).multivariate_normal(np.zeros(4), covariance, size=5000)
    exact = shapley_by_permutations(gaussian_subset_values(b, covariance))
    effects = shapley_effects(x, x @ b)[:, 0]
    assert np.abs(effects - exact).max() < 0.025, (effects, exact)  # 20 seeds: median 0.012, max 0.018


def test_ishigami_effects_share_the_x1_x3_interaction_equally_and_lie_between_first_and_total():
    """Independent inputs: Sh_1 = S_1 + S_13 / 2, Sh_2 = S_2, Sh_3 = S_13 / 2, and S_i <= Sh_i <= ST_i."""
    first, total = ishigami.sobol_indices()
    exact = np.array([first[0] + total[2] / 2, first[1], total[2] / 2])
    x = np.random.default_rng(2).uniform(-np.pi, np.pi, size=(5000, 3))
    y = np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])
    effects = shapley_effects(x, y)[:, 0]
    assert np.abs(effects - exact).max() < 0.025, (effects, exact)  # 20 seeds: median 0.011, max 0.021
    assert (first - 0.02 <= effects).all() and (effects <= total + 0.02).all()


def test_a_discrete_member_input_is_conditioned_on_its_ties():
    """Y = f(member) + Z, independent: Sh_member = S_member = Var f / (Var f + 1)."""
    rng = np.random.default_rng(3)
    f = rng.normal(size=50)
    member = rng.integers(50, size=5000)
    z = rng.normal(size=5000)
    effects = shapley_effects(np.column_stack([member, z]), f[member] + z)[:, 0]
    exact = np.array([f.var(), 1.0]) / (f.var() + 1.0)
    assert np.abs(effects - exact).max() < 0.02, (effects, exact)


def test_effects_of_every_output_sum_to_one_and_are_estimated_column_by_column():
    x = np.random.default_rng(5).random((3000, 4))
    y = np.column_stack([x @ [1, 2, 3, 4], x[:, 0] * x[:, 1] + np.sin(5 * x[:, 2]), np.exp(x[:, 3])])
    effects = shapley_effects(x, y, max_samples=2000)
    assert effects.shape == (4, 3)
    np.testing.assert_allclose(effects.sum(axis=0), 1.0, atol=1e-12)
    np.testing.assert_allclose(effects[:, 1], shapley_effects(x, y[:, 1], max_samples=2000)[:, 0], atol=1e-12)
    assert subset_values(x, y, max_samples=2000).shape == (16, 3)
    constant = shapley_effects(x, np.column_stack([y[:, 0], np.ones(len(x))]), max_samples=2000)
    assert np.isfinite(constant[:, 0]).all() and np.isnan(constant[:, 1]).all()


def test_too_many_inputs_refused_with_the_reason():
    x = np.random.default_rng(6).random((100, 11))
    with pytest.raises(ValueError, match=r"11 inputs need 2\^11 = 2048 subsets.*max_inputs=10"):
        shapley_effects(x, x.sum(axis=1))


def test_nan_rows_refused():
    x = np.random.default_rng(7).random((100, 2))
    y = x.sum(axis=1)
    y[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        shapley_effects(x, y)
