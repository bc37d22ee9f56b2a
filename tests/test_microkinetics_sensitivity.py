"""Degree of rate control, reaction orders and apparent activation energy against finite differences."""

from pathlib import Path

import numpy as np
import pytest

from uqms.chemistry.mechanism import Mechanism, load_mechanism
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.kinetics import equations_of
from uqms.models.microkinetics.rate_constants import BOLTZMANN, RateConstants
from uqms.models.microkinetics.sensitivity import (
    apparent_activation_energy,
    degree_of_rate_control,
    reaction_orders,
    steady_derivatives,
)
from uqms.models.microkinetics.steady_state import solve_steady_state

AMMONIA = Path(__file__).resolve().parents[1] / "workflows" / "ammonia_mechanism.toml"
PRESSURES = {"N2": 25.0, "H2": 75.0, "NH3": 0.0}


@pytest.fixture(scope="module")
def ammonia():
    m = load_mechanism(AMMONIA)
    e_n = np.linspace(-2.0, 1.0, 16)
    k = rate_constants_at(m, np.full(16, 673.0), {"E_N": e_n, "n2_ts_intercept": np.full(16, 1.56)})
    return m, k, solve_steady_state(m, k, PRESSURES)


def test_degree_of_rate_control_sums_to_one_and_matches_finite_differences(ammonia):
    m, k, state = ammonia
    drc = degree_of_rate_control(state)[:, :, 0]
    np.testing.assert_allclose(drc.sum(axis=1), 1.0, atol=1e-8)  # single product (Campbell)
    h = 1e-4
    for j in range(len(m.steps)):
        factor = np.ones(len(m.steps))
        factor[j] = np.exp(h)
        up = solve_steady_state(m, RateConstants(k.forward * factor, k.reverse * factor), PRESSURES, state)
        down = solve_steady_state(m, RateConstants(k.forward / factor, k.reverse / factor), PRESSURES, state)
        numeric = (np.log(up.tof()) - np.log(down.tof()))[:, 0] / (2 * h)
        np.testing.assert_allclose(drc[:, j], numeric, atol=2e-5, err_msg=m.step_names[j])


def test_reaction_orders_match_finite_differences(ammonia):
    m, k, state = ammonia
    orders = reaction_orders(state)[:, 0, :]
    h = 1e-4
    for gas in ("N2", "H2"):
        up = solve_steady_state(m, k, {**PRESSURES, gas: PRESSURES[gas] * np.exp(h)}, state)
        down = solve_steady_state(m, k, {**PRESSURES, gas: PRESSURES[gas] * np.exp(-h)}, state)
        numeric = (np.log(up.tof()) - np.log(down.tof()))[:, 0] / (2 * h)
        np.testing.assert_allclose(orders[:, m.gas.index(gas)], numeric, atol=2e-5, err_msg=gas)
    np.testing.assert_allclose(orders[:, m.gas.index("NH3")], 0.0)  # no NH3 in the feed


def test_steady_derivatives_blank_rows_not_finite_and_solve_singular_ones_alone(ammonia):
    """A row with non-finite coverages gets NaN, a row without any flux (singular Jacobian) the
    least-squares solution, and neither changes the others: each row as if solved alone."""
    m, _, state = ammonia
    equations = equations_of(m)
    forward, reverse, x = state.forward.copy(), state.reverse.copy(), np.log(state.theta)
    direct = state.net_rates[:, :, None] * np.eye(len(m.steps))[None]
    x[3, 0] = np.nan
    forward[7], reverse[7], direct[7] = 0.0, 0.0, 0.0  # no flux: the balance rows of the Jacobian vanish
    log_theta, net = steady_derivatives(equations, forward, reverse, x, state.coverage, direct)
    assert np.isnan(log_theta[3]).all() and np.isnan(net[3]).all()
    assert np.isfinite(log_theta[np.arange(16) != 3]).all() and np.isfinite(net[np.arange(16) != 3]).all()
    for row in (0, 7, 15):
        alone = steady_derivatives(equations, forward[[row]], reverse[[row]], x[[row]], state.coverage, direct[[row]])
        np.testing.assert_allclose(log_theta[row], alone[0][0], rtol=1e-12, atol=1e-300)
        np.testing.assert_allclose(net[row], alone[1][0], rtol=1e-12, atol=1e-300)
    np.testing.assert_array_equal(log_theta[7], 0.0)  # no drive: the minimum-norm solution
    np.testing.assert_array_equal(net[7], 0.0)


def test_apparent_activation_energy_at_low_coverage():
    """A + * <=> A*, A* -> B + * with theta_A << 1: TOF = (k_B T/h) e^(-Ea2/kT) K1 p, so E_app = Ea2 + dE1 + k_B T."""
    m = Mechanism.from_dict({
        "mechanism": {"name": "low_coverage", "products": ["CO_b"]},
        "gas": {"CO_a": {"mass": 28.0}, "CO_b": {"mass": 28.0}},
        "sites": {"s": {"adsorbates": ["CO*"]}},
        "steps": [{"equation": "CO_a + * <=> CO*", "reaction_energy": -0.3, "barrier": 0.0},
                  {"equation": "CO* <=> CO_b + *", "reaction_energy": -0.5, "barrier": 1.2}],
    })
    t = np.array([500.0, 600.0])

    def tof_at(temperature):
        state = solve_steady_state(m, rate_constants_at(m, temperature, {}), {"CO_a": 1e-7, "CO_b": 0.0})
        return state.tof()

    energy = apparent_activation_energy(tof_at, t)[:, 0]
    np.testing.assert_allclose(energy, 1.2 - 0.3 + BOLTZMANN * t, atol=1e-3)  # theta_A < 1e-4
