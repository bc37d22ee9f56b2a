"""Rate constants: TST, collision theory, and thermodynamic consistency of the reverse rates."""

from pathlib import Path

import numpy as np
import pytest
from scipy import constants

from uqms.chemistry.mechanism import load_mechanism
from uqms.models.energetics.mechanism_energies import gas_corrections
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.rate_constants import (
    BOLTZMANN,
    collision_rate_constant,
    reaction_free_energies,
    tst_rate_constant,
)

AMMONIA = Path(__file__).resolve().parents[1] / "workflows" / "ammonia_mechanism.toml"


def test_tst_prefactor_is_kT_over_h():
    # k_B T / h at 673 K = 1.4023e13 1/s
    assert tst_rate_constant(np.array([0.0]), np.array([673.0]))[0] == pytest.approx(1.40233e13, rel=1e-4)
    k = tst_rate_constant(np.array([1.0]), np.array([500.0]), prefactor=np.array([1e13]))
    assert k[0] == pytest.approx(1e13 * np.exp(-1.0 / (8.617333e-5 * 500.0)), rel=1e-6)


def test_collision_theory_is_the_impingement_rate_per_site():
    # N2 at 1 bar, 673 K on 6.4 A^2: p A / sqrt(2 pi m k T)
    m = 28.0134 * constants.atomic_mass
    expected = 1e5 * 6.4e-20 / np.sqrt(2 * np.pi * m * constants.k * 673.0)
    k = collision_rate_constant(np.array([1.0]), 6.4, 28.0134, np.array([673.0]), np.array([0.0]))
    assert k[0] == pytest.approx(expected, rel=1e-12)
    assert 1e8 < expected < 1e9  # order of magnitude: ~1.2e8 per site, second and bar
    half = collision_rate_constant(np.array([0.5]), 6.4, 28.0134, np.array([673.0]), np.array([0.2]))
    assert half[0] == pytest.approx(0.5 * expected * np.exp(-0.2 / (BOLTZMANN * 673.0)))


def test_every_cycle_reproduces_the_gas_phase_equilibrium_constant():
    """Product over the steps of K_j^(cycle count) equals K of N2 + 3 H2 <=> 2 NH3 for any E_N."""
    m = load_mechanism(AMMONIA)
    e_n = np.linspace(-2.0, 1.0, 7)
    t = np.full(7, 673.0)
    batch = {"E_N": e_n, "n2_ts_intercept": np.full(7, 1.56)}
    k = rate_constants_at(m, t, batch)
    cycle = np.array([1, 3, 2, 2, 2])  # times each step runs to make 2 NH3
    log_k_cycle = np.log(k.equilibrium) @ cycle
    g = gas_corrections(m, t, batch)
    gas_energy = np.array([0.0, 0.0, -0.84]) + g  # G(T, 1 bar) of N2, H2, NH3
    log_k_gas = -(2 * gas_energy[:, 2] - gas_energy[:, 0] - 3 * gas_energy[:, 1]) / (BOLTZMANN * t)
    np.testing.assert_allclose(log_k_cycle, log_k_gas, rtol=1e-12)
    assert np.ptp(log_k_cycle) < 1e-9  # the descriptor cancels
    dG = reaction_free_energies(m, np.zeros((7, 5)), g)
    np.testing.assert_allclose(dG[:, 2], 0.0)  # surface steps carry no gas terms
