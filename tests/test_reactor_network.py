"""Reactors for mechanisms with several overall reactions against closed forms.

The mechanisms are first-order isomerisations on a site that also holds H* from a fixed
H2 pressure: each step ``A + * -> B + *`` (irreversible, rate constant k given directly)
runs at ``k p_A theta*``, and H2 is neither made nor consumed, so theta* = 1 / (1 +
sqrt(p_H2)) (K_H2 = 1 bar^-1) stays fixed along the reactor and every rate is exactly first
order in the gas with k_eff = k theta*. The total flow is constant, so with
``tau = k_eff P sites / F`` the textbook closed forms of consecutive and parallel
first-order reactions in a PFR and a CSTR hold exactly.
"""

from pathlib import Path

import numpy as np
import pytest

from uqms.chemistry.mechanism import Mechanism, load_mechanism
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.reactor.conditions import ReactorConditions
from uqms.models.reactor.cstr import solve_cstr
from uqms.models.reactor.pfr import integrate_pfr
from uqms.models.reactor.reactions import OverallReactions

T, P, Y_H2 = 600.0, 1.0, 0.01  # K, bar, inlet mole fraction of the spectator H2
FREE = 1.0 / (1.0 + np.sqrt(Y_H2 * P))  # theta*


def isomerisations(equations: list[str]) -> Mechanism:
    """Irreversible isomerisations among C4H8_a, C4H8_b, C4H8_c with rate constants k1, k2, ... (1/(s bar))."""
    steps = [{"equation": e, "k": f"k{i + 1}", "reversible": False} for i, e in enumerate(equations)]
    return Mechanism.from_dict({
        "mechanism": {"name": "isomerisations", "products": ["C4H8_b", "C4H8_c"]},
        "gas": {g: {"mass": 56.1} for g in ("C4H8_a", "C4H8_b", "C4H8_c")} | {"H2": {"mass": 2.016}},
        "sites": {"s": {"adsorbates": ["H*"]}},
        "steps": [*steps, {"equation": "H2 + 2* <=> 2H*", "reaction_energy": 0.0, "barrier": 0.0}],
    })


CONSECUTIVE = isomerisations(["C4H8_a + * <=> C4H8_b + *", "C4H8_b + * <=> C4H8_c + *"])
PARALLEL = isomerisations(["C4H8_a + * <=> C4H8_b + *", "C4H8_a + * <=> C4H8_c + *"])


def conditions(mechanism: Mechanism, k1: np.ndarray, k2: np.ndarray, tau1: np.ndarray) -> ReactorConditions:
    """Reactor whose sites give ``k1_eff tau = tau1`` (feed 1 mol/s, 1% H2)."""
    n = len(k1)
    k = rate_constants_at(mechanism, np.full(n, T), {"k1": k1, "k2": k2})
    inlet = np.tile([1.0 - Y_H2, 0.0, 0.0, Y_H2], (n, 1))
    return ReactorConditions(mechanism, k, inlet, P, tau1 / (k1 * FREE * P))


K1 = np.array([0.3, 1.0, 2.0, 0.5])
K2 = np.array([1.2, 0.4, 2.5, 0.05])  # 1/(s bar)


def test_overall_reactions_are_found_from_the_stoichiometry():
    assert OverallReactions.of(CONSECUTIVE).equations == ("C4H8_a -> C4H8_b", "C4H8_a -> C4H8_c")
    assert OverallReactions.of(PARALLEL).equations == ("C4H8_a -> C4H8_b", "C4H8_a -> C4H8_c")
    ammonia = OverallReactions.of(load_mechanism(Path(__file__).resolve().parents[1] / "workflows" / "ammonia_mechanism.toml"))
    assert ammonia.equations == ("N2 + 3 H2 -> 2 NH3",)


def test_pfr_consecutive_maximum_yield_of_the_intermediate():
    """C_B/C_A0 max = (k1/k2)^(k2/(k2-k1)) at tau* = ln(k2/k1)/(k2-k1); A = exp(-k1 tau)."""
    tau_star = np.log(K2 / K1) / (K2 - K1)
    outlet = integrate_pfr(conditions(CONSECUTIVE, K1, K2, K1 * tau_star))
    assert np.all(outlet.status == 0)
    assert np.allclose(outlet.yields("C4H8_b", "C4H8_a"), (K1 / K2) ** (K2 / (K2 - K1)), rtol=1e-8, atol=0)
    assert np.allclose(outlet.conversion("C4H8_a"), 1 - np.exp(-K1 * tau_star), rtol=1e-8, atol=0)
    assert np.all(outlet.imbalance <= 1e-10)


def test_cstr_consecutive_maximum_yield_of_the_intermediate():
    """tau* = 1/sqrt(k1 k2), Y_B max = k1 tau* / ((1 + k1 tau*)(1 + k2 tau*))."""
    tau_star = 1 / np.sqrt(K1 * K2)
    outlet = solve_cstr(conditions(CONSECUTIVE, K1, K2, K1 * tau_star))
    assert np.all(outlet.status == 0)
    expected = K1 * tau_star / ((1 + K1 * tau_star) * (1 + K2 * tau_star))
    assert np.allclose(outlet.yields("C4H8_b", "C4H8_a"), expected, rtol=1e-9, atol=0)
    assert np.all(outlet.imbalance <= 1e-10)


@pytest.mark.parametrize("reactor", [integrate_pfr, solve_cstr])
def test_yield_of_the_intermediate_is_largest_at_the_closed_form_space_time(reactor):
    tau_star = np.log(K2 / K1) / (K2 - K1) if reactor is integrate_pfr else 1 / np.sqrt(K1 * K2)
    best = reactor(conditions(CONSECUTIVE, K1, K2, K1 * tau_star)).yields("C4H8_b", "C4H8_a")
    for factor in (0.99, 1.01):
        assert np.all(reactor(conditions(CONSECUTIVE, K1, K2, K1 * tau_star * factor)).yields("C4H8_b", "C4H8_a")
                      < best)


@pytest.mark.parametrize("reactor", [integrate_pfr, solve_cstr])
def test_parallel_selectivity_is_the_ratio_of_rate_constants(reactor):
    tau = np.array([0.1, 1.0, 3.0, 10.0])
    outlet = reactor(conditions(PARALLEL, K1, K2, K1 * tau))
    assert np.all(outlet.status == 0)
    s_b, s_c = outlet.selectivity("C4H8_b", "C4H8_a"), outlet.selectivity("C4H8_c", "C4H8_a")
    assert np.allclose(s_b / s_c, K1 / K2, rtol=1e-9, atol=0)
    assert np.allclose(s_b + s_c, 1.0, rtol=1e-12)
    k_tau = (K1 + K2) * tau
    expected = 1 - np.exp(-k_tau) if reactor is integrate_pfr else k_tau / (1 + k_tau)
    assert np.allclose(outlet.conversion("C4H8_a"), expected, rtol=1e-8, atol=0)
    assert np.all(outlet.imbalance <= 1e-10)
    assert np.all(outlet.approach_to_equilibrium == 0.0)  # irreversible: K infinite


def test_equilibrium_of_two_reversible_reactions_is_the_closed_form():
    """A <=> B (K1), A <=> C (K2): at equilibrium B/A = K1 and C/A = K2, so A = A0 / (1 + K1 + K2)."""
    mechanism = Mechanism.from_dict({
        "mechanism": {"name": "two_equilibria", "products": ["C4H8_b", "C4H8_c"]},
        "gas": {g: {"mass": 56.1} for g in ("C4H8_a", "C4H8_b", "C4H8_c")} | {"H2": {"mass": 2.016}},
        "sites": {"s": {"adsorbates": ["H*"]}},
        "steps": [{"equation": "C4H8_a + * <=> C4H8_b + *", "k": 1.0, "k_reverse": "kb"},
                  {"equation": "C4H8_a + * <=> C4H8_c + *", "k": 1.0, "k_reverse": "kc"},
                  {"equation": "H2 + 2* <=> 2H*", "reaction_energy": 0.0, "barrier": 0.0}],
    })
    kb, kc = np.array([0.5, 2.0, 1e-3, 1e3]), np.array([3.0, 0.1, 1e2, 1e-4])
    n = len(kb)
    c = ReactorConditions(mechanism, rate_constants_at(mechanism, np.full(n, T), {"kb": kb, "kc": kc}),
                          np.tile([2.0, 0.0, 0.0, 0.02], (n, 1)), P, 1.0)
    k1, k2 = 1 / kb, 1 / kc
    a = 2.0 / (1 + k1 + k2)
    np.testing.assert_allclose(c.reactions.flows(c.inlet, c.equilibrium)[:, :3], np.stack([a, k1 * a, k2 * a], axis=1),
                               rtol=1e-10)


def test_reactor_stages_report_selectivity_and_yield_of_each_product():
    from uqms.models.registry import resolve_stage

    options = {"mechanism": PARALLEL, "inlet": {"C4H8_a": 0.99, "H2": 0.01}, "temperature": T, "pressure": P,
               "sites": "sites"}
    tau = np.array([0.1, 1.0, 3.0, 10.0])
    batch = {"reaction_energy": np.zeros((4, 1)), "barrier": np.zeros((4, 1)), "k1": K1, "k2": K2,
             "sites": tau / (FREE * P)}
    for kind in ("cstr", "pfr"):
        stage = resolve_stage(f"reactor.{kind}", options)
        assert stage.output_dims["selectivity"] == ("product",)
        assert stage.output_dims["approach_to_equilibrium"] == ("reaction",)
        assert stage.output_coords["reaction"] == ["C4H8_a -> C4H8_b", "C4H8_a -> C4H8_c"]
        assert stage.output_coords["reactant"] == ["C4H8_a"]
        out = stage(batch)
        assert np.all(out["status"] == 0) and np.all(out["element_imbalance"] <= 1e-10)
        np.testing.assert_allclose(out["selectivity"][:, 0] / out["selectivity"][:, 1], K1 / K2, rtol=1e-9)
        np.testing.assert_allclose(out["yield"].sum(axis=1), out["conversion"], rtol=1e-12)
        np.testing.assert_allclose(out["reactant_conversion"][:, 0], out["conversion"], rtol=0, atol=0)
    with pytest.raises(TypeError, match="one overall reaction"):
        resolve_stage("reactor.pfr", {**options, "surrogate": True})
