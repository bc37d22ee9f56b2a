"""The compiled steady-state kernel against the numpy path (the reference), its continuation
along the batch, and the fallback to numpy where numba is missing or switched off."""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from uqms.chemistry.mechanism import load_mechanism
from uqms.models.microkinetics import kernels
from uqms.models.microkinetics.batch_order import batch_order
from uqms.models.microkinetics.from_energies import rate_constants_at
from uqms.models.microkinetics.sensitivity import (
    degree_of_rate_control,
    reaction_orders,
)
from uqms.models.microkinetics.steady_state import solve_steady_state, uniform_guess

ROOT = Path(__file__).resolve().parents[1]
AMMONIA = load_mechanism(ROOT / "workflows" / "ammonia_mechanism.toml")
CO_OXIDATION = load_mechanism(ROOT / "case_studies" / "co_oxidation" / "co_oxidation_mechanism.toml")
TWO_SITES = load_mechanism(ROOT / "workflows" / "ammonia_two_sites_mechanism.toml")
AMMONIA_PRESSURES = {"N2": 25.0, "H2": 75.0, "NH3": 0.0}

pytestmark = pytest.mark.skipif(not kernels.enabled(), reason="numba is part of the test extra")


def _ammonia(n, seed=1):
    rng = np.random.default_rng(seed)
    values = {"E_N": rng.uniform(-2.0, 1.0, n), "n2_ts_intercept": rng.normal(1.56, 0.1, n)}
    return rate_constants_at(AMMONIA, np.full(n, 673.0), values), AMMONIA_PRESSURES


def _co_oxidation(n, seed=2):
    from tests.test_co_oxidation import E_CO_RANGE, E_O_RANGE, nominal

    rng = np.random.default_rng(seed)
    batch = nominal(n) | {"E_O": rng.uniform(*E_O_RANGE, n), "E_CO": rng.uniform(*E_CO_RANGE, n)}
    return (rate_constants_at(CO_OXIDATION, batch["T"], batch),
            {"CO": batch["p_CO"], "O2": batch["p_O2"], "CO2": batch["p_CO2"]})


def _two_sites(n, seed=6):
    """Step + terrace ammonia with H spill-over and an N-N interaction on steps: two site types
    and linear coverage terms at once."""
    rng = np.random.default_rng(seed)
    values = {"E_N": rng.uniform(-2.0, 1.0, n), "n2_ts_intercept": rng.normal(1.56, 0.1, n),
              "step_density": rng.uniform(0.5e-6, 3e-6, n), "eps_NN": rng.uniform(0.0, 0.5, n)}
    k = rate_constants_at(TWO_SITES, np.full(n, 673.0), values)
    assert k.coverage is not None
    return k, AMMONIA_PRESSURES


def _numpy_path(monkeypatch, *args, **kwargs):
    with monkeypatch.context() as patch:
        patch.setenv("UQMS_NO_NUMBA", "1")
        assert not kernels.enabled()
        return solve_steady_state(*args, **kwargs)


def _lateral():
    """CO oxidation with lateral interactions and Cantera coverage dependencies (orders too)."""
    from tests.test_microkinetics_coverage_dependence import co_oxidation

    mechanism = co_oxidation()
    rng = np.random.default_rng(5)
    n = 3000
    k = rate_constants_at(mechanism, rng.uniform(450.0, 600.0, n), {})
    assert k.coverage is not None
    return mechanism, k, {"CO": 10 ** rng.uniform(-2, 0, n), "O2": 10 ** rng.uniform(-2, 0, n), "CO2": np.zeros(n)}


LATERAL, LATERAL_K, LATERAL_PRESSURES = _lateral()
MECHANISMS = [(AMMONIA, _ammonia), (CO_OXIDATION, _co_oxidation),
              (LATERAL, lambda n: (LATERAL_K[:n], {g: v[:n] for g, v in LATERAL_PRESSURES.items()})),
              (TWO_SITES, _two_sites)]
IDS = ["ammonia", "co_oxidation", "lateral_interactions", "two_site_types"]


@pytest.mark.parametrize("mechanism, inputs", MECHANISMS, ids=IDS)
def test_compiled_path_equals_the_numpy_path_to_round_off(monkeypatch, mechanism, inputs):
    """Same algorithm step for step: same statuses, coverages equal to 1e-12, iteration
    counts equal but where a residual lands on the tolerance within round-off; and so for
    warm starts from a neighbouring solution."""
    k, pressures = inputs(3000)
    compiled = solve_steady_state(mechanism, k, pressures, along_batch=False)
    reference = _numpy_path(monkeypatch, mechanism, k, pressures)
    assert (compiled.status == 0).mean() > 0.99
    np.testing.assert_array_equal(compiled.status, reference.status)
    np.testing.assert_allclose(compiled.theta, reference.theta, rtol=0, atol=1e-12)
    assert (compiled.iterations != reference.iterations).mean() < 0.01
    np.testing.assert_array_equal(compiled.transient, reference.transient)

    nearby = dataclasses.replace(k, forward=k.forward * 1.05, reverse=k.reverse * 0.97)  # a guess close to it
    warm = solve_steady_state(mechanism, nearby, pressures, compiled)
    warm_reference = _numpy_path(monkeypatch, mechanism, nearby, pressures, compiled)
    np.testing.assert_array_equal(warm.status, warm_reference.status)
    np.testing.assert_allclose(warm.theta, warm_reference.theta, rtol=0, atol=1e-12)
    assert (warm.iterations != warm_reference.iterations).mean() < 0.01
    assert warm.iterations.mean() < compiled.iterations.mean() / 3


@pytest.mark.parametrize("mechanism, inputs", MECHANISMS, ids=IDS)
def test_continuation_along_the_batch_finds_the_same_steady_states(monkeypatch, mechanism, inputs):
    """Each sample's Newton started from a solved neighbour: the same steady state as the
    cold numpy reference (to the solver's tolerance), with far fewer continuation runs."""
    k, pressures = inputs(3000)
    along = solve_steady_state(mechanism, k, pressures)
    reference = _numpy_path(monkeypatch, mechanism, k, pressures)
    np.testing.assert_array_equal(along.status, reference.status)
    ok = along.status == 0
    np.testing.assert_allclose(along.theta[ok], reference.theta[ok], rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(along.tof()[ok], reference.tof()[ok], rtol=1e-8)
    assert along.transient.mean() < 0.2 * reference.transient.mean()


def _rows(mechanism, k, pressures, start, valid, newton_first, rows):
    """``kernels.solve_rows`` of ``rows`` of a batch only (each sample on its own, no order)."""
    from uqms.models.microkinetics.kinetics import pressure_array, pressure_weighted
    from uqms.models.microkinetics.steady_state import equations_of

    forward, reverse = pressure_weighted(mechanism, k, pressure_array(mechanism, pressures, len(start)))
    coverage = None if k.coverage is None else dataclasses.replace(k.coverage, linear=k.coverage.linear[rows])
    return kernels.solve_rows(equations_of(mechanism), forward[rows], reverse[rows], coverage, start[rows], valid[rows],
                              newton_first, 1e-12, 60, 300)


@pytest.mark.parametrize("mechanism, inputs", MECHANISMS, ids=IDS)
def test_each_sample_is_solved_as_alone_whichever_samples_share_its_lanes(mechanism, inputs):
    """Newton on LANES samples at once: every sample's coverages, status, iterations,
    continuation flag and rates are bitwise the same when the batch is reversed or cut to
    every third sample (other neighbours in the lanes, other lanes); from guesses, some far
    off (Newton fails: continuation), and cold, with a sample not solved (a non-finite rate
    constant) and counts of samples that are no multiple of the lanes."""
    n = 1001
    k, pressures = inputs(n)
    k = dataclasses.replace(k, forward=k.forward.copy())
    k.forward[5, 0] = np.nan
    solved = solve_steady_state(mechanism, k, pressures, along_batch=False)
    nearby = dataclasses.replace(k, forward=k.forward * 1.05, reverse=k.reverse * 0.97)
    guess = np.where(np.isfinite(solved.theta), solved.theta, 0.5)
    guess[::97] = np.roll(guess, 1, axis=1)[::97]  # far from the steady state
    valid = np.isfinite(nearby.forward).all(axis=1)
    assert n % kernels.LANES and (n // 3) % kernels.LANES and not valid.all()
    for start, newton_first in ((guess, True), (uniform_guess(mechanism, n), False)):
        whole = _rows(mechanism, nearby, pressures, start, valid, newton_first, np.arange(n))
        assert whole.transient.any() and (whole.converged | ~valid).mean() > 0.99
        assert newton_first == (whole.transient.mean() < 0.5)
        for rows in (np.arange(n)[::-1], np.arange(5, n, 3)):
            part = _rows(mechanism, nearby, pressures, start, valid, newton_first, rows)
            for field in dataclasses.fields(kernels.Solution):
                np.testing.assert_array_equal(getattr(part, field.name), getattr(whole, field.name)[rows],
                                              err_msg=field.name)


def test_singular_systems_get_the_least_squares_solution_as_in_numpy():
    """An exactly zero pivot: numpy's path falls back to the pseudo-inverse; elimination
    reports it, and the kernel's least squares gives numpy's solution."""
    matrix = np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [0.0, 0.0, 3.0]])
    rhs = np.array([1.0, 1.0, 6.0])
    assert not kernels._eliminate(matrix.copy(), rhs.copy(), np.empty(3))
    kernels._least_squares(matrix.copy(), rhs.copy(), out := np.empty(3))
    np.testing.assert_allclose(out, np.linalg.lstsq(matrix, rhs, rcond=None)[0], atol=1e-14)
    rng = np.random.default_rng(3)
    for rank in (1, 3, 4, 5):  # the least-squares solver itself against numpy's pseudo-inverse
        deficient = rng.normal(size=(5, rank)) @ rng.normal(size=(rank, 5))
        b = rng.normal(size=5)
        kernels._least_squares(deficient.copy(), b, out := np.empty(5))
        np.testing.assert_allclose(out, np.linalg.pinv(deficient, rcond=1e-10) @ b, rtol=1e-9, atol=1e-12)
    regular = rng.normal(size=(5, 5))
    out = np.empty(5)
    assert kernels._eliminate(regular.copy(), np.arange(5.0), out)
    np.testing.assert_allclose(out, np.linalg.solve(regular, np.arange(5.0)), rtol=1e-13)


def test_stacked_systems_solved_as_numpy_solves_them_singular_members_by_least_squares():
    """The compiled stacked solve against numpy's LAPACK solve: same solutions to round-off
    on 5x5 systems with one and with several right-hand sides, residuals as small; an
    exactly singular member gets the pseudo-inverse solution, a NaN member stays NaN, and
    neither touches the others."""
    rng = np.random.default_rng(7)
    matrix, rhs = rng.normal(size=(1000, 5, 5)), rng.normal(size=(1000, 5, 6))
    matrix[3] = rng.normal(size=(5, 2)) @ rng.normal(size=(2, 5))  # rank 2
    matrix[3, :, 4] = 0.0  # an exactly zero pivot
    matrix[8, 2, 2] = np.nan
    solved = kernels.solve_stack(matrix, rhs)
    regular = np.setdiff1d(np.arange(1000), [3, 8])
    reference = np.linalg.solve(matrix[regular], rhs[regular])
    np.testing.assert_allclose(solved[regular], reference, rtol=1e-10, atol=1e-10)
    residual = np.abs(np.einsum("nij,njk->nik", matrix[regular], solved[regular]) - rhs[regular]).max(axis=(1, 2))
    lapack = np.abs(np.einsum("nij,njk->nik", matrix[regular], reference) - rhs[regular]).max(axis=(1, 2))
    assert np.median(residual) <= 2 * np.median(lapack) and residual.max() < 1e-12
    np.testing.assert_allclose(solved[3], np.linalg.pinv(matrix[3], rcond=1e-15) @ rhs[3], rtol=1e-9, atol=1e-12)
    assert np.isnan(solved[8]).all()
    np.testing.assert_allclose(kernels.solve_stack(matrix[regular], rhs[regular, :, 0]), reference[..., 0],
                               rtol=1e-10, atol=1e-10)  # one right-hand side


@pytest.mark.parametrize("mechanism, inputs", MECHANISMS, ids=IDS)
def test_compiled_sensitivities_equal_the_numpy_path(monkeypatch, mechanism, inputs):
    """Degrees of rate control and reaction orders of one steady state (the implicit-function
    theorem's stacked solves compiled) equal those of the numpy path; the ill-conditioned
    ammonia Jacobians leave differences of ~1e-10 on these dimensionless numbers."""
    k, pressures = inputs(3000)
    state = solve_steady_state(mechanism, k, pressures)
    compiled = degree_of_rate_control(state), reaction_orders(state)
    with monkeypatch.context() as patch:
        patch.setenv("UQMS_NO_NUMBA", "1")
        reference = degree_of_rate_control(state), reaction_orders(state)
    for fast, slow in zip(compiled, reference):
        np.testing.assert_array_equal(np.isfinite(fast), np.isfinite(slow))
        assert np.isfinite(slow).mean() > 0.99
        np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-9)


def test_batch_order_puts_neighbours_next_to_each_other():
    """Consecutive samples along the order are far closer than in the given (random) order."""
    points = np.random.default_rng(4).uniform(size=(20000, 3)) @ np.array([[1, 0, 0, 1], [0, 1, 0, 1], [0, 0, 1, 0.0]])
    order = batch_order(points)
    np.testing.assert_array_equal(np.sort(order), np.arange(len(points)))
    along = np.linalg.norm(np.diff(points[order], axis=0), axis=1)
    given = np.linalg.norm(np.diff(points, axis=0), axis=1)
    assert np.median(along) < 0.1 * np.median(given)


def test_without_numba_the_numpy_path_runs(tmp_path):
    """A machine without numba (its import blocked) solves on the numpy path."""
    script = (
        "import sys; sys.modules['numba'] = None\n"
        "import numpy as np\n"
        "from uqms.models.microkinetics import kernels\n"
        "from uqms.models.microkinetics.steady_state import solve_steady_state\n"
        "from tests.test_microkinetics_kernels import AMMONIA, _ammonia\n"
        "assert kernels.numba is None and not kernels.enabled()\n"
        "k, p = _ammonia(200)\n"
        "state = solve_steady_state(AMMONIA, k, p)\n"
        "assert (state.status == 0).all() and state.transient.all()\n"
        "np.save(sys.argv[1], state.theta)\n"
    )
    target = tmp_path / "theta.npy"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    subprocess.run([sys.executable, "-c", script, str(target)], check=True, cwd=ROOT, env=env)
    k, p = _ammonia(200)
    np.testing.assert_allclose(np.load(target), solve_steady_state(AMMONIA, k, p, along_batch=False).theta,
                               rtol=0, atol=1e-12)


def test_site_average_with_warm_started_nodes_equals_the_cold_reference(monkeypatch):
    """The site-averaged ammonia chain (12 site nodes per sample, solved as one flat batch in
    which nodes start from their neighbours) gives the averages of the cold numpy path."""
    from uqms.workflow import Workflow

    flow = Workflow.from_file(ROOT / "workflows" / "ammonia_sites_ensemble.toml")
    fast = flow.run(n=300, scheduler="synchronous")
    with monkeypatch.context() as patch:
        patch.setenv("UQMS_NO_NUMBA", "1")
        reference = flow.run(n=300, scheduler="synchronous")
    assert (fast.status.values == 0).all()
    np.testing.assert_array_equal(fast.status.values, reference.status.values)
    for name in ("tof", "coverage", "tof_site_share"):
        np.testing.assert_allclose(fast[name].values, reference[name].values, rtol=1e-8, atol=1e-14, err_msg=name)
