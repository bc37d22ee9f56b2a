"""Several site types with their own densities and a spill-over step between them: against
Cantera's rate laws (two surface phases joined by an edge) solved to steady state by scipy."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp
from scipy.optimize import root

from uqms.chemistry.mechanism import Mechanism
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.stages import SteadyStateStage
from uqms.models.microkinetics.steady_state import solve_steady_state

STEP, TERRACE = 0.3e-5, 1.2e-5  # site densities, mol/m^2
K = {"k1": 50.0, "km1": 2.0, "k2": 30.0, "km2": 4.0, "k3": 8.0, "km3": 0.5, "k4": 3.0}  # 1/s (1/(s bar) with gas)
P_CO, P_O2 = 0.4, 0.2  # bar


def two_site_mechanism(step_density=STEP) -> Mechanism:
    """CO adsorbs on steps and spills over to terraces, where O2 adsorbs and CO2 forms."""
    return Mechanism.from_dict({
        "mechanism": {"name": "two_sites", "products": ["CO2"]},
        "gas": {"CO": {"mass": 28.0, "pressure": P_CO}, "O2": {"mass": 32.0, "pressure": P_O2},
                "CO2": {"mass": 44.0}},
        "sites": {"step": {"adsorbates": ["CO*step"], "density": step_density},
                  "terrace": {"adsorbates": ["CO*terrace", "O*terrace"], "density": TERRACE}},
        "steps": [{"equation": "CO + *step <=> CO*step", "k": "k1", "k_reverse": "km1"},
                  {"equation": "CO*step + *terrace <=> *step + CO*terrace", "k": "k2", "k_reverse": "km2"},
                  {"equation": "O2 + 2*terrace <=> 2O*terrace", "k": "k3", "k_reverse": "km3"},
                  {"equation": "CO*terrace + O*terrace <=> CO2 + 2*terrace", "k": "k4", "reversible": False}]})


CANTERA = """
units: {{length: m, quantity: kmol, activation-energy: eV}}
phases:
- {{name: gas, thermo: ideal-gas, elements: [C, O], species: [CO, O2, CO2],
   state: {{T: {T}, P: 1.0e5, X: {{CO: {x_co}, O2: {x_o2}}}}}}}
- {{name: step, thermo: ideal-surface, adjacent-phases: [gas], elements: [C, O], species: [S(S), CO(S)],
   kinetics: surface, reactions: [step-reactions], site-density: {step}}}
- {{name: terrace, thermo: ideal-surface, adjacent-phases: [gas], elements: [C, O], species: [T(T), CO(T), O(T)],
   kinetics: surface, reactions: [terrace-reactions], site-density: {terrace}}}
- {{name: edge, thermo: edge, adjacent-phases: [step, terrace], elements: [C, O], species: [E(E)],
   kinetics: edge, reactions: [edge-reactions], site-density: 1.0}}
species:
- {{name: CO, composition: {{C: 1, O: 1}}, thermo: {{model: constant-cp}}}}
- {{name: O2, composition: {{O: 2}}, thermo: {{model: constant-cp}}}}
- {{name: CO2, composition: {{C: 1, O: 2}}, thermo: {{model: constant-cp}}}}
- {{name: S(S), composition: {{}}, thermo: {{model: constant-cp}}}}
- {{name: CO(S), composition: {{C: 1, O: 1}}, thermo: {{model: constant-cp}}}}
- {{name: T(T), composition: {{}}, thermo: {{model: constant-cp}}}}
- {{name: CO(T), composition: {{C: 1, O: 1}}, thermo: {{model: constant-cp}}}}
- {{name: O(T), composition: {{O: 1}}, thermo: {{model: constant-cp}}}}
- {{name: E(E), composition: {{}}, thermo: {{model: constant-cp}}}}
step-reactions:
- {{equation: CO + S(S) => CO(S), rate-constant: {{A: {k1}, b: 0, Ea: 0}}}}
- {{equation: CO(S) => CO + S(S), rate-constant: {{A: {km1}, b: 0, Ea: 0}}}}
terrace-reactions:
- {{equation: O2 + 2 T(T) => 2 O(T), rate-constant: {{A: {k3}, b: 0, Ea: 0}}}}
- {{equation: 2 O(T) => O2 + 2 T(T), rate-constant: {{A: {km3}, b: 0, Ea: 0}}}}
- {{equation: CO(T) + O(T) => CO2 + 2 T(T), rate-constant: {{A: {k4}, b: 0, Ea: 0}}}}
edge-reactions:
- {{equation: CO(S) + T(T) => S(S) + CO(T), rate-constant: {{A: {k2}, b: 0, Ea: 0}}}}
- {{equation: S(S) + CO(T) => CO(S) + T(T), rate-constant: {{A: {km2}, b: 0, Ea: 0}}}}
"""


def cantera_steady_state(T=500.0):
    """Coverages {species: theta} and CO2 per site of the whole surface from Cantera's rate laws.

    uqms counts rate constants per site of a step's site type; Cantera's act on
    concentrations: theta * density (kmol/m^2) for surface species, p / RT for gases (kmol/m^3),
    and the edge's rates count per metre of edge (here 1 m of edge per m^2). So a bimolecular
    surface k takes 1/density, an adsorption k 1/(concentration of 1 bar), the spill-over k
    1/(terrace density). Cantera has no steady-state solver for coupled surface phases: the
    coverages are integrated to steady state with scipy (Radau) and polished by scipy's root.
    """
    import cantera as ct  # in the test extras
    step, terrace = STEP * 1e-3, TERRACE * 1e-3  # kmol/m^2
    per_bar = 1e5 / (ct.gas_constant * T)  # kmol/m^3 of 1 bar
    text = CANTERA.format(T=T, x_co=P_CO, x_o2=P_O2, step=step, terrace=terrace, k1=K["k1"] / per_bar, km1=K["km1"],
                          k2=K["k2"] / terrace, km2=K["km2"] / terrace, k3=K["k3"] / (per_bar * terrace),
                          km3=K["km3"] / terrace, k4=K["k4"] / terrace)
    edge = ct.Interface(yaml=text, name="edge")
    s, t = edge.adjacent["step"], edge.adjacent["terrace"]
    gas = s.adjacent["gas"]
    gas.TPX = T, (P_CO + P_O2) * 1e5, {"CO": P_CO, "O2": P_O2}
    names = [*s.species_names, *t.species_names]
    density = np.array([step] * s.n_species + [terrace] * t.n_species)

    def production(theta):
        theta = np.maximum(theta, 0.0)  # the integrator's trial points may dip below zero
        s.set_unnormalized_coverages(theta[: s.n_species])
        t.set_unnormalized_coverages(theta[s.n_species:])
        total = np.concatenate([s.get_net_production_rates(s), t.get_net_production_rates(t)])
        total += np.concatenate([edge.get_net_production_rates(s), edge.get_net_production_rates(t)])
        return total  # kmol/m^2/s

    def rhs(_, theta):
        return production(theta) / density

    start = np.array([1.0, 0.0, 1.0, 0.0, 0.0])
    ode = solve_ivp(rhs, (0.0, 1e4), start, method="Radau", rtol=1e-10, atol=1e-14)

    def residual(theta):
        rates = rhs(0.0, theta)
        return [rates[1], rates[3], rates[4], theta[:2].sum() - 1.0, theta[2:].sum() - 1.0]

    polished = root(residual, ode.y[:, -1], method="hybr", options={"xtol": 1e-14})
    assert polished.success
    theta = polished.x
    production(theta)
    co2 = t.get_net_production_rates(gas)[gas.species_index("CO2")]
    return dict(zip(names, theta)), co2 / (step + terrace), co2 / terrace


def test_two_site_types_with_spill_over_match_cantera():
    m = two_site_mechanism()
    state = solve_steady_state(m, rate_constants_at(m, np.array([500.0]), {k: np.array([v]) for k, v in K.items()}))
    assert state.status[0] == 0
    theta, tof, terrace_tof = cantera_steady_state()
    expected = [theta["CO(S)"], theta["CO(T)"], theta["O(T)"], theta["S(S)"], theta["T(T)"]]
    np.testing.assert_allclose(state.theta[0], expected, rtol=1e-6)
    np.testing.assert_allclose(state.tof()[0, 0], tof, rtol=1e-6)
    np.testing.assert_allclose(state.theta[0] @ m.site_membership.T, 1.0, atol=1e-12)  # each site balance
    site_tof = state.site_tof(m.site_fractions({}, 1))[0, :, 0]  # CO2 forms on terraces only
    assert site_tof[0] == 0.0
    np.testing.assert_allclose(site_tof[1], terrace_tof, rtol=1e-6)


def test_site_density_may_be_an_uncertain_input_and_scales_the_tof_per_site():
    """The TOF counts per site of the whole surface: with a named step density, the same
    terrace chemistry per terrace site gives a TOF proportional to the terrace share, given
    the same terrace coverages; here checked by the stage against the numeric density."""
    m = two_site_mechanism(step_density="step_density")
    stage = SteadyStateStage(mechanism=m)
    assert "step_density" in stage.inputs and stage.input_units["step_density"] == "mol/m^2"
    densities = np.array([0.3e-5, 1.2e-5, 4.8e-5])
    batch = {"T": np.full(3, 500.0), "step_density": densities, **{k: np.full(3, v) for k, v in K.items()}}
    out = stage(batch)
    assert (out["status"] == 0).all()
    for i, density in enumerate(densities):
        fixed = two_site_mechanism(step_density=float(density))
        state = solve_steady_state(fixed, rate_constants_at(fixed, np.array([500.0]),
                                                            {k: np.array([v]) for k, v in K.items()}))
        np.testing.assert_allclose(out["tof"][i], state.tof()[0], rtol=1e-10)
        np.testing.assert_allclose(out["coverage"][i], state.coverages[0], rtol=1e-10)
    assert out["tof"][0, 0] == pytest.approx(cantera_steady_state()[1], rel=1e-6)
    shares = np.stack([densities, np.full(3, TERRACE)], axis=1) / (densities + TERRACE)[:, None]
    np.testing.assert_allclose((shares[:, :, None] * out["site_tof"]).sum(axis=1), out["tof"], rtol=1e-12)
    assert len(set(np.round(out["tof"][:, 0], 12))) == 3  # the density matters
