"""CSTR and PFR against closed forms: first-order and reversible first-order surface rates."""

import numpy as np
import pytest
from scipy import constants

from uqms.chemistry.mechanism import Mechanism
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.reactor.conditions import ReactorConditions
from uqms.models.reactor.cstr import solve_cstr
from uqms.models.reactor.pfr import integrate_pfr

T, P, Y_H2 = 600.0, 1.0, 0.01  # K, bar, inlet mole fraction of the spectator H2


def isomerisation(reaction_energy: float) -> Mechanism:
    """cis -> trans-butene on a site that also holds H* from a fixed H2 pressure.

    The isomerisation is one step with rate k p_cis theta* - k/K p_trans theta*; H2 is
    neither made nor consumed, so theta* = 1 / (1 + sqrt(p_H2)) (K_H2 = 1 bar^-1) stays
    fixed and the rate is first order in p_cis with k_eff = k theta*.
    """
    return Mechanism.from_dict({
        "mechanism": {"name": "isomerisation", "products": ["C4H8_trans"]},
        "gas": {"C4H8_cis": {"mass": 56.1}, "C4H8_trans": {"mass": 56.1}, "H2": {"mass": 2.016}},
        "sites": {"s": {"adsorbates": ["H*"]}},
        "steps": [
            {"equation": "C4H8_cis + * <=> C4H8_trans + *", "reaction_energy": reaction_energy,
             "barrier": 0.0, "prefactor": "k"},
            {"equation": "H2 + 2* <=> 2H*", "reaction_energy": 0.0, "barrier": 0.0},
        ],
    })


def conditions(reaction_energy: float, k: np.ndarray, space_time: float) -> ReactorConditions:
    """Reactor of ``space_time`` mol sites per mol/s of feed, cis-butene with 1% H2 at 1 bar."""
    mechanism = isomerisation(reaction_energy)
    n = len(k)
    constants_ = rate_constants_at(mechanism, np.full(n, T), {"k": k})
    inlet = np.tile([1.0 - Y_H2, 0.0, Y_H2], (n, 1))
    return ReactorConditions(mechanism, constants_, inlet, P, space_time)


def first_order_k_tau(k: np.ndarray, space_time: float) -> np.ndarray:
    """k tau of the closed forms: k_eff * P * sites / total flow."""
    free = 1.0 / (1.0 + np.sqrt(Y_H2 * P))
    return k * free * P * space_time


K_VALUES = np.array([0.05, 0.3, 1.0, 2.5])  # 1/(s bar)


def test_cstr_conversion_is_k_tau_over_one_plus_k_tau():
    outlet = solve_cstr(conditions(-3.0, K_VALUES, 2.0))
    k_tau = first_order_k_tau(K_VALUES, 2.0)
    assert np.all(outlet.status == 0)
    assert np.allclose(outlet.conversion("C4H8_cis"), k_tau / (1 + k_tau), rtol=0, atol=1e-6)


def test_pfr_conversion_is_one_minus_exp_minus_k_tau():
    outlet = integrate_pfr(conditions(-3.0, K_VALUES, 2.0))
    k_tau = first_order_k_tau(K_VALUES, 2.0)
    assert np.all(outlet.status == 0)
    assert np.allclose(outlet.conversion("C4H8_cis"), 1 - np.exp(-k_tau), rtol=0, atol=1e-6)
    assert np.allclose(outlet.yields("C4H8_trans", "C4H8_cis"), 1 - np.exp(-k_tau), rtol=0, atol=1e-6)


@pytest.mark.parametrize("reaction_energy", [0.05, -0.03])
def test_reversible_reaction_approaches_and_never_passes_equilibrium(reaction_energy):
    """K = exp(-dG / k_B T) from the reaction free energy alone; X_eq = K / (1 + K).

    The forward barrier is kept at max(0, dG), so k_forward = k exp(-max(0, dG) / k_B T).
    """
    beta = constants.e / (constants.k * T)
    K = np.exp(-reaction_energy * beta)
    x_eq = K / (1 + K)
    space_times = np.array([0.1, 1.0, 10.0, 1e3, 1e6])
    k = np.full(space_times.size, 0.7)
    c = conditions(reaction_energy, k, space_times)
    kf = first_order_k_tau(k, space_times) * np.exp(-max(reaction_energy, 0.0) * beta)  # reverse: kf / K
    cstr = solve_cstr(c)
    pfr = integrate_pfr(conditions(reaction_energy, k, space_times))
    for outlet in (cstr, pfr):
        assert np.all(outlet.status == 0)
        assert np.allclose(outlet.equilibrium_conversion("C4H8_cis"), x_eq, rtol=1e-12)
        conversion = outlet.conversion("C4H8_cis")
        assert np.all(conversion <= x_eq * (1 + 1e-12))
        assert np.all(outlet.approach_to_equilibrium <= 1 + 1e-12)
        assert conversion[-1] == pytest.approx(x_eq, rel=1e-5)  # CSTR: x_eq (1 - 1 / (kf (1 + 1/K)))
    assert pfr.conversion("C4H8_cis")[-1] == pytest.approx(x_eq, rel=1e-10)
    assert np.allclose(cstr.conversion("C4H8_cis"), kf / (1 + kf + kf / K), rtol=0, atol=1e-9)
    assert np.allclose(pfr.conversion("C4H8_cis"), x_eq * (1 - np.exp(-kf * (1 + 1 / K))), rtol=0, atol=1e-6)


def test_equilibrium_constant_comes_from_the_catalytic_cycle():
    c = conditions(0.05, K_VALUES, 1.0)
    assert c.reactions.equations == ("C4H8_cis -> C4H8_trans",)
    assert np.allclose(c.log_k, -0.05 * constants.e / (constants.k * T), rtol=1e-12)
