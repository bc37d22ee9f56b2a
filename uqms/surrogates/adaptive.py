"""Adaptive training: run the expensive chain where the surrogate is least certain until its
cross-validated error reaches a target.

The loop: run the workflow's chain on an initial design of ``initial`` samples (through
uqms's runner: in this process, on a local Dask cluster or on a scheduler, like ``uqms run``),
fit (:func:`~uqms.surrogates.fit_surrogate`),
and while the largest relative LOO error of an output entry (LOO mean square / variance, the
surrogate's :attr:`~uqms.surrogates.model.Surrogate.relative_error`) is above the target and
fewer than ``max_samples`` have run, add ``step`` samples chosen from a pool of candidates
drawn from the inputs' distribution (:meth:`~uqms.workflow.Workflow.sample_inputs` with
another seed), run the chain on them and fit again.

Which candidates, by ``criterion = "gp"``. The GP's predictive standard deviation alone does not depend on the
values seen, only on where the samples are: it spreads samples evenly and finds a narrow
feature only by chance. Each candidate's standard deviation is therefore weighted by the
GP's leave-one-out residual at its nearest training sample (distance in length scales) plus
the mean absolute residual, so that where the surrogate has been wrong gets more samples and
the criterion falls back to the standard deviation where it has been uniformly right (the
"expected prediction error" family of criteria: Liu, Cai and Ong 2016, Kyprioti et al. 2020).
The ``step`` candidates of one round are chosen one at a time, each added to the GP's
training inputs before the next (its standard deviation needs no value there), so that one
round does not pile its samples in one spot. With several output entries a candidate scores
the largest of its entries' scores, each in the entry's normalised units.

By ``criterion = "pce"``, the PCE's leave-one-out residuals (closed form, from the leverages of
each entry's selected basis) decide, with no GP: each training sample owns the candidates
nearest to it (its Voronoi cell), and a candidate scores the LOO residual of its owner times its
distance from it, so the next sample goes far from the others inside the cell of the sample
predicted worst (the CV-Voronoi criterion of Xu et al. 2014, J. Mech. Des. 136, 071009). A
candidate chosen in a round joins the samples, owning a cell with its owner's residual.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from uqms.surrogates.fit import fit_surrogate, training_data
from uqms.surrogates.model import METHODS, Surrogate

if TYPE_CHECKING:
    from uqms.workflow import Workflow

CRITERIA = ("gp", "pce")


@dataclass
class Training:
    """The result of :func:`train_adaptively`.

    Attributes:
        surrogate: the last fit.
        history: ``[(samples run, largest relative LOO error), ...]`` one per fit.
        run: the training run (a run Dataset of the samples the chain ran on, in order).
        reached: whether the target was reached (else the budget was spent).
    """

    surrogate: Surrogate
    history: list[tuple[int, float]] = field(default_factory=list)
    run: xr.Dataset | None = None
    reached: bool = False


def candidate_scores(model: Surrogate, u: np.ndarray, extra: np.ndarray | None = None) -> np.ndarray:
    """``(n,)`` score of each candidate at scaled inputs ``u (n, d)``: the GP's predictive standard
    deviation weighted by the LOO residual at the nearest training sample plus the mean absolute
    residual (see the module docstring), the largest over entries; ``extra`` are candidates
    already chosen (training inputs without values)."""
    gp = model.gp
    scores = np.zeros(len(u))
    for column in range(len(model.chosen)):
        if gp.amplitude[column] <= 0:  # an entry that does not vary
            continue
        residual = np.abs(gp.loo_residuals(column))
        a, b = u / gp.length_scale[column], gp.inputs / gp.length_scale[column]
        distance = (a**2).sum(axis=1)[:, None] + (b**2).sum(axis=1)[None] - 2 * a @ b.T
        weight = residual[np.argmin(distance, axis=1)] + residual.mean()
        scores = np.maximum(scores, np.sqrt(gp.variance(u, column, extra)) * weight)
    return scores


def pce_loo_residuals(model: Surrogate, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(n, M)`` leave-one-out residuals of the PCE of each entry at its training samples ``x (n, d)``
    with values ``y (n, M)`` (as fitted: log10 entries in log10), each over the entry's standard
    deviation: ``(y_i - yhat_i) / (1 - h_i)``, ``h_i`` the leverages of the entry's own terms."""
    from uqms._chaospy import chaospy
    from uqms.analysis.pce import design_matrix

    psi = design_matrix(chaospy.Iid(chaospy.Uniform(0, 1), len(model.inputs)), model.multi_indices, model.scale(x).T)
    residuals = np.zeros(y.shape)
    for column in range(y.shape[1]):  # a loop over entries: each has its own terms
        std = y[:, column].std()
        terms = np.flatnonzero(model.pce_coefficients[:, column])
        if std == 0 or not terms.size:
            continue
        basis = psi[:, terms]
        leverage = (basis * np.linalg.solve(basis.T @ basis, basis.T).T).sum(axis=1)
        fitted = basis @ model.pce_coefficients[terms, column]
        residuals[:, column] = (y[:, column] - fitted) / np.maximum(1 - leverage, 1e-12) / std
    return residuals


def voronoi_scores(u: np.ndarray, errors: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Score of each of ``candidates (k, d)``: the error of its nearest sample among ``u (n, d)``
    times its distance from it; and the index of that sample."""
    distance = (candidates**2).sum(axis=1)[:, None] + (u**2).sum(axis=1)[None] - 2 * candidates @ u.T
    nearest = np.argmin(distance, axis=1)
    return errors[nearest] * np.sqrt(np.maximum(distance[np.arange(len(candidates)), nearest], 0.0)), nearest


def _given_samples(workflow, batch: Mapping[str, np.ndarray], scheduler: str, seed: int) -> dict[str, np.ndarray]:
    """Inputs, outputs and status of the chain of ``workflow`` at the input values ``batch``, run by uqms's
    runner on ``scheduler`` (``"synchronous"`` or a Dask scheduler address)."""
    from uqms.execution.runner import execute

    n = len(next(iter(batch.values())))
    run = execute(GivenSamples(workflow, batch), n, seed, scheduler=scheduler, quiet=True,
                  task_timeout=workflow.task_timeout, tls=workflow.tls,
                  seconds_per_sample=workflow.seconds_per_sample, resources=workflow.resources)
    return {name: run[name].values for name in [*workflow.inputs.names, *workflow.chain.outputs, "status"]}


class GivenSamples:
    """A workflow whose samples are given input values (rows of ``batch``) instead of its design:
    what uqms's runner needs to evaluate chosen samples on Dask. Everything else is the workflow's."""

    def __init__(self, workflow, batch: Mapping[str, np.ndarray]):
        self.workflow, self.batch = workflow, {name: np.asarray(values) for name, values in batch.items()}

    def sample_inputs(self, start: int, stop: int, n_total: int | None = None, seed: int | None = None) -> dict:
        """Rows ``start:stop`` of the given values."""
        return {name: values[start:stop] for name, values in self.batch.items()}

    def __getattr__(self, name: str):
        if name in ("workflow", "batch"):  # not yet set (while unpickling)
            raise AttributeError(name)
        return getattr(self.workflow, name)


def train_adaptively(workflow: Workflow, inputs: Sequence[str], outputs: Sequence[str], target_error: float,
                     initial: int = 20, step: int = 5, max_samples: int = 200, pool: int = 2000,
                     methods: Sequence[str] = METHODS, max_order: int | None = None,
                     transform: Mapping[str, str] | None = None, seed: int | None = None,
                     criterion: str = "gp", scheduler: str | None = "synchronous") -> Training:
    """Fit a surrogate of ``outputs`` as functions of ``inputs``, running ``workflow``'s chain on
    samples added where the surrogate is least certain until its error is below ``target_error``.

    Args:
        workflow: a flat (not nested) :class:`~uqms.workflow.Workflow`.
        inputs: uncertain inputs of the workflow the surrogate reads.
        outputs: outputs of the chain to predict.
        target_error: the largest relative LOO error (LOO mean square / variance) of any output
            entry to stop at (for a log10 output, of its log10).
        initial: samples of the initial design (the workflow's design, ``initial`` samples).
        step: samples added per round.
        max_samples: budget: no more samples are run than this.
        pool: candidates drawn from the inputs' distribution to choose among.
        methods, max_order, transform: as for :func:`~uqms.surrogates.fit_surrogate` (every fit
            uses all the samples for its GP).
        seed: of the initial design (the pool uses ``seed + 1``); default the workflow's.
        criterion: ``"gp"`` (the GP's standard deviation weighted by its LOO residuals) or ``"pce"``
            (the PCE's LOO residuals over Voronoi cells); see the module docstring.
        scheduler: where the chain runs: ``"synchronous"`` (this process), ``"local"`` (a local
            Dask cluster, started once for the whole training), a Dask scheduler address, or None
            for ``DASK_SCHEDULER_ADDRESS`` else a local cluster; the workflow's cost, resources and
            task timeout apply as in ``uqms run``.

    Returns:
        the last surrogate, the history of (samples, error), the training run, whether the
        target was reached.

    Raises:
        ValueError: a nested workflow, an input that is not an uncertain input of the workflow,
            an unknown criterion or its method not among ``methods``, or a budget below the initial design.
    """
    from uqms.execution.dataset import build_dataset
    from uqms.execution.scheduler import SYNCHRONOUS, connect, scheduler_address

    source = workflow.source
    if workflow.nested:
        raise ValueError(f"{source}: adaptive training takes a flat workflow, not a nested one")
    unknown = [name for name in inputs if name not in workflow.inputs.names]
    if unknown:
        raise ValueError(f"{source}: {unknown} are not uncertain inputs of the workflow; expected some of "
                         f"{list(workflow.inputs.names)}")
    if criterion not in CRITERIA:
        raise ValueError(f"criterion {criterion!r}: expected one of {list(CRITERIA)}")
    if criterion not in methods:
        raise ValueError(f"surrogate methods {list(methods)}: adaptive training by criterion {criterion!r} needs "
                         f"{criterion!r} (it chooses the samples)")
    if not 4 <= initial <= max_samples or step < 1 or pool < step:
        raise ValueError(f"initial={initial}, step={step}, max_samples={max_samples}, pool={pool}: expected "
                         "4 <= initial <= max_samples, step >= 1 and pool >= step")
    seed = workflow.seed if seed is None else seed
    address = scheduler_address(scheduler)
    with connect(address, workflow.tls, workflow.resources) as client:  # one cluster for every round
        where = SYNCHRONOUS if client is None else client.scheduler.address
        return _train(workflow, inputs, outputs, target_error, initial, step, max_samples, pool, methods, max_order,
                      transform, seed, criterion, lambda batch: _given_samples(workflow, batch, where, seed),
                      build_dataset)


def _train(workflow, inputs, outputs, target_error, initial, step, max_samples, pool, methods, max_order, transform,
           seed, criterion, evaluate, build_dataset) -> Training:
    """The loop of :func:`train_adaptively`, the chain run by ``evaluate(batch) -> arrays``."""
    source = workflow.source
    arrays = evaluate(workflow.sample_inputs(0, initial, initial, seed))
    candidates = workflow.sample_inputs(0, pool, pool, seed + 1)
    x_pool = np.stack([np.asarray(candidates[name], dtype=float) for name in inputs], axis=1)
    free = np.ones(pool, dtype=bool)
    history: list[tuple[int, float]] = []
    while True:
        n = len(arrays["status"])
        run = build_dataset(workflow, arrays, n, seed)
        model = fit_surrogate(run, inputs, outputs, methods, max_order, max_samples, seed, source, transform)
        error = float(np.max(model.relative_error))
        history.append((n, error))
        if error <= target_error or n >= max_samples or not free.any():
            return Training(model, history, run, error <= target_error)
        count = min(step, max_samples - n, int(free.sum()))
        picked = (_pick_by_gp if criterion == "gp" else _pick_by_pce)(model, run, inputs, outputs, x_pool, free, count,
                                                                      source)
        arrays = {name: np.concatenate([arrays[name], result])
                  for name, result in evaluate({k: np.asarray(v)[picked] for k, v in candidates.items()}).items()}


def _pick_by_gp(model, run, inputs, outputs, x_pool, free, count, source) -> list[int]:
    """``count`` candidates of the pool by the GP criterion, one at a time (marked not ``free``)."""
    u = model.scale(x_pool)
    picked: list[int] = []
    with threadpool_limits(1, user_api="blas"):  # small solves: threads cost more than they give
        for _ in range(count):  # a loop over the few samples of a round
            scores = np.where(free, candidate_scores(model, u, u[picked]), -np.inf)
            best = int(np.argmax(scores))
            picked.append(best)
            free[best] = False
    return picked


def _pick_by_pce(model, run, inputs, outputs, x_pool, free, count, source) -> list[int]:
    """``count`` candidates of the pool by the PCE's LOO residuals over Voronoi cells (marked not ``free``)."""
    x, y, _ = training_data(run, inputs, outputs, source)
    y = np.where(model.log10_columns, np.log10(np.where(model.log10_columns, y, 1.0)), y)
    u, errors = model.scale(x), np.abs(pce_loo_residuals(model, x, y)).max(axis=1)
    candidates = model.scale(x_pool)
    picked: list[int] = []
    for _ in range(count):  # a loop over the few samples of a round
        scores, owner = voronoi_scores(u, errors, candidates)
        best = int(np.argmax(np.where(free, scores, -np.inf)))
        picked.append(best)
        free[best] = False
        u, errors = np.vstack([u, candidates[best]]), np.append(errors, errors[owner[best]])
    return picked
