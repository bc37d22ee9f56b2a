"""Reactors with two products against Cantera: a CSTR at steady state and a PFR as the limit of a CSTR chain.

The mechanism (rate constants given directly, so no thermochemical convention enters)
isomerises CO_a on the surface into two products along two branches; CO_b's desorption
is reversible, CO_c's is not. Cantera's input is written by tests/cantera_surfaces.py (as for
tests/test_microkinetics_given_rates.py): rate constants per site, adsorption ones per
gas concentration, each reverse reaction one of its own. Cantera's PFR here is a chain of N of its own CSTRs (steady state of an
``IdealGasReactor`` with a surface, fed by the previous one); its error falls as 1/N, so
the chains of 100 and 200 reactors are Richardson-extrapolated (error O(1/N^2)).
"""

import functools

import cantera as ct  # in the test extras
import numpy as np
import pytest

from tests.cantera_surfaces import co_isomer_surface, per_bar
from uqms.chemistry.mechanism import Mechanism
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.reactor.conditions import ReactorConditions
from uqms.models.reactor.cstr import solve_cstr
from uqms.models.reactor.pfr import integrate_pfr

T, P = 500.0, 1.0  # K, bar
K = {"k1": 40.0, "km1": 7.0, "k2": 3.0, "km2": 1.5, "k3": 2.0, "km3": 0.8, "k4": 0.9, "km4": 0.4, "k5": 1.2}
MECHANISM = Mechanism.from_dict({
    "mechanism": {"name": "two_products", "products": ["CO_b", "CO_c"]},
    "gas": {g: {"mass": 28.0} for g in ("CO_a", "CO_b", "CO_c")},
    "sites": {"s": {"adsorbates": ["CO*", "CO*b", "CO*c"]}},
    "steps": [{"equation": "CO_a + * <=> CO*", "k": K["k1"], "k_reverse": K["km1"]},
              {"equation": "CO* <=> CO*b", "k": K["k2"], "k_reverse": K["km2"]},
              {"equation": "CO*b <=> CO_b + *", "k": K["k3"], "k_reverse": K["km3"]},
              {"equation": "CO* <=> CO*c", "k": K["k4"], "k_reverse": K["km4"]},
              {"equation": "CO*c <=> CO_c + *", "k": K["k5"], "reversible": False}],
})
FEED = [1.0, 0.0, 0.0]  # mol/s
SITES = np.array([0.05, 0.5, 2.0])  # mol


# each step and each reverse, one way (K: the per-site rate constants)
REACTIONS = [("COA + PT(S) => CO(S)", "k1"), ("CO(S) => COA + PT(S)", "km1"), ("CO(S) => COB(S)", "k2"),
             ("COB(S) => CO(S)", "km2"), ("COB(S) => COB + PT(S)", "k3"), ("COB + PT(S) => COB(S)", "km3"),
             ("CO(S) => COC(S)", "k4"), ("COC(S) => CO(S)", "km4"), ("COC(S) => COC + PT(S)", "k5")]
ADSORPTIONS = ("k1", "km3")  # per bar in K, per kmol/m^3 in Cantera


def cantera_cstr(composition: dict, sites: float) -> dict:
    """Outlet mole fractions of Cantera's isothermal CSTR holding ``sites`` mol of sites, fed 1 mol/s."""
    reactions = [(equation, K[k] / (per_bar(T) if k in ADSORPTIONS else 1.0), 0, 0) for equation, k in REACTIONS]
    surf = ct.Interface(yaml=co_isomer_surface(T, P * 1e5, ["COA", "COB", "COC"], ["CO(S)", "COB(S)", "COC(S)"],
                                               reactions), name="surf")
    gas = surf.adjacent["gas"]
    gas.TPX = T, P * 1e5, composition
    reactor = ct.IdealGasReactor(gas, energy="off", volume=1e-6, clone=False)
    ct.ReactorSurface(surf, reactor, A=sites / 1000.0, clone=False)  # m^2 at 1 kmol/m^2
    inlet, outlet = ct.Reservoir(gas, clone=False), ct.Reservoir(gas, clone=False)
    feed = ct.MassFlowController(inlet, reactor, mdot=gas.mean_molecular_weight / 1000.0)  # 1 mol/s
    ct.PressureController(reactor, outlet, primary=feed, K=1e-6)
    net = ct.ReactorNet([reactor])
    net.rtol, net.atol = 1e-12, 1e-20
    net.advance_to_steady_state()
    return dict(zip(gas.species_names, reactor.phase.X))


@functools.cache
def cantera_chain(sites: float, count: int) -> np.ndarray:
    composition = {"COA": 1.0}
    for _ in range(count):
        composition = cantera_cstr(composition, sites / count)
    return np.array([composition["COA"], composition["COB"], composition["COC"]])


def conditions() -> ReactorConditions:
    n = len(SITES)
    return ReactorConditions(MECHANISM, rate_constants_at(MECHANISM, np.full(n, T), {}), np.tile(FEED, (n, 1)), P,
                             SITES)


def test_two_product_cstr_matches_cantera_at_steady_state():
    outlet = solve_cstr(conditions())
    assert np.all(outlet.status == 0) and np.all(outlet.imbalance <= 1e-10)
    reference = np.array([[x[s] for s in ("COA", "COB", "COC")] for x in (cantera_cstr({"COA": 1.0}, w) for w in SITES)])
    np.testing.assert_allclose(outlet.mole_fractions, reference, rtol=0, atol=1e-8)
    assert np.all(np.diff(outlet.selectivity("CO_b", "CO_a")) < 0)  # CO_b's desorption turns back as it builds up


@pytest.mark.parametrize("method, rtol", [("explicit", 1e-10), ("auto", 1e-10), ("stiff", 1e-7)])
def test_two_product_pfr_matches_the_limit_of_a_cantera_cstr_chain(method, rtol):
    outlet = integrate_pfr(conditions(), rtol=rtol, method=method)
    assert np.all(outlet.status == 0) and np.all(outlet.imbalance <= 1e-10)
    coarse, fine = cantera_chain(SITES[1], 100), cantera_chain(SITES[1], 200)
    limit = 2 * fine - coarse
    np.testing.assert_allclose(outlet.mole_fractions[1], limit, rtol=0, atol=1e-6)
    assert np.abs(outlet.mole_fractions[1] - fine).max() > 1e-5  # 200 tanks alone are not yet a PFR to 1e-6
