"""Polynomial chaos: fits, leave-one-out error, order choice and Sobol indices from coefficients."""

import chaospy
import numpy as np
import pytest

from uqms.analysis import pce, sobol_pce
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
