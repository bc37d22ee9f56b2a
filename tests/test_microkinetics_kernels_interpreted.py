"""The steady-state kernel run as plain Python (numba's JIT disabled) against the numpy path.

The compiled kernel is checked against the numpy path in ``test_microkinetics_kernels``;
here the same source is loaded a second time, as its own module, with
``numba.config.DISABLE_JIT`` set while its functions are decorated, so every kernel
function stays the Python function it is written as. That checks the kernel's Python
semantics (the compiled code must mean what the source says) and lets line coverage see
the kernel's code, which it cannot trace inside compiled functions. The compiled module
other tests use is left as it is.
"""

import dataclasses
import importlib.util

import numpy as np
import pytest

from tests.test_microkinetics_kernels import IDS, MECHANISMS, _numpy_path
from uqms.models import microkinetics
from uqms.models.microkinetics import kernels
from uqms.models.microkinetics.batch_order import batch_order
from uqms.models.microkinetics.steady_state import (
    BAD_INPUT,
    NOT_CONVERGED,
    solve_steady_state,
)

numba = pytest.importorskip("numba", reason="numba is part of the test extra")

SAMPLES = 12  # plain Python costs ~10 ms a sample


@pytest.fixture(scope="module")
def interpreted():
    """``kernels.py`` loaded again as the module ``uqms_kernels_interpreted``, decorated with the JIT disabled."""
    spec = importlib.util.spec_from_file_location("uqms_kernels_interpreted", kernels.__file__)
    module = importlib.util.module_from_spec(spec)
    disabled = numba.config.DISABLE_JIT
    numba.config.DISABLE_JIT = True
    try:
        spec.loader.exec_module(module)
    finally:
        numba.config.DISABLE_JIT = disabled
    assert not isinstance(module._solve_lanes, numba.core.registry.CPUDispatcher)
    assert isinstance(kernels._solve_lanes, numba.core.registry.CPUDispatcher)  # the compiled module untouched
    return module


@pytest.fixture
def plain_python(monkeypatch, interpreted):
    """``solve_steady_state`` using the interpreted kernel (it imports ``kernels`` from its package)."""
    monkeypatch.delenv("UQMS_NO_NUMBA", raising=False)
    monkeypatch.setattr(microkinetics, "kernels", interpreted)
    assert interpreted.enabled()
    return interpreted


@pytest.mark.parametrize("mechanism, inputs", MECHANISMS, ids=IDS)
def test_interpreted_kernel_equals_the_numpy_path(monkeypatch, plain_python, mechanism, inputs):
    """Cold and warm starts: same statuses, iterations and continuation flags, coverages to 1e-12."""
    k, pressures = inputs(SAMPLES)
    cold = solve_steady_state(mechanism, k, pressures, along_batch=False)
    nearby = dataclasses.replace(k, forward=k.forward * 1.05, reverse=k.reverse * 0.97)
    warm = solve_steady_state(mechanism, nearby, pressures, cold)
    reference = _numpy_path(monkeypatch, mechanism, k, pressures)  # UQMS_NO_NUMBA set: the numpy path
    warm_reference = _numpy_path(monkeypatch, mechanism, nearby, pressures, reference)
    assert (reference.status == 0).all()
    for got, expected in ((cold, reference), (warm, warm_reference)):
        np.testing.assert_array_equal(got.status, expected.status)
        np.testing.assert_allclose(got.theta, expected.theta, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(got.iterations, expected.iterations)
        np.testing.assert_array_equal(got.transient, expected.transient)
    assert warm.iterations.sum() < cold.iterations.sum()


@pytest.mark.parametrize("mechanism, inputs", MECHANISMS, ids=IDS)
def test_interpreted_kernel_along_the_batch_equals_the_compiled_one(plain_python, mechanism, inputs):
    """Continuation along the batch (each Newton from the last solved sample): step for step
    what the compiled kernel does, so the same iterations and coverages to 1e-12."""
    k, pressures = inputs(SAMPLES)
    along = solve_steady_state(mechanism, k, pressures)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(microkinetics, "kernels", kernels)
        reference = solve_steady_state(mechanism, k, pressures)
    np.testing.assert_array_equal(along.status, reference.status)
    np.testing.assert_allclose(along.theta, reference.theta, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(along.iterations, reference.iterations)
    np.testing.assert_array_equal(along.transient, reference.transient)
    assert along.transient.sum() < SAMPLES  # some samples were reached from a neighbour by Newton alone


def test_interpreted_kernel_fails_and_skips_samples_as_the_numpy_path(monkeypatch, plain_python):
    """Iteration limits too small to converge, and a sample with a non-finite rate constant:
    the same statuses (not converged, bad input) and iterations as the numpy path."""
    mechanism, inputs = MECHANISMS[0]
    k, pressures = inputs(SAMPLES)
    k = dataclasses.replace(k, forward=k.forward.copy())
    k.forward[3, 0] = np.nan
    for limits in ({"max_transient": 5}, {"max_newton": 1, "max_transient": 40}):
        got = solve_steady_state(mechanism, k, pressures, along_batch=False, **limits)
        expected = _numpy_path(monkeypatch, mechanism, k, pressures, **limits)
        assert (expected.status == NOT_CONVERGED).any() and expected.status[3] == BAD_INPUT
        np.testing.assert_array_equal(got.status, expected.status)
        np.testing.assert_array_equal(got.iterations, expected.iterations)
        ok = expected.status == 0
        np.testing.assert_allclose(got.theta[ok], expected.theta[ok], rtol=0, atol=1e-12)


def test_interpreted_linear_solves_equal_numpy(interpreted):
    """Elimination with partial pivoting against numpy's solve; an exactly zero pivot (also in
    a matrix holding a NaN) reported, and the least-squares fallback against the minimum-norm
    solution numpy's path gives (NaN read as 0)."""
    rng = np.random.default_rng(3)
    regular = rng.normal(size=(5, 5))
    out = np.empty(5)
    assert interpreted._eliminate(regular.copy(), np.arange(5.0), out)
    np.testing.assert_allclose(out, np.linalg.solve(regular, np.arange(5.0)), rtol=1e-13)

    singular = np.array([[1.0, 2.0, 0.0], [2.0, 4.0, 0.0], [0.0, 0.0, 3.0]])
    rhs = np.array([1.0, 1.0, 6.0])
    assert not interpreted._eliminate(singular.copy(), rhs.copy(), np.empty(3))
    interpreted._least_squares(singular.copy(), rhs.copy(), out := np.empty(3))
    np.testing.assert_allclose(out, np.linalg.lstsq(singular, rhs, rcond=None)[0], atol=1e-14)

    with_nan = np.array([[0.0, 0.0], [np.nan, 1.0]])  # a zero pivot in a matrix holding a NaN: read as 0
    assert not interpreted._eliminate(with_nan.copy(), np.array([1.0, 2.0]), np.empty(2))
    interpreted._least_squares(with_nan.copy(), np.array([1.0, 2.0]), out := np.empty(2))
    np.testing.assert_allclose(out, np.linalg.pinv(np.nan_to_num(with_nan)) @ [1.0, 2.0], atol=1e-14)

    for rank in (1, 3, 4, 5):
        deficient = rng.normal(size=(5, rank)) @ rng.normal(size=(rank, 5))
        b = rng.normal(size=5)
        interpreted._least_squares(deficient.copy(), b, out := np.empty(5))
        np.testing.assert_allclose(out, np.linalg.pinv(deficient, rcond=1e-10) @ b, rtol=1e-9, atol=1e-12)


def test_batch_order_of_too_few_or_identical_samples_is_the_given_order():
    """Fewer than three samples, or samples without spread: nothing to order by."""
    np.testing.assert_array_equal(batch_order(np.array([[2.0, 1.0], [0.0, 5.0]])), [0, 1])
    np.testing.assert_array_equal(batch_order(np.ones((6, 3))), np.arange(6))


def test_interpreted_lanes_eliminate_as_each_lane_alone_and_step_by_least_squares_at_a_zero_pivot(monkeypatch,
                                                                                               plain_python):
    """Elimination in lanes: bitwise each lane's elimination alone, a zero pivot reported in
    its own lane only. A lane whose elimination meets one takes its step by least squares,
    as a sample alone does: on a regular system the same step to round-off, so the same
    Newton iterations and coverages to 1e-12."""
    interpreted = plain_python
    lanes = interpreted.LANES
    rng = np.random.default_rng(4)
    matrices, rhs = rng.normal(size=(5, 5, lanes)), rng.normal(size=(5, lanes))
    matrices[:, 2, 1] = 0.0  # lane 1 singular: an exactly zero pivot
    out, solved = np.empty((5, lanes)), np.empty(lanes, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):  # the singular lane's values: discarded
        interpreted._lane_eliminate(matrices.copy(), rhs.copy(), out, solved, *(np.empty(lanes) for _ in range(2)))
    for lane in range(lanes):
        alone = np.empty(5)
        assert interpreted._eliminate(matrices[:, :, lane].copy(), rhs[:, lane].copy(), alone) == solved[lane]
        if solved[lane]:
            np.testing.assert_array_equal(out[:, lane], alone)
    assert list(solved) == [lane != 1 for lane in range(lanes)]

    mechanism, inputs = MECHANISMS[0]
    k, pressures = inputs(SAMPLES)
    guess = solve_steady_state(mechanism, k, pressures, along_batch=False).theta * 1.01
    regular = solve_steady_state(mechanism, k, pressures, guess)
    eliminate, least_squares, calls = interpreted._lane_eliminate, interpreted._lane_least_squares_step, []

    def first_lane_singular_once(matrix, rhs, out, solved, *scratch):
        eliminate(matrix, rhs, out, solved, *scratch)
        solved[0] &= bool(calls)

    def counted(*arguments):
        calls.append(arguments[0])
        least_squares(*arguments)

    monkeypatch.setattr(interpreted, "_lane_eliminate", first_lane_singular_once)
    monkeypatch.setattr(interpreted, "_lane_least_squares_step", counted)
    stepped = solve_steady_state(mechanism, k, pressures, guess)
    assert calls == [0] and (stepped.status == 0).all()
    np.testing.assert_array_equal(stepped.iterations, regular.iterations)
    np.testing.assert_allclose(stepped.theta, regular.theta, rtol=0, atol=1e-12)
