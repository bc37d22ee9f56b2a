"""Polynomial chaos: fits, leave-one-out error, order choice and Sobol indices from coefficients."""

import chaospy
import numpy as np
import pytest

from uqms.analysis import pce, sobol_pce
from uqms.analysis.lars import lars_ols
from uqms.test_functions import ishigami


def uniform_joint(d, lower=-np.pi, upper=np.pi):
    return chaospy.J(*(chaospy.Uniform(lower, upper) for _ in range(d)))


def ishigami_y(x):
    return np.sin(x[0]) + 7 * np.sin(x[1]) ** 2 + 0.1 * x[2] ** 4 * np.sin(x[0])


def sobol_g(x, a):
    return np.prod((np.abs(4 * x - 2) + a[:, None]) / (1 + a[:, None]), axis=0)


def sobol_g_indices(a):
    """Analytic first and total indices of the Sobol G-function (Saltelli & Sobol' 1995)."""
    v = 1 / (3 * (1 + a) ** 2)
    total_variance = np.prod(1 + v) - 1
    return v / total_variance, v * np.prod(1 + v) / (1 + v) / total_variance


def test_ishigami_by_regression_with_order_chosen_by_loo_within_1e_3():
    joint = uniform_joint(3)
    x = joint.sample(2048, rule="sobol", seed=3)
    fit, errors = pce.choose_order(x, ishigami_y(x), joint, range(1, 13))
    first, total = ishigami.sobol_indices()
    found = sobol_pce.indices(fit)
    assert fit.order >= 9 and errors[fit.order] == min(errors.values()) and errors[fit.order] < 1e-4
    np.testing.assert_allclose(found["first"][:, 0], first, atol=1e-3)
    np.testing.assert_allclose(found["total"][:, 0], total, atol=1e-3)
    np.testing.assert_allclose(fit.mean, ishigami.mean(), atol=1e-3)
    np.testing.assert_allclose(fit.variance, ishigami.variance(), rtol=1e-3)
    # the Ishigami function has one interaction, x1-x3
    assert found["second"][0, 2, 0] == pytest.approx(total[2], abs=1e-3)
    assert abs(found["second"][0, 1, 0]) < 1e-4


def test_ishigami_by_sparse_quadrature_within_1e_3():
    fit = pce.fit_quadrature(ishigami_y, uniform_joint(3), 9, sparse=True)
    first, total = ishigami.sobol_indices()
    found = sobol_pce.indices(fit)
    np.testing.assert_allclose(found["first"][:, 0], first, atol=1e-3)
    np.testing.assert_allclose(found["total"][:, 0], total, atol=1e-3)


@pytest.mark.parametrize("a", [np.array([0.0, 1.0, 4.5, 9.0]), np.array([0.5, 2.0, 99.0, 99.0])])
def test_sobol_g_function_against_its_analytic_indices(a):
    joint = uniform_joint(4, 0.0, 1.0)
    x = joint.sample(4096, rule="sobol", seed=1)
    fit = pce.fit_regression(x, sobol_g(x, a), joint, 8)
    first, total = sobol_g_indices(a)
    found = sobol_pce.indices(fit)
    np.testing.assert_allclose(found["first"][:, 0], first, atol=2e-3)
    np.testing.assert_allclose(found["total"][:, 0], total, atol=2e-3)


def test_indices_from_coefficients_equal_chaospy_sens_m_and_sens_t():
    joint = chaospy.J(chaospy.Normal(1, 2), chaospy.Uniform(0, 3))
    basis, multi_indices = pce.orthonormal_basis(joint, 3)
    coefficients = np.random.default_rng(0).normal(size=(len(basis), 2))
    polynomial = chaospy.sum(basis[:, None] * coefficients, axis=0)
    np.testing.assert_allclose(sobol_pce.first_order(coefficients, multi_indices), chaospy.Sens_m(polynomial, joint), atol=1e-10)
    np.testing.assert_allclose(sobol_pce.total_order(coefficients, multi_indices), chaospy.Sens_t(polynomial, joint), atol=1e-10)


def test_multi_indices_are_the_terms_of_the_basis():
    joint = uniform_joint(3)
    basis, multi_indices = pce.orthonormal_basis(joint, 4)
    expected = chaospy.glexindex(0, 5, dimensions=3, graded=True, reverse=True)
    np.testing.assert_array_equal(multi_indices, expected)
    x = joint.sample(50, seed=2)
    np.testing.assert_allclose(pce.design_matrix(joint, multi_indices, x), np.asarray(basis(*x)).T, atol=1e-10)


def test_closed_form_loo_equals_refitting_without_each_sample():
    joint = uniform_joint(2)
    x = joint.sample(40, seed=4)
    y = np.exp(x[0] / 3) * np.cos(x[1])
    fit = pce.fit_regression(x, y, joint, 3)
    psi = pce.design_matrix(joint, fit.multi_indices, x)
    residuals = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        coefficients = np.linalg.lstsq(psi[keep], y[keep], rcond=None)[0]
        residuals.append(y[i] - psi[i] @ coefficients)
    assert fit.loo[0] == pytest.approx(np.mean(np.square(residuals)) / y.var(), rel=1e-8)


def test_choose_order_finds_the_degree_of_a_polynomial_model():
    joint = chaospy.J(chaospy.Normal(0, 1), chaospy.Uniform(-1, 1))
    x = joint.sample(200, seed=5)
    y = x[0] ** 3 - 2 * x[0] * x[1] + x[1] ** 2
    fit, errors = pce.choose_order(x, y, joint, range(1, 7))
    assert errors[2] > 1e-3 and errors[3] < 1e-20
    assert fit.order >= 3 and fit.loo[0] < 1e-20
    with pytest.raises(ValueError, match="too few"):
        pce.choose_order(x[:, :2], y[:2], joint, range(1, 3))


def test_grouped_index_of_a_group_equals_the_index_of_one_input_replacing_it():
    # u = x1 + x2 with x1, x2 ~ N(0, 1) has the distribution of u ~ N(0, sqrt 2): the group {x1, x2}
    # in f(x1 + x2, x3) must carry the indices of u in f(u, x3)
    def f(u, x3):
        return u + u**2 * x3 + 0.5 * x3**2 + np.sin(x3)

    grouped_joint = chaospy.J(chaospy.Normal(0, 1), chaospy.Normal(0, 1), chaospy.Uniform(-1, 1))
    single_joint = chaospy.J(chaospy.Normal(0, np.sqrt(2)), chaospy.Uniform(-1, 1))
    x = grouped_joint.sample(600, rule="sobol", seed=6)
    grouped_fit = pce.fit_regression(x, f(x[0] + x[1], x[2]), grouped_joint, 7)
    single_fit = pce.fit_regression(x[[0, 2]] * [[np.sqrt(2)], [1]], f(np.sqrt(2) * x[0], x[2]), single_joint, 7)
    closed, total = sobol_pce.grouped(grouped_fit.coefficients, grouped_fit.multi_indices, [[0, 1], [2]])
    np.testing.assert_allclose(closed[:, 0], sobol_pce.first_order(single_fit.coefficients, single_fit.multi_indices)[:, 0], atol=1e-6)
    np.testing.assert_allclose(total[:, 0], sobol_pce.total_order(single_fit.coefficients, single_fit.multi_indices)[:, 0], atol=1e-6)
    # a group of one input is that input
    first = sobol_pce.first_order(grouped_fit.coefficients, grouped_fit.multi_indices)
    assert closed[1, 0] == pytest.approx(first[2, 0], abs=1e-14)


def test_multi_index_sets_total_degree_and_hyperbolic():
    total = pce.multi_index_set(4, 5)
    assert sorted(map(tuple, total)) == sorted(map(tuple, chaospy.glexindex(0, 6, dimensions=4)))
    assert pce.term_count(4, 5) == len(total) == 126 and (np.diff(total.sum(axis=1)) >= 0).all()
    # q < 1 keeps the total-degree terms of q-norm within the order, sorted by q-norm
    full = pce.multi_index_set(4, 6)
    kept = full[((full**0.5).sum(axis=1) ** 2 <= 6 + 1e-9)]
    hyperbolic = pce.multi_index_set(4, 6, q=0.5)
    assert sorted(map(tuple, hyperbolic)) == sorted(map(tuple, kept)) and pce.term_count(4, 6, 0.5) == len(kept)
    norms = (hyperbolic**0.5).sum(axis=1) ** 2
    assert (np.diff(norms) > -1e-9).all()


def test_sparse_ishigami_within_1e_4_on_500_samples():
    joint = uniform_joint(3)
    x = joint.sample(500, rule="sobol", seed=1)
    fit = pce.fit_sparse(x, ishigami_y(x), joint, max_order=10)
    first, total = ishigami.sobol_indices()
    found = sobol_pce.indices(fit)
    np.testing.assert_allclose(found["first"][:, 0], first, atol=1e-4)
    np.testing.assert_allclose(found["total"][:, 0], total, atol=1e-4)
    # far fewer terms than the 286 of the full order-10 basis, which 500 samples could not support well
    assert fit.order == 10 and len(fit.coefficients) < 100 and fit.loo[0] < 1e-5
    assert list(fit.search.loo) == list(range(1, 11)) and fit.search.candidates[10] == 286


def test_sparse_sobol_g_function_within_3e_3():
    # the kinks of |4 x - 2| converge slowly: 1000 samples and order 10 give ~2e-3 (the dense
    # order-8 fit above needs 4096 samples for 2e-3)
    a = np.array([0.0, 1.0, 4.5, 9.0])
    joint = uniform_joint(4, 0.0, 1.0)
    x = joint.sample(1000, rule="sobol", seed=1)
    fit = pce.fit_sparse(x, sobol_g(x, a), joint, max_order=10)
    first, total = sobol_g_indices(a)
    found = sobol_pce.indices(fit)
    np.testing.assert_allclose(found["first"][:, 0], first, atol=3e-3)
    np.testing.assert_allclose(found["total"][:, 0], total, atol=3e-3)


def test_sparse_order_search_stays_within_its_memory_budget():
    a = np.array([0.0, 1.0, 4.5, 9.0, 99.0, 99.0, 99.0, 99.0])
    joint = uniform_joint(8, 0.0, 1.0)
    x = joint.sample(1024, rule="sobol", seed=2)
    budget = 24 * 2**20
    fit = pce.fit_sparse(x, sobol_g(x, a), joint, memory_budget=budget)
    cap = fit.search.cap
    assert cap == pce.order_cap(8, 1024, budget) == 4  # chaospy's full basis would have gone to order 10: 43 758 terms
    assert max(fit.search.candidates.values()) <= pce.term_count(8, cap) == 495
    assert pce.sparse_bytes(1024, pce.term_count(8, cap), 8) <= budget < pce.sparse_bytes(1024, pce.term_count(8, cap + 1), 8)
    assert max(fit.search.loo) <= cap and fit.loo[0] < 0.05
    with pytest.raises(ValueError, match="too few"):
        pce.fit_sparse(x[:, :3], sobol_g(x[:, :3], a), joint)


def test_exactly_sparse_model_recovered_where_a_dense_fit_is_impossible():
    joint = uniform_joint(10, -1.0, 1.0)

    def model(x):
        return x[0] ** 5 - 2 * x[3] * x[7] ** 2 + 0.5 * x[1] * x[2] * x[9] + x[4] - 3 * x[5] ** 2 * x[6] ** 3

    x = joint.sample(400, rule="sobol", seed=2)
    with pytest.raises(ValueError, match="3003 basis terms"):
        pce.fit_regression(x, model(x), joint, 5)
    fit = pce.fit_sparse(x, model(x), joint)
    assert fit.order == 5 and fit.loo[0] < 1e-20 and fit.search.candidates[5] == 3003
    # the Legendre terms of the five monomials: x^5 -> P5, P3, P1; x y^2 -> P1 P2, P1; x y z; x; x^2 y^3 -> (P2, P0) x (P3, P1)
    # (LARS may let in a few other terms before the last true one: their OLS coefficients are round-off)
    significant = np.abs(fit.coefficients[1:, 0]) > 1e-12
    assert significant.sum() == 3 + 2 + 1 + 1 + 4 and len(fit.coefficients) < 20
    check = joint.sample(200, seed=3)
    np.testing.assert_allclose(fit(check)[:, 0], model(check), atol=1e-10)


def test_sparse_fit_of_several_outputs_on_the_union_of_their_supports():
    joint = uniform_joint(3, -1.0, 1.0)
    x = joint.sample(200, rule="sobol", seed=4)
    y = np.stack([x[0] ** 3, x[1] * x[2], np.full(200, 2.0)], axis=1)
    fit = pce.fit_sparse(x, y, joint, max_order=4)
    terms = {tuple(index) for index in fit.multi_indices}
    assert terms == {(0, 0, 0), (1, 0, 0), (3, 0, 0), (0, 1, 1)}
    check = joint.sample(50, seed=5)
    np.testing.assert_allclose(fit(check), np.stack([check[0] ** 3, check[1] * check[2], np.full(50, 2.0)], axis=1), atol=1e-10)
    assert fit.loo[0] < 1e-20 and fit.loo[1] < 1e-20 and np.isnan(fit.loo[2])
    # each column is zero outside its own support
    assert (fit.coefficients[[tuple(index) == (0, 1, 1) for index in fit.multi_indices], 0] == 0).all()


@pytest.mark.parametrize("chapelle", [False, True])
def test_lars_ols_loo_equals_refitting_its_prefix_without_each_sample(chapelle):
    joint = uniform_joint(3)
    x = joint.sample(60, seed=6)
    y = ishigami_y(x)
    psi = pce.design_matrix(joint, pce.multi_index_set(3, 4), x)
    kept, coefficients, loo = lars_ols(psi, y, chapelle)
    chosen = psi[:, kept]
    np.testing.assert_allclose(coefficients, np.linalg.lstsq(chosen, y, rcond=None)[0], rtol=1e-9, atol=1e-12)
    residuals = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        residuals.append(y[i] - chosen[i] @ np.linalg.lstsq(chosen[keep], y[keep], rcond=None)[0])
    brute = np.mean(np.square(residuals)) / y.var()
    if chapelle:
        n, k = chosen.shape
        brute *= n / (n - k) * (1 + np.trace(np.linalg.inv(chosen.T @ chosen)))
    assert 1 < len(kept) < len(psi[0]) and kept[0] == 0
    assert loo == pytest.approx(brute, rel=1e-8)


def test_bootstrap_intervals_of_sparse_pce_indices_cover_the_truth_and_shrink_with_samples():
    """Bootstrap PCE (the kept terms refitted on resampled rows): the intervals of the Ishigami
    indices cover the closed form, and quadrupling the samples roughly halves their width."""
    from uqms.analysis.sobol import pce_intervals

    first, total = ishigami.sobol_indices()
    widths = []
    for n in (300, 1200):
        x = uniform_joint(3).sample(n, rule="random", seed=n)
        fit = pce.fit_sparse(x, ishigami_y(x), uniform_joint(3), 10)
        low_high_first, low_high_total = pce_intervals(fit, x, ishigami_y(x), resamples=200, confidence=0.99)
        assert (low_high_first[0, :, 0] - 2e-3 <= first).all() and (first <= low_high_first[1, :, 0] + 2e-3).all()
        assert (low_high_total[0, :, 0] - 2e-3 <= total).all() and (total <= low_high_total[1, :, 0] + 2e-3).all()
        widths.append(np.ptp(low_high_total[:, :, 0], axis=0).max())
    assert 0 < widths[1] < 0.7 * widths[0]


def test_bootstrap_refits_keep_the_terms_and_centre_on_the_fit():
    x = uniform_joint(3).sample(400, rule="random", seed=1)
    y = np.column_stack([ishigami_y(x), np.sin(x[0])])
    fit = pce.fit_sparse(x, y, uniform_joint(3), 8)
    draws = pce.bootstrap_coefficients(fit, x, y, resamples=50, seed=0)
    assert draws.shape == (50, *fit.coefficients.shape)
    assert ((draws != 0) <= (fit.coefficients != 0) | (np.arange(len(fit.coefficients)) == 0)[:, None]).all()  # terms kept fixed
    np.testing.assert_allclose(draws.mean(axis=0), fit.coefficients, atol=0.05 * np.abs(fit.coefficients).max())
