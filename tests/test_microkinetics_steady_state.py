"""The batched steady-state solver against independent solutions."""

from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

from uqms.chemistry.mechanism import Mechanism, load_mechanism
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.kinetics import directional_rates, pressure_array
from uqms.models.microkinetics.rate_constants import RateConstants
from uqms.models.microkinetics.steady_state import (
    BAD_INPUT,
    NOT_CONVERGED,
    OK,
    _distinct_rows,
    _ranks,
    resolved_net_rates,
    solve_steady_state,
)

AMMONIA = Path(__file__).resolve().parents[1] / "workflows" / "ammonia_mechanism.toml"


def _mechanism(gas, adsorbates, steps, products, sites=None):
    return Mechanism.from_dict({
        "mechanism": {"name": "test", "products": products},
        "gas": {g: {"mass": 28.0} for g in gas},
        "sites": sites or {"s": {"adsorbates": adsorbates}},
        "steps": [{"equation": e, "reaction_energy": 0.0, "barrier": 0.0} for e in steps],
    })


def _constants(mechanism, reaction_energy, barrier, temperature):
    n = len(reaction_energy)
    return rate_constants_at(mechanism, np.full(n, temperature), {}, reaction_energy, barrier)


def test_adsorption_desorption_follows_the_langmuir_isotherm():
    """A + * <=> A*: theta = K p / (1 + K p), from nearly empty to nearly full."""
    m = _mechanism(["CO"], ["CO*"], ["CO + * <=> CO*"], ["CO"])
    rng = np.random.default_rng(1)
    n = 400
    reaction = rng.uniform(-2.0, 1.0, (n, 1))
    p = 10 ** rng.uniform(-4, 2, (n, 1))
    k = _constants(m, reaction, np.maximum(reaction, 0), 500.0)
    state = solve_steady_state(m, k, p)
    kp = k.equilibrium * p
    assert (state.status == OK).all()
    np.testing.assert_allclose(state.coverages, kp / (1 + kp), rtol=1e-9)
    np.testing.assert_allclose(state.free_sites, 1 / (1 + kp), rtol=1e-9)
    assert state.coverages.max() > 1 - 1e-6 and state.coverages.min() < 1e-6


def test_adsorption_with_surface_reaction_matches_the_closed_form():
    """A + * <=> A*, A* -> B + *: theta_A = k1 p / (k1 p + k-1 + k2) (REFERENCES.md)."""
    m = _mechanism(["CO_a", "CO_b"], ["CO*"], ["CO_a + * <=> CO*", "CO* <=> CO_b + *"], ["CO_b"])
    rng = np.random.default_rng(2)
    n = 300
    reaction = np.column_stack([rng.uniform(-1.5, 0.5, n), rng.uniform(-0.5, 0.5, n)])
    barrier = np.column_stack([np.maximum(reaction[:, 0], 0), rng.uniform(0.5, 1.5, n)])
    k = _constants(m, reaction, np.maximum(barrier, reaction), 600.0)
    p = np.column_stack([10 ** rng.uniform(-3, 1, n), np.zeros(n)])  # no B: step 2 irreversible
    state = solve_steady_state(m, k, p)
    k1p, k_1, k2 = k.forward[:, 0] * p[:, 0], k.reverse[:, 0], k.forward[:, 1]
    theta = k1p / (k1p + k_1 + k2)
    np.testing.assert_allclose(state.coverages[:, 0], theta, rtol=1e-9)
    np.testing.assert_allclose(state.tof()[:, 0], k2 * theta, rtol=1e-9)


def test_branching_products_and_the_rates_of_a_quasi_equilibrated_step():
    """A + * <=> A*, A* -> B + *, A* -> C + *: theta = k1 p / (k1 p + k-1 + k2 + k3), TOF_B = k2 theta,
    TOF_C = k3 theta, and the adsorption's net rate is exactly TOF_B + TOF_C, although it runs
    about 1e12 times faster in each direction (forward - reverse alone is round-off there)."""
    m = _mechanism(["CO_a", "CO_b", "CO_c"], ["CO*"], ["CO_a + * <=> CO*", "CO* <=> CO_b + *", "CO* <=> CO_c + *"],
                   ["CO_b", "CO_c"])
    rng = np.random.default_rng(4)
    n = 200
    reaction = np.column_stack([rng.uniform(-0.3, 0.0, n), rng.uniform(-0.5, 0.5, (n, 2))])
    barrier = np.column_stack([np.zeros(n), rng.uniform(1.8, 2.2, (n, 2))])
    k = _constants(m, reaction, np.maximum(barrier, reaction), 600.0)
    p = np.column_stack([np.ones(n), np.zeros((n, 2))])  # no B or C in the gas: their steps are irreversible
    state = solve_steady_state(m, k, p)
    k1p, k_1, k2, k3 = k.forward[:, 0] * p[:, 0], k.reverse[:, 0], k.forward[:, 1], k.forward[:, 2]
    theta = k1p / (k1p + k_1 + k2 + k3)
    np.testing.assert_allclose(state.tof(), np.column_stack([k2 * theta, k3 * theta]), rtol=1e-9)
    np.testing.assert_allclose(state.selectivity()[:, 0], k2 / (k2 + k3), rtol=1e-9)
    np.testing.assert_allclose(state.net_rates[:, 0], state.tof().sum(axis=1), rtol=1e-12)
    assert ((state.forward + state.reverse)[:, 0] / state.tof().sum(axis=1)).min() > 1e11


def test_langmuir_hinshelwood_rate_matches_the_closed_form():
    """CO + O2 with quasi-equilibrated adsorption: TOF = k3 K1 p_CO sqrt(K2 p_O2) / D^2 (REFERENCES.md)."""
    m = _mechanism(["CO", "O2", "CO2"], ["CO*", "O*"],
                   ["CO + * <=> CO*", "O2 + 2* <=> 2O*", "CO* + O* <=> CO2 + 2*"], ["CO2"])
    rng = np.random.default_rng(3)
    n = 200
    reaction = np.column_stack([rng.uniform(-1.2, -0.6, n), rng.uniform(-1.4, -0.6, n), np.full(n, -0.5)])
    barrier = np.column_stack([np.zeros(n), np.zeros(n), np.full(n, 2.4)])  # surface reaction 1e-10 x desorption
    k = _constants(m, reaction, barrier, 500.0)
    p = np.column_stack([10 ** rng.uniform(-2, 0, n), 10 ** rng.uniform(-2, 0, n), np.zeros(n)])
    state = solve_steady_state(m, k, p)
    K1, K2, k3 = k.equilibrium[:, 0], k.equilibrium[:, 1], k.forward[:, 2]
    d = 1 + K1 * p[:, 0] + np.sqrt(K2 * p[:, 1])
    assert (state.status == OK).all()
    np.testing.assert_allclose(state.coverages[:, 0], K1 * p[:, 0] / d, rtol=1e-6)
    np.testing.assert_allclose(state.coverages[:, 1], np.sqrt(K2 * p[:, 1]) / d, rtol=1e-6)
    np.testing.assert_allclose(state.tof()[:, 0], k3 * K1 * p[:, 0] * np.sqrt(K2 * p[:, 1]) / d**2, rtol=1e-6)


def _ammonia_bdf_tof(kf, kr, p_n2, p_h2):
    """TOF of NH3 from a long BDF integration of the hand-written ammonia rate equations.

    Integrated in log-coverages from a nearly clean surface, in decades of time, until
    the state stops moving and the time exceeds 30 times the slowest relaxation time.
    """
    # rates in extended precision: near steady state the net rates are small differences of
    # large ones, and double-precision round-off would make BDF crawl
    f1, f2, f3, f4, f5 = np.asarray(kf, dtype=np.longdouble)
    b1, b2, b3, b4, _ = np.asarray(kr, dtype=np.longdouble)  # p_NH3 = 0: NH3 re-adsorption has no rate

    def rates(y):
        n, h, nh, nh2, v = np.asarray(y, dtype=np.longdouble)
        return (f1 * p_n2 * v * v - b1 * n * n, f2 * p_h2 * v * v - b2 * h * h, f3 * n * h - b3 * nh * v,
                f4 * nh * h - b4 * nh2 * v, f5 * nh2 * h)

    def rhs(y):
        r1, r2, r3, r4, r5 = rates(y)
        return np.array([2 * r1 - r3, 2 * r2 - r3 - r4 - r5, r3 - r4, r4 - r5, -2 * r1 - 2 * r2 + r3 + r4 + 2 * r5],
                        dtype=np.longdouble)

    def jac(y):
        n, h, nh, nh2, v = y
        d1 = np.array([-2 * b1 * n, 0, 0, 0, 2 * f1 * p_n2 * v])
        d2 = np.array([0, -2 * b2 * h, 0, 0, 2 * f2 * p_h2 * v])
        d3 = np.array([f3 * h, f3 * n, -b3 * v, 0, -b3 * nh])
        d4 = np.array([0, f4 * nh, f4 * h, -b4 * v, -b4 * nh2])
        d5 = np.array([0, f5 * nh2, 0, f5 * h, 0])
        return np.array([2 * d1 - d3, 2 * d2 - d3 - d4 - d5, d3 - d4, d4 - d5, -2 * d1 - 2 * d2 + d3 + d4 + 2 * d5])

    calls = [0]

    def log_rhs(t, z):
        calls[0] += 1
        if calls[0] > 200_000:  # fail rather than crawl if BDF cannot settle
            raise RuntimeError("the BDF reference did not settle")
        y = np.exp(np.asarray(z, dtype=np.longdouble))
        return (rhs(y) / y).astype(float)

    def log_jac(t, z):
        y = np.exp(z)
        return (jac(y) * y[None, :] / y[:, None] - np.diag(log_rhs(t, z))).astype(float)

    t0, z = 0.0, np.log([1e-10, 1e-10, 1e-10, 1e-10, 1 - 4e-10])
    for end in 10.0 ** np.arange(-12, 21):
        sol = solve_ivp(log_rhs, (t0, end), z, method="BDF", jac=log_jac, rtol=1e-9, atol=1e-9)
        change = np.abs(sol.y[:, -1] - z).max()
        t0, z = sol.t[-1], sol.y[:, -1]
        slowest = np.sort(np.abs(np.linalg.eigvals(jac(np.exp(z)).astype(float))))[1]  # [0] is the site balance
        if sol.success and change < 1e-9 and end * slowest > 30:
            break
    return float(rates(np.exp(z))[4])


def test_ammonia_steady_state_matches_long_stiff_bdf_integration():
    """TOF to 1e-6 relative from -1.5 to +1.5 eV around the optimum (E_N ~ -0.5 eV), stiff ends included."""
    m = load_mechanism(AMMONIA)
    e_n = np.linspace(-2.0, 1.0, 13)
    k = rate_constants_at(m, np.full(13, 673.0), {"E_N": e_n, "n2_ts_intercept": np.full(13, 1.56)})
    state = solve_steady_state(m, k, {"N2": 25.0, "H2": 75.0, "NH3": 0.0})
    assert (state.status == OK).all()
    reference = np.array([_ammonia_bdf_tof(k.forward[i], k.reverse[i], 25.0, 75.0) for i in range(13)])
    assert reference.max() / reference.min() > 1e12  # the grid spans the stiff ends of the volcano
    np.testing.assert_allclose(state.tof()[:, 0], reference, rtol=1e-6)


def test_every_returned_sample_is_checked_and_failures_are_flagged():
    m = load_mechanism(AMMONIA)
    e_n = np.array([-1.0, -0.5, 0.0])
    k = rate_constants_at(m, np.full(3, 673.0), {"E_N": e_n, "n2_ts_intercept": np.full(3, 1.56)})
    forward = k.forward.copy()
    forward[1, 2] = np.nan
    state = solve_steady_state(m, RateConstants(forward, k.reverse))
    assert state.status.tolist() == [OK, BAD_INPUT, OK]
    assert np.isnan(state.theta[1]).all() and np.isfinite(state.theta[[0, 2]]).all()
    np.testing.assert_allclose(state.theta[[0, 2]].sum(axis=1), 1.0, atol=1e-12)
    assert (state.residual[[0, 2]] < 1e-9).all()
    forward, reverse = directional_rates(m, k, pressure_array(m, None, 3), state.theta)  # rates from coverages
    np.testing.assert_allclose(forward[[0, 2]], state.forward[[0, 2]], rtol=1e-12)
    np.testing.assert_allclose(reverse[[0, 2]], state.reverse[[0, 2]], rtol=1e-12)
    starved = solve_steady_state(m, k, max_newton=1, max_transient=1)  # no budget to converge
    assert (starved.status == NOT_CONVERGED).all() and np.isnan(starved.tof()).all()


def test_warm_start_converges_in_a_few_newton_steps():
    m = load_mechanism(AMMONIA)
    e_n = np.linspace(-2.0, 1.0, 200)
    batch = {"E_N": e_n, "n2_ts_intercept": np.full(200, 1.56)}
    cold = solve_steady_state(m, rate_constants_at(m, np.full(200, 673.0), batch), along_batch=False)
    warm = solve_steady_state(m, rate_constants_at(m, np.full(200, 675.0), batch), guess=cold)
    assert (warm.status == OK).all() and not warm.transient.any()
    assert warm.iterations.max() <= 6 < cold.iterations.mean()


def test_two_site_types_keep_both_site_balances():
    """A(g) -> A*a -> B*b -> B(g): at steady state the three net rates are equal.

    (to round-off of forward - reverse: 1e-9 of the gross rate through the chain)
    """
    sites = {"a": {"adsorbates": ["C4H8*a"], "density": 1e-5}, "b": {"adsorbates": ["C4H8*b"], "density": 1e-5}}
    m = _mechanism(["C4H8_cis", "C4H8_trans"], None,
                   ["C4H8_cis + *a <=> C4H8*a", "C4H8*a + *b <=> C4H8*b + *a", "C4H8*b <=> C4H8_trans + *b"],
                   ["C4H8_trans"], sites)
    rng = np.random.default_rng(4)
    n = 100
    reaction = rng.uniform(-1.0, 0.5, (n, 3))
    k = _constants(m, reaction, np.maximum(reaction, 0) + rng.uniform(0, 1.0, (n, 3)), 550.0)
    state = solve_steady_state(m, k, np.column_stack([np.ones(n), np.full(n, 0.1)]))
    assert (state.status == OK).all()
    np.testing.assert_allclose(state.theta @ m.site_membership.T, 1.0, atol=1e-12)
    rates, gross = state.net_rates, (state.forward + state.reverse).max(axis=1)
    assert (np.abs(rates[:, 1] - rates[:, 0]) <= 1e-9 * gross).all()
    assert (np.abs(rates[:, 2] - rates[:, 0]) <= 1e-9 * gross).all()
    assert np.abs(rates[:, 0]).max() > 1e-3 * gross.max()  # not a trivial equilibrium


def test_net_rates_resolved_per_ranking_equal_per_sample_least_squares():
    """Net rates computed once per distinct ranking of the steps equal those of each sample
    solved on its own: its least irreversible steps with independent balance columns from
    ``numpy.linalg.lstsq`` on the balances, the others' forward - reverse kept; a failed
    (NaN) sample stays NaN and the balances hold."""
    m = load_mechanism(AMMONIA)
    balance = (m.product_surface - m.reactant_surface).T[: len(m.adsorbates)]
    rng = np.random.default_rng(7)
    n, steps = 300, balance.shape[1]
    forward = 10 ** rng.uniform(-3, 3, (n, steps))
    reverse = forward * rng.uniform(0.0, 1.0, (n, steps))  # every ranking of irreversibility occurs
    forward[17] = np.nan
    resolved = resolved_net_rates(forward, reverse, balance)
    assert np.isnan(resolved[17]).all()
    for i in np.delete(np.arange(n), 17):
        net = forward[i] - reverse[i]
        chosen = []
        for step in np.argsort(np.abs(net) / (forward[i] + reverse[i]), kind="stable"):
            if np.linalg.matrix_rank(balance[:, [*chosen, step]]) > len(chosen):
                chosen.append(step)
        trusted = np.setdiff1d(np.arange(steps), chosen)
        expected = net.copy()
        expected[chosen] = np.linalg.lstsq(balance[:, chosen], -balance[:, trusted] @ net[trusted], rcond=None)[0]
        np.testing.assert_allclose(resolved[i], expected, rtol=1e-10, atol=1e-12 * np.abs(net).max())
    np.testing.assert_allclose(np.delete(resolved, 17, axis=0) @ balance.T, 0.0, atol=1e-9)


def test_distinct_rows_of_many_steps_fall_back_to_row_comparison():
    """Rankings of up to 6 steps are looked up in a table, up to 15 keyed by one sorted integer,
    longer ones compared row by row: each gives each sample's own row back."""
    rng = np.random.default_rng(8)
    for steps in (5, 8, 16):
        ranks = np.argsort(rng.uniform(size=(50, steps)), axis=1)[rng.integers(0, 50, 400)]
        distinct, which = _distinct_rows(ranks)
        np.testing.assert_array_equal(distinct[which], ranks)
        assert len(np.unique(distinct, axis=0)) == len(distinct) <= 50


def test_ranks_within_rows_equal_a_stable_argsort():
    """Ranks of each entry in its row, ties broken by column, infinities last: as from a stable
    ``numpy.argsort`` of each row."""
    rng = np.random.default_rng(9)
    values = rng.integers(0, 4, (500, 6)).astype(float)  # many ties
    values[rng.uniform(size=values.shape) < 0.1] = np.inf
    expected = np.argsort(np.argsort(values, axis=1, kind="stable"), axis=1, kind="stable")
    np.testing.assert_array_equal(_ranks(values), expected)


def test_stacked_solves_with_several_right_hand_sides_equal_one_column_at_a_time():
    """One factorisation per member for all its columns (the sensitivities' solve), a singular
    member among them isolated and given the least-squares solution, as for single columns."""
    from uqms.models.microkinetics.steady_state import _solve

    rng = np.random.default_rng(7)
    matrix = rng.normal(size=(9, 5, 5))
    matrix[4] = np.outer(rng.normal(size=5), rng.normal(size=5))  # rank one: LU fails for the stack
    rhs = rng.normal(size=(9, 5, 3))
    together = _solve(matrix, rhs)
    apart = np.stack([_solve(matrix, rhs[:, :, c]) for c in range(3)], axis=2)
    np.testing.assert_allclose(together, apart, rtol=1e-12, atol=1e-12)
    regular = np.arange(9) != 4
    np.testing.assert_allclose(np.einsum("nij,njc->nic", matrix[regular], together[regular]), rhs[regular], atol=1e-10)
    np.testing.assert_allclose(together[4], np.linalg.pinv(matrix[4]) @ rhs[4], atol=1e-12)
