"""Coverage-dependent rate constants: lateral interactions (the linear model) and Cantera's
coverage dependencies, against a closed-form isotherm, Cantera's steady state and finite
differences of the Jacobian and of the TOF."""

import numpy as np
import pytest
from scipy.optimize import brentq

from uqms.chemistry.mechanism import Mechanism
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.kinetics import (
    RateEquations,
    pressure_array,
    pressure_weighted,
)
from uqms.models.microkinetics.rate_constants import BOLTZMANN
from uqms.models.microkinetics.sensitivity import (
    degree_of_rate_control,
    reaction_orders,
)
from uqms.models.microkinetics.stages import SteadyStateStage
from uqms.models.microkinetics.steady_state import solve_steady_state

T = 500.0
EPS = {"CO*": {"CO*": 0.2, "O*": 0.1}, "O*": {"O*": 0.25, "CO*": 0.1}}  # eV per unit coverage
P = {"CO": 0.3, "O2": 0.2}  # bar


def langmuir(eps="eps"):
    return Mechanism.from_dict({
        "mechanism": {"name": "langmuir", "products": ["CO"]}, "gas": {"CO": {"mass": 28.0, "pressure": 1.0}},
        "sites": {"s": {"adsorbates": ["CO*"]}}, "interactions": {"CO*": {"CO*": eps}},
        "steps": [{"equation": "CO + * <=> CO*", "k": 1e3, "reaction_energy": "dE"}]})


def test_langmuir_isotherm_with_linear_self_interaction_matches_brentq():
    """CO + * <=> CO* at equilibrium with E_CO*(theta) = E0 + eps theta:
    theta / (1 - theta) = p exp(-(dE + eps theta) / k_B T), one root for eps > -4 k_B T."""
    rng = np.random.default_rng(7)
    n = 300
    eps, de, p = rng.uniform(-0.15, 0.6, n), rng.uniform(-0.6, 0.3, n), 10 ** rng.uniform(-3, 1, n)
    m = langmuir()
    assert m.rate_parameter_names() == ["dE", "eps"]
    state = solve_steady_state(m, rate_constants_at(m, np.full(n, T), {"eps": eps, "dE": de}), {"CO": p})
    assert (state.status == 0).all()
    kt = BOLTZMANN * T
    expected = [brentq(lambda t, e=e, d=d, q=q: np.log(t / (1 - t)) - np.log(q) + (d + e * t) / kt, 1e-300, 1 - 1e-16,
                       xtol=1e-300, rtol=1e-15) for e, d, q in zip(eps, de, p)]
    np.testing.assert_allclose(state.coverages[:, 0], expected, rtol=1e-9)
    no_interaction = solve_steady_state(langmuir(0.0), rate_constants_at(langmuir(0.0), np.full(n, T), {"dE": de}),
                                        {"CO": p})
    assert np.abs(no_interaction.coverages[:, 0] / state.coverages[:, 0] - 1).max() > 0.1  # the shift matters


def co_oxidation(**fractions):
    """CO oxidation with lateral interactions and Cantera coverage dependencies of every kind."""
    steps = [{"equation": "CO + * <=> CO*", "k": 40.0, "k_reverse": 5.0,
              "coverage_dependencies_reverse": {"CO*": {"E": -0.15}}},
             {"equation": "O2 + 2* <=> 2O*", "k": 20.0, "k_reverse": 0.3,
              "coverage_dependencies": {"O*": {"a": -0.5, "E": 0.1}, "*": {"m": 0.5}}},
             {"equation": "CO* + O* <=> CO2 + 2*", "A": 1e8, "Ea": 0.55, "reversible": False,
              "interaction_fraction": 0.3, "coverage_dependencies": {"O*": {"E": 0.2}, "CO*": {"a": 0.3}}}]
    for j, fraction in fractions.items():
        steps[int(j[1:])]["interaction_fraction"] = fraction
    return Mechanism.from_dict({
        "mechanism": {"name": "co_ox", "products": ["CO2"]},
        "gas": {"CO": {"mass": 28.0, "pressure": P["CO"]}, "O2": {"mass": 32.0, "pressure": P["O2"]},
                "CO2": {"mass": 44.0}},
        "sites": {"s": {"adsorbates": ["CO*", "O*"]}}, "interactions": EPS, "steps": steps})


CANTERA = """
units: {{length: m, quantity: kmol, activation-energy: eV}}
phases:
- {{name: gas, thermo: ideal-gas, elements: [C, O], species: [CO, O2, CO2],
   state: {{T: {T}, P: 1.0e5, X: {{CO: {x_co}, O2: {x_o2}}}}}}}
- {{name: surf, thermo: ideal-surface, adjacent-phases: [gas], elements: [C, O], species: [PT(S), CO(S), O(S)],
   kinetics: surface, reactions: all, site-density: 1.0, state: {{T: {T}, coverages: {{PT(S): 1.0}}}}}}
species:
- {{name: CO, composition: {{C: 1, O: 1}}, thermo: {{model: constant-cp}}}}
- {{name: O2, composition: {{O: 2}}, thermo: {{model: constant-cp}}}}
- {{name: CO2, composition: {{C: 1, O: 2}}, thermo: {{model: constant-cp}}}}
- {{name: PT(S), composition: {{}}, thermo: {{model: constant-cp}}}}
- {{name: CO(S), composition: {{C: 1, O: 1}}, thermo: {{model: constant-cp}}}}
- {{name: O(S), composition: {{O: 1}}, thermo: {{model: constant-cp}}}}
reactions:
- {{equation: CO + PT(S) => CO(S), rate-constant: {{A: {k1}, b: 0, Ea: 0}}, coverage-dependencies: {d1}}}
- {{equation: CO(S) => CO + PT(S), rate-constant: {{A: 5.0, b: 0, Ea: 0}}, coverage-dependencies: {r1}}}
- {{equation: O2 + 2 PT(S) => 2 O(S), rate-constant: {{A: {k2}, b: 0, Ea: 0}}, coverage-dependencies: {d2}}}
- {{equation: 2 O(S) => O2 + 2 PT(S), rate-constant: {{A: 0.3, b: 0, Ea: 0}}, coverage-dependencies: {r2}}}
- {{equation: CO(S) + O(S) => CO2 + 2 PT(S), rate-constant: {{A: 1.0e8, b: 0, Ea: 0.55}},
   coverage-dependencies: {d3}}}
"""


def _yaml(dependencies: dict[str, dict[str, float]]) -> str:
    names = {"CO*": "CO(S)", "O*": "O(S)", "*": "PT(S)"}
    return "{" + ", ".join(f"{names[s]}: {{a: {d.get('a', 0.0)}, m: {d.get('m', 0.0)}, E: {d.get('E', 0.0)}}}"
                           for s, d in dependencies.items()) + "}"


def test_lateral_interactions_and_coverage_dependencies_match_cantera():
    """Cantera has no lateral interactions, so each is written as the coverage dependencies it
    makes: step j's reaction energy shifts by d_jk theta_k with d = (products - reactants) @ eps,
    its forward activation energy by alpha d_jk, its reverse by (alpha - 1) d_jk; with site
    density 1 kmol/m^2 Cantera's rate constants count per site (adsorption: per kmol/m^3)."""
    import cantera as ct  # in the test extras
    m = co_oxidation()
    state = solve_steady_state(m, rate_constants_at(m, np.array([T]), {}))
    assert state.status[0] == 0
    eps = np.array([[EPS["CO*"]["CO*"], EPS["CO*"]["O*"]], [EPS["O*"]["CO*"], EPS["O*"]["O*"]]])
    change = {1: np.array([1, 0]), 2: np.array([0, 2]), 3: np.array([-1, -1])}  # adsorbates made by each step
    alpha = {1: 0.5, 2: 0.5, 3: 0.3}
    given = {"d1": {}, "r1": {"CO*": {"E": -0.15}}, "d2": {"O*": {"a": -0.5, "E": 0.1}, "*": {"m": 0.5}}, "r2": {},
             "d3": {"O*": {"E": 0.2}, "CO*": {"a": 0.3}}}
    for j in (1, 2, 3):
        shift = change[j] @ eps  # eV per unit coverage of CO*, O*
        for key, factor in ((f"d{j}", alpha[j]), (f"r{j}", alpha[j] - 1)):
            if key in given:
                for s, value in zip(("CO*", "O*"), shift):
                    given[key].setdefault(s, {})["E"] = given[key].get(s, {}).get("E", 0.0) + factor * value
    per_bar = 1e5 / (ct.gas_constant * T)
    text = CANTERA.format(T=T, x_co=P["CO"], x_o2=P["O2"], k1=40.0 / per_bar, k2=20.0 / per_bar,
                          **{key: _yaml(value) for key, value in given.items()})
    surf = ct.Interface(yaml=text, name="surf")
    surf.adjacent["gas"].TPX = T, 0.5e5, {"CO": P["CO"], "O2": P["O2"]}
    surf.advance_coverages(1e-9)
    surf.advance_coverages(1e4, rtol=1e-12, atol=1e-20)
    theta = dict(zip(surf.species_names, surf.coverages))
    np.testing.assert_allclose(state.theta[0], [theta["CO(S)"], theta["O(S)"], theta["PT(S)"]], rtol=1e-6)
    gas = surf.adjacent["gas"]
    tof = surf.get_net_production_rates(gas)[gas.species_index("CO2")] / surf.site_density
    np.testing.assert_allclose(state.tof()[0, 0], tof, rtol=1e-6)
    assert min(theta.values()) > 1e-4  # every coverage matters
    assert (np.abs(state.coverage.forward_linear).max(axis=0) > 0.5).sum() >= 6  # and shifts the rate constants


def test_jacobian_includes_the_coverage_derivatives_of_the_rate_constants():
    m = co_oxidation(s0="alpha")
    rng = np.random.default_rng(3)
    n = 20
    k = rate_constants_at(m, np.full(n, T), {"alpha": rng.uniform(0, 1, n)})
    kf, kr = pressure_weighted(m, k, pressure_array(m, None, n))
    equations = RateEquations(m)
    theta = rng.dirichlet(np.ones(3), n)
    x = np.log(theta)
    forward, reverse = equations.rates(kf, kr, x, k.coverage)
    _, scale = equations.residual(forward, reverse, x)
    jacobian = equations.jacobian(forward, reverse, x, scale, k.coverage)
    h = 1e-6
    for column in range(3):
        shifted = [equations.residual(*equations.rates(kf, kr, x + sign * h * np.eye(3)[column], k.coverage),
                                      x + sign * h * np.eye(3)[column], scale)[0] for sign in (1, -1)]
        np.testing.assert_allclose(jacobian[:, :, column], (shifted[0] - shifted[1]) / (2 * h), rtol=1e-6, atol=1e-8)
    without = equations.jacobian(forward, reverse, x, scale)
    assert np.abs(without - jacobian).max() > 1e-2  # the coverage terms are there


def test_reaction_orders_and_degree_of_rate_control_with_coverage_dependence():
    """Implicit-function sensitivities use the full Jacobian: reaction orders equal central
    differences of ln TOF in ln p from re-solved steady states; the degrees of rate control sum to one."""
    m = co_oxidation()
    k = rate_constants_at(m, np.array([T]), {})
    state = solve_steady_state(m, k)
    orders = reaction_orders(state)[0, 0]
    h = 1e-4
    for g, gas in enumerate(m.gas[:2]):
        tofs = [solve_steady_state(m, k, {gas: P[gas] * np.exp(sign * h)}).tof()[0, 0] for sign in (1, -1)]
        assert orders[g] == pytest.approx((np.log(tofs[0]) - np.log(tofs[1])) / (2 * h), rel=1e-5, abs=1e-7)
    assert degree_of_rate_control(state)[0, :, 0].sum() == pytest.approx(1.0, abs=1e-8)


def test_stage_reads_named_interaction_parameters():
    m = langmuir()
    stage = SteadyStateStage(mechanism=m)
    assert stage.inputs == ("T", "dE", "eps") and stage.input_units["eps"] == "eV"
    out = stage({"T": np.full(3, T), "dE": np.full(3, -0.2), "eps": np.array([0.0, 0.2, 0.4])})
    assert (out["status"] == 0).all() and np.all(np.diff(out["coverage"][:, 0]) < 0)  # repulsion lowers coverage


def test_interaction_fraction_defaults_to_the_bep_slope_then_one_half():
    """NH formation (bep slope 0.14) and a spill-over without bep in the two-site ammonia
    mechanism: forward L = -alpha dE'/k_B T and reverse L = (1 - alpha) dE'/k_B T, with
    dE' = d(reaction energy)/d(theta_N*step) = eps_NN times the N*step made (-1 and 0)."""
    from tests.conftest import REPO
    from uqms.chemistry.mechanism import load_mechanism
    m = load_mechanism(REPO / "workflows" / "ammonia_two_sites_mechanism.toml")
    batch = {"E_N": np.array([-0.5]), "n2_ts_intercept": np.array([1.56]), "step_density": np.array([1e-6]),
             "eps_NN": np.array([0.4])}
    coverage = rate_constants_at(m, np.array([T]), batch).coverage
    kt, n = BOLTZMANN * T, m.surface_species.index("N*step")
    nh, dissociation = m.step_names.index("NH_formation"), m.step_names.index("N2_dissociation")
    assert coverage.forward_linear[0, nh, n] == pytest.approx(0.14 * 0.4 / kt)
    assert coverage.reverse_linear[0, nh, n] == pytest.approx(-(1 - 0.14) * 0.4 / kt)
    assert coverage.forward_linear[0, dissociation, n] == pytest.approx(-0.5 * 2 * 0.4 / kt)
    assert coverage.reverse_linear[0, dissociation, n] == pytest.approx(0.5 * 2 * 0.4 / kt)
    assert np.count_nonzero(coverage.linear) == 4


def test_a_sample_with_a_non_finite_interaction_parameter_is_flagged_alone():
    m = langmuir()
    eps, de = np.array([0.1, np.nan, 0.3]), np.full(3, -0.2)
    state = solve_steady_state(m, rate_constants_at(m, np.full(3, T), {"eps": eps, "dE": de}))
    np.testing.assert_array_equal(state.status, [0, 2, 0])
    assert np.isnan(state.coverages[1]).all() and np.isfinite(state.coverages[[0, 2]]).all()
