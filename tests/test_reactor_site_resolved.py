"""PFR on a site distribution: one site is reactor.pfr, several sites integrate the site-weighted rate."""

from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from uqms.inputs.sites import SiteDistribution
from uqms.models.energetics.stage import MechanismEnergies
from uqms.models.reactor.site_resolved import SiteResolvedPFRStage
from uqms.models.reactor.stages import PFRStage

MECHANISM = str(Path(__file__).resolve().parents[1] / "workflows" / "ammonia_mechanism.toml")
OPTIONS = {"mechanism_file": MECHANISM, "inlet": {"N2": "F_N2", "H2": "F_H2"}, "temperature": "T", "pressure": "p",
               "sites": "sites", "reactant": "N2"}
TWO_SITES = SiteDistribution.discrete(["step", "kink"], [0.7, 0.3], [0.25, -0.35])  # eV shifts


def batch(e_n: np.ndarray, sites: float = 1.0e6) -> dict[str, np.ndarray]:
    n = len(e_n)
    values = {"n2_ts_intercept": 1.56, "T": 673.0, "p": 100.0, "F_N2": 0.25, "F_H2": 0.75, "sites": sites}
    return {"E_N": np.asarray(e_n, dtype=float), **{k: np.full(n, v) for k, v in values.items()}}


def plain_pfr(b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return PFRStage(**OPTIONS)({**b, **MechanismEnergies(mechanism_file=MECHANISM)(b)})


def test_one_site_without_shift_is_the_plain_pfr():
    b = batch(np.linspace(-1.4, 0.4, 7))
    one = SiteResolvedPFRStage(SiteDistribution.discrete(["all"], [1.0], [0.0]), "E_N", **OPTIONS)(b)
    plain = plain_pfr(b)
    assert np.all(one["status"] == 0) and np.all(plain["status"] == 0)
    assert np.allclose(one["mole_fraction"], plain["mole_fraction"], rtol=1e-10, atol=1e-14)


def test_two_sites_integrate_the_site_weighted_rate():
    e_n = np.array([-1.0, 0.0])
    stage = SiteResolvedPFRStage(TWO_SITES, "E_N", **OPTIONS)
    assert stage.inputs == ("E_N", "n2_ts_intercept", "T", "p", "F_N2", "F_H2", "sites")
    result = stage(batch(e_n))
    assert np.all(result["status"] == 0)
    # the same bed integrated by scipy, one sample at a time, with each site type as its own plain PFR surface
    per_site = [PFRStage(**OPTIONS).conditions({**b, **MechanismEnergies(mechanism_file=MECHANISM)(b)})
                for b in (batch(e_n + shift) for shift in TWO_SITES.shifts({}, 1)[0])]
    nh3 = list(stage.output_coords["gas"]).index("NH3")
    for i in range(len(e_n)):
        def rate(_, x, i=i):
            rows = np.array([i])
            return [sum(w * c.rates(rows, x[None])[0][0, 0] for w, c in zip(TWO_SITES.weights, per_site))]

        high = per_site[0].equilibrium[i, 0]
        extent = solve_ivp(rate, (0.0, 1.0e6), [0.0], method="LSODA", rtol=1e-6, atol=1e-12).y[0, -1]
        extent = min(extent, high)
        assert result["mole_fraction"][i, nh3] == pytest.approx(2 * extent / (1.0 - 2 * extent), rel=1e-3)


def test_the_site_mixture_differs_from_its_mean_site():
    e_n = np.array([-0.6])
    mixed = SiteResolvedPFRStage(TWO_SITES, "E_N", **OPTIONS)(batch(e_n, sites=1.0e3))["conversion"][0]
    mean_site = plain_pfr(batch(e_n + TWO_SITES.weights @ TWO_SITES.coordinates, sites=1.0e3))["conversion"][0]
    step, kink = (plain_pfr(batch(e_n + shift, sites=1.0e3))["conversion"][0] for shift in TWO_SITES.coordinates)
    # the mixed rate lies between the two site types' rates at every composition, so its
    # conversion lies between theirs; the site at the mean energy converts far more than
    # the mixture
    assert kink < mixed < step
    assert mean_site > 1.3 * mixed


def test_uncertain_site_spread_is_an_input_and_bad_options_are_refused():
    spread = SiteResolvedPFRStage({"kind": "normal", "sigma": "sigma_sites", "points": 4}, "E_N", **OPTIONS)
    assert "sigma_sites" in spread.inputs
    b = batch(np.array([-0.6, -0.6]))
    b["sigma_sites"] = np.array([0.01, 0.3])
    out = spread(b)
    assert np.all(out["status"] == 0) and out["conversion"][0] != pytest.approx(out["conversion"][1], rel=1e-3)
    with pytest.raises(ValueError, match="descriptor"):
        SiteResolvedPFRStage(TWO_SITES, "E_O", **OPTIONS)
    with pytest.raises(TypeError, match="surrogate"):
        SiteResolvedPFRStage(TWO_SITES, "E_N", surrogate=True, **OPTIONS)
