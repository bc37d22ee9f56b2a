"""Site distributions: lists of site types, normal shifts by quadrature or sampling, nanoparticles."""

import numpy as np
import pytest

from uqms.inputs.sites import SiteDistribution, site_distribution

KT = 8.617333262e-5 * 673.0  # eV


def _lognormal_mean(energy, sigma):
    # E ~ N(energy, sigma^2)  =>  exp(-E/kT) is log-normal with mean exp(-energy/kT + sigma^2 / (2 kT^2))
    return np.exp(-energy / KT + sigma**2 / (2 * KT**2))


@pytest.mark.parametrize("sigma", [0.05, 0.1, 0.2])
def test_gauss_hermite_average_of_boltzmann_factor_matches_lognormal_mean(sigma):
    sites = SiteDistribution.normal(sigma, points=40)
    energy = np.array([-0.3, 0.0, 0.25])
    shifts = sites.shifts({}, 3)
    average = (sites.weights * np.exp(-(energy[:, None] + shifts) / KT)).sum(axis=1)
    np.testing.assert_allclose(average, _lognormal_mean(energy, sigma), rtol=1e-10)


def test_few_gauss_hermite_points_are_not_enough_for_a_wide_distribution():
    # a check that the comparison above can fail: 3 nodes miss the tail at sigma = 0.2 eV
    sites = SiteDistribution.normal(0.2, points=3)
    average = (sites.weights * np.exp(-sites.shifts({}, 1) / KT)).sum()
    assert abs(average / _lognormal_mean(0.0, 0.2) - 1) > 0.1


def test_sampled_shifts_converge_to_the_same_mean():
    sigma, points = 0.05, 20000
    sites = SiteDistribution.normal(sigma, points=points, method="sampled", seed=7)
    values = np.exp(-sites.shifts({}, 1)[0] / KT)
    error = values.std() / np.sqrt(points)
    assert abs(values @ sites.weights - _lognormal_mean(0.0, sigma)) < 4 * error
    np.testing.assert_allclose(sites.weights, 1 / points)


def test_uncertain_spread_is_read_from_the_batch():
    sites = SiteDistribution.normal("sigma_sites", points=5)
    assert sites.inputs == ("sigma_sites",)
    shifts = sites.shifts({"sigma_sites": np.array([0.1, 0.3])}, 2)
    nodes = np.polynomial.hermite_e.hermegauss(5)[0]
    np.testing.assert_allclose(shifts, np.outer([0.1, 0.3], nodes))


def test_discrete_site_types_from_a_list():
    sites = site_distribution({"kind": "discrete", "labels": ["step", "terrace"], "weights": [1, 9], "shifts": [0.0, 0.35]})
    np.testing.assert_allclose(sites.weights, [0.1, 0.9])
    np.testing.assert_allclose(sites.shifts({}, 2), [[0.0, 0.35], [0.0, 0.35]])
    assert sites.inputs == ()


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"kind": "normal", "sigma": -0.1}, "sigma must be positive"),
        ({"kind": "normal", "sigma": 0.1, "method": "simpson"}, "unknown method"),
        ({"kind": "discrete", "labels": ["a", "a"], "weights": [1, 1], "shifts": [0, 1]}, "distinct"),
        ({"kind": "discrete", "labels": ["a", "b"], "weights": [1, 0], "shifts": [0, 1]}, "positive"),
        ({"kind": "discrete", "labels": ["a", "b"], "weights": [1], "shifts": [0, 1]}, "one length"),
        ({"kind": "discrete", "labels": ["a"], "weights": [1], "shifts": [0], "sigma": 1}, "unexpected keyword"),
        ({"kind": "hexagon"}, "sites.kind must be one of"),
    ],
)
def test_bad_site_distributions_are_refused(spec, message):
    with pytest.raises(ValueError, match=message):
        site_distribution(spec)


def test_nanoparticle_sites_shift_with_an_uncertain_slope():
    sites = SiteDistribution.nanoparticle("Pt", "cuboctahedron", 5, slope="gcn_slope", gcn_ref=7.5)
    assert sites.inputs == ("gcn_slope",)
    assert sites.labels[0] == "CN5_GCN3.333"
    assert sites.weights[0] == pytest.approx(12 / 162)  # 12 corners of 162 surface atoms
    shifts = sites.shifts({"gcn_slope": np.array([0.19, 0.0])}, 2)
    assert shifts[0, 0] == pytest.approx(0.19 * (40 / 12 - 7.5))
    np.testing.assert_allclose(shifts[1], 0.0)
