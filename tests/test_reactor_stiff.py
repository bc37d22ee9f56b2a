"""The PFR near equilibrium: a fast reversible isomerisation beside a slow one, against a closed form and Radau.

A + * <=> B + * (fast, reversible, K from its reaction energy) and A + * -> C + * (slow,
irreversible) on a site that also holds H* from a fixed H2 pressure: theta* = 1 / (1 +
sqrt(p_H2)) stays fixed, so both rates are first order in the gas and the extents obey a
linear ODE whose solution is a matrix exponential. A reaches equilibrium with B within
the first thousandth of the bed and then follows C's slow formation: an explicit step
is limited by stability there, a Rosenbrock step only by accuracy.
"""

import numpy as np
import pytest
from scipy import constants
from scipy.integrate import solve_ivp
from scipy.linalg import expm

from uqms.chemistry.mechanism import Mechanism
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.rate_constants import RateConstants
from uqms.models.reactor.conditions import ReactorConditions
from uqms.models.reactor.cstr import solve_cstr
from uqms.models.reactor.pfr import integrate_pfr

T, P, Y_H2 = 600.0, 1.0, 0.01  # K, bar, inlet mole fraction of the spectator H2
FREE = 1.0 / (1.0 + np.sqrt(Y_H2 * P))  # theta*
BETA = constants.e / (constants.k * T)  # 1/eV
DG = np.array([0.02, -0.01, 0.05])  # eV, reaction energy of A -> B
K_FAST, K_SLOW, SITES = 1.0e3, 1.0, 3.0  # 1/(s bar), 1/(s bar), mol

MECHANISM = Mechanism.from_dict({
    "mechanism": {"name": "fast_and_slow", "products": ["C4H8_b", "C4H8_c"]},
    "gas": {g: {"mass": 56.1} for g in ("C4H8_a", "C4H8_b", "C4H8_c")} | {"H2": {"mass": 2.016}},
    "sites": {"s": {"adsorbates": ["H*"]}},
    "steps": [{"equation": "C4H8_a + * <=> C4H8_b + *", "reaction_energy": "dG", "barrier": 0.0, "prefactor": "k1"},
              {"equation": "C4H8_a + * <=> C4H8_c + *", "k": "k2", "reversible": False},
              {"equation": "H2 + 2* <=> 2H*", "reaction_energy": 0.0, "barrier": 0.0}],
})


def conditions() -> ReactorConditions:
    n = len(DG)
    k = rate_constants_at(MECHANISM, np.full(n, T), {"dG": DG, "k1": np.full(n, K_FAST), "k2": np.full(n, K_SLOW)})
    return ReactorConditions(MECHANISM, k, np.tile([1.0 - Y_H2, 0.0, 0.0, Y_H2], (n, 1)), P, SITES)


def closed_form(sites: float) -> np.ndarray:
    """Outlet mole fractions of A, B, C (samples, 3): dx/dw = M x + b for the extents x = (B made, C made)."""
    out = []
    for dg in DG:
        kf = K_FAST * np.exp(-max(dg, 0.0) * BETA) * FREE * P  # per mol/s of total flow (= 1)
        kr = kf * np.exp(dg * BETA)
        ks = K_SLOW * FREE * P
        a0 = 1.0 - Y_H2
        matrix = np.array([[-kf - kr, -kf], [-ks, -ks]])
        b = np.array([kf * a0, ks * a0])
        x = np.linalg.solve(matrix, (expm(matrix * sites) - np.eye(2)) @ b)
        out.append([a0 - x.sum(), x[0], x[1]])
    return np.array(out)


def test_the_mechanism_makes_two_reactions_one_of_them_reversible():
    c = conditions()
    assert c.reactions.equations == ("C4H8_a -> C4H8_b", "C4H8_a -> C4H8_c")
    np.testing.assert_allclose(c.log_k[:, 0], -DG * BETA, rtol=1e-12)
    assert np.all(np.isinf(c.log_k[:, 1]))


@pytest.mark.parametrize("method", ["explicit", "stiff", "auto"])
def test_stiff_bed_matches_the_closed_form(method):
    outlet = integrate_pfr(conditions(), rtol=1e-8, method=method, max_steps=20000)
    assert np.all(outlet.status == 0) and np.all(outlet.imbalance <= 1e-10)
    np.testing.assert_allclose(outlet.mole_fractions[:, :3], closed_form(SITES), rtol=1e-6, atol=0)


def test_rosenbrock_needs_fewer_surface_solves_than_the_explicit_pair_near_equilibrium():
    solves = {}
    for method in ("explicit", "stiff", "auto"):
        c = conditions()
        count, rates = [0], c.rates

        def counted(rows, extents, guess=None, count=count, rates=rates):
            count[0] += len(rows)
            return rates(rows, extents, guess)

        c.rates = counted
        assert np.all(integrate_pfr(c, rtol=1e-6, method=method, max_steps=20000).status == 0)
        solves[method] = count[0]
    assert solves["stiff"] < solves["explicit"] / 3
    assert solves["auto"] < solves["explicit"] / 3


def test_stiff_bed_matches_scipy_radau_with_the_surface_solved_at_every_point():
    c = conditions()
    outlet = integrate_pfr(c, rtol=1e-9, method="stiff", max_steps=20000)
    j = 2
    one = ReactorConditions(MECHANISM, RateConstants(c.rate_constants.forward[[j]], c.rate_constants.reverse[[j]]),
                            c.inlet[[j]], P, SITES)
    rows = np.array([0])
    reference = solve_ivp(lambda w, x: one.rates(rows, x[None])[0][0], (0.0, SITES), [0.0, 0.0], method="Radau",
                          rtol=1e-10, atol=1e-14).y[:, -1]
    np.testing.assert_allclose(outlet.extents[j], reference, rtol=1e-6)


def test_the_reversible_reaction_passes_its_equilibrium_only_as_the_exact_solution_does():
    """In the tank B is made only while A -> B runs forwards (Q/K <= 1). Along the bed, once A
    and B are equilibrated, C's slow formation drains A and B turns back into A: Q/K sits just
    above 1, by as much as in the closed form, and no more."""
    cstr = solve_cstr(conditions())
    assert np.all(cstr.status == 0)
    assert np.all(cstr.approach_to_equilibrium[:, 0] <= 1 + 1e-12)
    assert np.all(cstr.approach_to_equilibrium[:, 1] == 0.0)  # irreversible: K infinite
    pfr = integrate_pfr(conditions(), rtol=1e-8, max_steps=20000)
    exact = closed_form(SITES)
    exact_ratio = exact[:, 1] / exact[:, 0] * np.exp(DG * BETA)
    assert np.all(exact_ratio > 1)
    np.testing.assert_allclose(pfr.approach_to_equilibrium[:, 0], exact_ratio, rtol=1e-6)
