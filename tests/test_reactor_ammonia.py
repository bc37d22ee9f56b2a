"""Reactors on the ammonia mechanism: balances, an independent integration, surrogate, stages, workflow."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from uqms.chemistry.mechanism import load_mechanism
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.kinetics import production_rates
from uqms.models.microkinetics.rate_constants import RateConstants
from uqms.models.microkinetics.steady_state import solve_steady_state
from uqms.models.reactor.balance import BALANCE_TOLERANCE, element_imbalance
from uqms.models.reactor.conditions import ReactorConditions
from uqms.models.reactor.cstr import solve_cstr
from uqms.models.reactor.outlet import BAD_INPUT, IMBALANCE, ReactorOutlet
from uqms.models.reactor.pfr import integrate_pfr
from uqms.models.reactor.surrogate import PathSurrogate
from uqms.models.registry import resolve_stage
from uqms.workflow import Workflow

WORKFLOWS = Path(__file__).resolve().parents[1] / "workflows"
MECHANISM = load_mechanism(WORKFLOWS / "ammonia_mechanism.toml")
E_N = np.linspace(-1.6, 0.6, 12)  # eV, across the volcano
FEED = [0.25, 0.75, 0.0]  # mol/s N2, H2, NH3


def ammonia(sites: float) -> ReactorConditions:
    n = len(E_N)
    k = rate_constants_at(MECHANISM, np.full(n, 673.0), {"E_N": E_N, "n2_ts_intercept": np.full(n, 1.56)})
    return ReactorConditions(MECHANISM, k, np.tile(FEED, (n, 1)), 100.0, sites)


def test_overall_reaction_and_equilibrium_of_ammonia_synthesis():
    c = ammonia(1.0)
    assert c.reactions.equations == ("N2 + 3 H2 -> 2 NH3",)
    assert np.allclose(c.reactions.stoichiometry, [[-1, -3, 2]])
    # at equilibrium the quotient of the outlet partial pressures is K
    flows = c.reactions.flows(c.inlet, c.equilibrium)
    p = 100.0 * flows / flows.sum(axis=1, keepdims=True)
    assert np.allclose(np.log(p[:, 2] ** 2 / (p[:, 0] * p[:, 1] ** 3)), c.log_k[:, 0], atol=1e-9)


@pytest.mark.parametrize("reactor", [solve_cstr, integrate_pfr])
def test_element_balance_and_equilibrium_bound_on_every_sample(reactor):
    outlet = reactor(ammonia(1e5))
    assert np.all(outlet.status == 0)
    assert np.all(outlet.imbalance <= 1e-10)
    conversion = outlet.conversion("N2")
    assert np.all(conversion > 0) and np.all(conversion <= outlet.equilibrium_conversion("N2"))
    assert np.allclose(outlet.mole_fractions.sum(axis=1), 1.0)


def test_cstr_outlet_satisfies_every_species_balance_with_an_independent_surface_solve():
    c = ammonia(1e5)
    outlet = solve_cstr(c)
    p = 100.0 * outlet.mole_fractions
    state = solve_steady_state(MECHANISM, c.rate_constants, p)  # cold start: independent of the reactor's
    made = 1e5 * production_rates(MECHANISM, state.net_rates)
    residual = c.inlet - outlet.flows + made
    # N2 and NH3 (H2's production is the net rate of a quasi-equilibrated step: a difference of
    # fluxes many orders larger, resolved only to the solver's tolerance times those fluxes)
    for j in (0, 2):
        assert np.all(np.abs(residual[:, j]) <= 1e-6 * np.abs(made[:, j]))


def test_pfr_matches_solve_ivp_on_one_sample():
    c = ammonia(1e4)
    outlet = integrate_pfr(c, rtol=1e-10)
    j = 5
    one = ReactorConditions(MECHANISM, RateConstants(c.rate_constants.forward[[j]], c.rate_constants.reverse[[j]]),
                            c.inlet[[j]], 100.0, 1e4)

    def rate(w, x):
        k = RateConstants(one.rate_constants.forward, one.rate_constants.reverse)
        state = solve_steady_state(MECHANISM, k, one.partial_pressures(np.array([0]), x[None]))
        return [production_rates(MECHANISM, state.net_rates)[0, 2] / 2]  # NH3 made / 2 per turnover

    reference = solve_ivp(rate, (0.0, 1e4), [0.0], method="LSODA", rtol=1e-10, atol=1e-16).y[0, -1]
    assert outlet.extents[j, 0] == pytest.approx(reference, rel=1e-6)


def test_pfr_error_stays_near_rtol_where_the_extent_grows_as_a_power_of_the_sites():
    """At the workflow's sites (1e6 mol) product inhibition makes the extent grow as w^(1/3)
    over ten decades of w near the volcano's top; the steps in ln x over ln w keep the outlet's
    relative error within a few rtol of an independent integration (LSODA per sample, its
    right-hand side one surface solve warm-started from the previous one)."""
    rows = [2, 5, 6, 9]
    c = ammonia(1e6)
    outlet = integrate_pfr(c, rtol=1e-5)
    for j in rows:
        one = ReactorConditions(MECHANISM, RateConstants(c.rate_constants.forward[[j]], c.rate_constants.reverse[[j]]),
                                c.inlet[[j]], 100.0, 1e6)

        def rate(w, x, one=one):
            rates, _, theta = one.rates(np.array([0]), x[None])
            one.theta[0] = theta[0]
            return rates[0]

        reference = solve_ivp(rate, (0.0, 1e6), [0.0], method="LSODA", rtol=1e-10, atol=1e-20).y[0, -1]
        assert outlet.extents[j, 0] == pytest.approx(reference, rel=3e-5)


def test_element_imbalance_flags_a_broken_outlet_and_bad_inputs_get_a_status():
    c = ammonia(1e4)
    outlet = integrate_pfr(c)
    broken = outlet.flows.copy()
    broken[:, 2] += 1e-8  # mol/s of NH3 from nowhere
    assert np.all(element_imbalance(c.reactions, c.inlet, outlet.flows) <= BALANCE_TOLERANCE)
    assert np.all(element_imbalance(c.reactions, c.inlet, broken) > BALANCE_TOLERANCE)
    # an overall reaction that does not balance (NH3 made from 1.5 N2) flags every sample it moves
    c.reactions = replace(c.reactions, stoichiometry=np.array([[-1.5, -3.0, 2.0]]))
    flagged = ReactorOutlet.checked(c, outlet.extents, np.zeros(len(E_N), dtype=int))
    assert np.all(flagged.status == IMBALANCE) and np.all(np.isnan(flagged.conversion("N2")))
    c = ammonia(1e4)
    inlet = c.inlet.copy()
    inlet[3] = [-0.1, 0.75, 0.0]
    bad = solve_cstr(ReactorConditions(MECHANISM, c.rate_constants, inlet, 100.0, 1e4))
    assert bad.status[3] == BAD_INPUT and np.isnan(bad.conversion("N2")[3])
    assert np.all(np.delete(bad.status, 3) == 0)


def test_surrogate_held_out_error_and_the_error_it_adds_to_the_pfr():
    full = integrate_pfr(ammonia(1e6))
    c = ammonia(1e6)
    surrogate = PathSurrogate.fit(c)
    assert np.all(surrogate.ok)
    assert np.all(surrogate.error < 0.02)
    fast = integrate_pfr(c, surrogate.rate)
    assert np.all(fast.status == 0)
    relative = np.abs(fast.conversion("N2") / full.conversion("N2") - 1)
    assert np.all(relative < 0.02)
    # the surrogate is exact at equilibrium: its rate vanishes there
    rows = np.arange(len(E_N))
    rate, _, _ = surrogate.rate(rows, c.equilibrium)
    assert np.all(np.abs(rate) <= 1e-12 * surrogate.rate(rows, np.zeros((len(E_N), 1)))[0])


def test_stages_are_registered_and_check_their_options():
    stage = resolve_stage("reactor.cstr", {"mechanism_file": str(WORKFLOWS / "ammonia_mechanism.toml"),
                                           "inlet": {"N2": "F_N2", "H2": 0.75}, "sites": 1e4})
    assert {"reaction_energy", "barrier", "T", "p", "F_N2"} <= set(stage.inputs)
    assert stage.output_dims["mole_fraction"] == ("gas",)
    with pytest.raises(TypeError, match="either sites"):
        resolve_stage("reactor.pfr", {"mechanism_file": str(WORKFLOWS / "ammonia_mechanism.toml"),
                                      "inlet": {"N2": 0.25}, "sites": 1.0, "catalyst_mass": 2.0,
                                      "site_density": 1e-5})
    with pytest.raises(TypeError, match="not consumed"):
        resolve_stage("reactor.pfr", {"mechanism_file": str(WORKFLOWS / "ammonia_mechanism.toml"),
                                      "inlet": {"N2": 0.25}, "sites": 1.0, "reactant": "NH3"})


def test_ammonia_pfr_workflow_ends_in_the_nh3_outlet_mole_fraction():
    flow = Workflow.from_file(WORKFLOWS / "ammonia_pfr.toml")
    constants = flow.constants
    assert constants["T"].value == 673.0 and constants["p"].value == 100.0
    assert constants["F_H2"].value / constants["F_N2"].value == 3.0
    assert flow.chain.stages[-1].name == "reactor.pfr(ammonia_step)"
    run = flow.run(n=16, quiet=True)
    assert np.all(run["status"] == 0)
    nh3 = run["mole_fraction"].sel(gas="NH3").values
    x_eq = run["equilibrium_conversion"].values
    assert np.all(nh3 > 0) and np.all(nh3 < 2 * 0.25 * x_eq / (1 - 2 * 0.25 * x_eq))
    assert run["mole_fraction"].attrs["units"] == "1" and run["outlet_flow"].attrs["units"] == "mol/s"


@pytest.mark.parametrize("reactor", [solve_cstr, integrate_pfr])
def test_ammonia_decomposition_approaches_equilibrium_from_the_product_side(reactor):
    """Pure NH3 at 1 bar: the extent runs backwards and stops at equilibrium, Q/K falls towards 1."""
    c = ammonia(1e6)
    outlet = reactor(ReactorConditions(MECHANISM, c.rate_constants, np.tile([0.0, 0.0, 1.0], (len(E_N), 1)), 1.0, 1e6))
    assert np.all(outlet.status == 0)
    conversion, x_eq = outlet.conversion("NH3"), outlet.equilibrium_conversion("NH3")
    assert np.all(conversion > 0) and np.all(conversion <= x_eq * (1 + 1e-12))
    assert np.all(outlet.approach_to_equilibrium >= 1 - 1e-9)
    assert np.max(conversion) > 0.98 * x_eq[0]
