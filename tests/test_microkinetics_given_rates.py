"""Steps that give rate constants directly (k, Arrhenius), irreversible steps, and the
transition-state conventions: against closed forms and Cantera's surface steady state."""

import numpy as np
import pytest

from tests.cantera_surfaces import co_isomer_surface, per_bar
from uqms.chemistry.mechanism import Mechanism
from uqms.errors import WorkflowError
from uqms.models.energetics.mechanism_energies import gas_corrections, step_energies
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.rate_constants import BOLTZMANN, reaction_free_energies
from uqms.models.microkinetics.stages import SteadyStateStage
from uqms.models.microkinetics.steady_state import solve_steady_state

GAS = {"CO_a": {"mass": 28.0, "pressure": 0.5}, "CO_b": {"mass": 28.0}}


def mechanism(steps, adsorbates=("CO*",), **section) -> Mechanism:
    return Mechanism.from_dict({"mechanism": {"name": "given", "products": ["CO_b"], **section}, "gas": GAS,
                                "sites": {"s": {"adsorbates": list(adsorbates)}}, "steps": steps})


def test_irreversible_second_step_with_given_rate_constants_matches_the_closed_form():
    """A + * <=> A*, A* -> B + *: theta_A = k1 p / (k1 p + k-1 + k2), TOF = k2 theta_A (REFERENCES.md).

    The last samples hold the first step in quasi-equilibrium (net / gross down to 1e-13): its
    net rate must come from the adsorbate balance, not from forward minus reverse."""
    n = 5
    k1, km1, k2, p = np.geomspace(1e-2, 1e10, n), np.geomspace(3.0, 3e9, n), np.geomspace(1e3, 1e-3, n), 0.5
    m = mechanism([{"equation": "CO_a + * <=> CO*", "k": "k1", "k_reverse": "km1"},
                   {"equation": "CO* <=> CO_b + *", "k": "k2", "reversible": False}])
    assert m.rate_parameter_names() == ["k1", "km1", "k2"] and m.energy_steps == ()
    k = rate_constants_at(m, np.full(n, 500.0), {"k1": k1, "km1": km1, "k2": k2})
    np.testing.assert_array_equal(k.reverse[:, 1], 0.0)
    state = solve_steady_state(m, k)
    theta = k1 * p / (k1 * p + km1 + k2)
    assert (state.status == 0).all()
    np.testing.assert_allclose(state.coverages[:, 0], theta, rtol=1e-10)
    np.testing.assert_allclose(state.tof()[:, 0], k2 * theta, rtol=1e-10)
    np.testing.assert_allclose(state.net_rates, np.stack([k2 * theta] * 2, axis=1), rtol=1e-10)


def test_steady_state_stage_reads_named_rate_constants_without_energies():
    m = mechanism([{"equation": "CO_a + * <=> CO*", "k": "k1", "reaction_energy": -0.3},
                   {"equation": "CO* <=> CO_b + *", "A": 1e13, "Ea": "Ea2", "reversible": False}])
    stage = SteadyStateStage(mechanism=m)
    assert stage.inputs == ("T", "k1", "Ea2")
    out = stage({"T": np.full(3, 500.0), "k1": np.full(3, 10.0), "Ea2": np.array([0.8, 1.0, 1.2])})
    assert (out["status"] == 0).all() and np.all(np.diff(out["tof"][:, 0]) < 0)
    k = rate_constants_at(m, np.full(1, 500.0), {"k1": np.full(1, 10.0), "Ea2": np.full(1, 1.0)})
    assert k.equilibrium[0, 0] == pytest.approx(np.exp(0.3 / (BOLTZMANN * 500.0)))  # no gas corrections here
    assert k.forward[0, 1] == pytest.approx(1e13 * np.exp(-1.0 / (BOLTZMANN * 500.0)))


@pytest.mark.parametrize(
    "step, key, expected",
    [
        ({"k": 1.0, "A": 1.0}, "steps[1].k", "give one"),
        ({"k": 1.0, "Ea": 0.5}, "steps[1].Ea", "needs A"),
        ({"k": 1.0, "barrier": 0.5}, "steps[1].barrier", "belongs to steps whose rates come from energies"),
        ({"k": 1.0}, "steps[1]", "give the reverse too"),
        ({"k": 1.0, "reversible": False, "k_reverse": 2.0}, "steps[1].k_reverse", "is irreversible"),
        ({"k": 1.0, "k_reverse": 2.0, "reaction_energy": 0.1}, "steps[1].reaction_energy", "a second time"),
        ({"reaction_energy": 0.1, "barrier": 0.5, "k_reverse": 2.0}, "steps[1].k_reverse", "reverse from equilibrium"),
    ],
)
def test_bad_rate_keys_name_the_key_and_what_was_expected(step, key, expected):
    with pytest.raises(WorkflowError) as caught:
        mechanism([{"equation": "CO_a + * <=> CO*", "k": 1.0, "k_reverse": 1.0},
                   {"equation": "CO* <=> CO_b + *", **step}])
    assert caught.value.key == key and expected in caught.value.message


def test_coverages_and_tof_match_cantera_with_an_irreversible_step():
    """Site density 1 kmol/m^2 makes Cantera's surface rate constants per site; its adsorption
    rate constant takes the gas concentration p / RT instead of the pressure in bar."""
    import cantera as ct  # in the test extras
    T, p = 500.0, 0.5
    k1, km1, A2, b2, Ea2, A2r, Ea2r, k3 = 40.0, 7.0, 1e11, 0.5, 0.95, 3e12, 0.9, 2.0
    m = mechanism([{"equation": "CO_a + * <=> CO*", "k": k1, "k_reverse": km1},
                   {"equation": "CO* <=> CO*b", "A": A2, "b": b2, "Ea": Ea2, "A_reverse": A2r, "Ea_reverse": Ea2r},
                   {"equation": "CO*b <=> CO_b + *", "k": k3, "reversible": False}], adsorbates=("CO*", "CO*b"))
    state = solve_steady_state(m, rate_constants_at(m, np.array([T]), {}))
    text = co_isomer_surface(T, p * 1e5, ["COA", "COB"], ["CO(S)", "COB(S)"], [
        ("COA + PT(S) => CO(S)", k1 / per_bar(T), 0, 0), ("CO(S) => COA + PT(S)", km1, 0, 0),
        ("CO(S) => COB(S)", A2, b2, Ea2), ("COB(S) => CO(S)", A2r, 0, Ea2r), ("COB(S) => COB + PT(S)", k3, 0, 0)])
    surf = ct.Interface(yaml=text, name="surf")
    surf.advance_coverages(1e-9)
    surf.advance_coverages(1e4, rtol=1e-12, atol=1e-20)
    coverages = dict(zip(surf.species_names, surf.coverages))
    np.testing.assert_allclose(state.coverages[0], [coverages["CO(S)"], coverages["COB(S)"]], rtol=1e-6)
    np.testing.assert_allclose(state.free_sites[0, 0], coverages["PT(S)"], rtol=1e-6)
    gas = surf.adjacent["gas"]
    tof = surf.get_net_production_rates(gas)[gas.species_index("COB")] / surf.site_density
    np.testing.assert_allclose(state.tof()[0, 0], tof, rtol=1e-6)


def test_non_activated_adsorption_under_both_transition_state_conventions():
    """CO + * <=> CO*, barrier 0, at 500 K: "electronic" subtracts the gas correction after clipping
    (a free-energy barrier of -G_corr(CO), ~0.8-0.9 eV); "free_energy" clips the transition state's
    free energy to max(G initial, G final), which for an exergonic adsorption is G initial."""
    gas = {"CO_a": {"mass": 28.0101, "pressure": 0.5, "energy": 0.0, "zero_point_energy": 0.133,
                    "shomate": {"coefficients": [25.56759, 6.096130, 4.054656, -2.671301, 0.131021, -118.0089,
                                                 227.3665, -110.5271],
                                "temperature_range": [298.0, 1300.0], "enthalpy_298_minus_0": 8.671}},
           "CO_b": {"mass": 28.0101}}
    steps = [{"equation": "CO_a + * <=> CO*", "reaction_energy": -1.2, "barrier": 0.0},
             {"equation": "CO* <=> CO_b + *", "k": 1.0, "reversible": False}]
    t = np.array([500.0])
    barriers = {}
    for convention in ("electronic", "free_energy"):
        m = Mechanism.from_dict({"mechanism": {"name": "ads", "products": ["CO_b"], "transition_state": convention},
                                 "gas": gas, "sites": {"s": {"adsorbates": ["CO*"]}}, "steps": steps})
        k = rate_constants_at(m, t, {})
        barriers[convention] = -BOLTZMANN * t[0] * np.log(k.forward[0, 0] * 6.62607015e-34 / (1.380649e-23 * t[0]))
        reaction, _ = step_energies(m, {}, 1)
        free = reaction_free_energies(m, reaction, gas_corrections(m, t, {}), m.energy_steps)[0, 0]
    correction = gas_corrections(m, t, {})[0, 0]
    assert free < 0 and 0.8 < -correction < 0.9
    assert barriers["electronic"] == pytest.approx(-correction, abs=1e-9)  # today's value, unchanged by default
    assert barriers["free_energy"] == pytest.approx(0.0, abs=1e-9)  # max(G initial, G final) - G initial


def test_free_energy_convention_clips_the_transition_state_not_the_electronic_barrier():
    """Desorption CO* -> CO_b + * with dE = 1.0 eV, a raw barrier of 0.5 eV and G_corr(CO_b) = -0.85 eV:
    "electronic" lifts the barrier to dE = 1.0 eV; "free_energy" keeps G_TS - G_IS = 0.5 eV, above
    max(0, dG = 0.15 eV)."""
    t = np.array([500.0])
    found = {}
    for convention in ("electronic", "free_energy"):
        m = Mechanism.from_dict({
            "mechanism": {"name": "des", "products": ["CO_b"], "transition_state": convention},
            "gas": {"CO_a": {"mass": 28.0, "pressure": 0.5}, "CO_b": {"mass": 28.0, "free_energy_correction": -0.85}},
            "sites": {"s": {"adsorbates": ["CO*"]}},
            "steps": [{"equation": "CO_a + * <=> CO*", "k": 1.0, "reversible": False},
                      {"equation": "CO* <=> CO_b + *", "reaction_energy": 1.0, "barrier": 0.5}]})
        k = rate_constants_at(m, t, {})
        found[convention] = -BOLTZMANN * t[0] * np.log(k.forward[0, 1] * 6.62607015e-34 / (1.380649e-23 * t[0]))
        assert k.equilibrium[0, 1] == pytest.approx(np.exp(-0.15 / (BOLTZMANN * t[0])))
    assert found["electronic"] == pytest.approx(1.0, abs=1e-9)
    assert found["free_energy"] == pytest.approx(0.5, abs=1e-9)
