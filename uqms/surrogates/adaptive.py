"""Adaptive training: run the expensive chain where the surrogate is least certain until its
cross-validated error reaches a target.

The loop: run the workflow's chain (:meth:`~uqms.workflow.Workflow.evaluate`, in this
process) on an initial design of ``initial`` samples, fit (:func:`~uqms.surrogates.fit_surrogate`),
and while the largest relative LOO error of an output entry (LOO mean square / variance, the
surrogate's :attr:`~uqms.surrogates.model.Surrogate.relative_error`) is above the target and
fewer than ``max_samples`` have run, add ``step`` samples chosen from a pool of candidates
drawn from the inputs' distribution (:meth:`~uqms.workflow.Workflow.sample_inputs` with
another seed), run the chain on them and fit again.

Which candidates. The GP's predictive standard deviation alone does not depend on the
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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr
from threadpoolctl import threadpool_limits

from uqms.surrogates.fit import fit_surrogate
from uqms.surrogates.model import METHODS, Surrogate

if TYPE_CHECKING:
    from uqms.workflow import Workflow


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


def train_adaptively(workflow: Workflow, inputs: Sequence[str], outputs: Sequence[str], target_error: float,
                     initial: int = 20, step: int = 5, max_samples: int = 200, pool: int = 2000,
                     methods: Sequence[str] = METHODS, max_order: int | None = None,
                     transform: Mapping[str, str] | None = None, seed: int | None = None) -> Training:
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

    Returns:
        the last surrogate, the history of (samples, error), the training run, whether the
        target was reached.

    Raises:
        ValueError: a nested workflow, an input that is not an uncertain input of the workflow,
            no GP among ``methods`` (it chooses the samples), or a budget below the initial design.
    """
    from uqms.execution.dataset import build_dataset

    source = workflow.source
    if workflow.nested:
        raise ValueError(f"{source}: adaptive training takes a flat workflow, not a nested one")
    unknown = [name for name in inputs if name not in workflow.inputs.names]
    if unknown:
        raise ValueError(f"{source}: {unknown} are not uncertain inputs of the workflow; expected some of "
                         f"{list(workflow.inputs.names)}")
    if "gp" not in methods:
        raise ValueError(f"surrogate methods {list(methods)}: adaptive training needs 'gp' (its variance "
                         "chooses the samples)")
    if not 4 <= initial <= max_samples or step < 1 or pool < step:
        raise ValueError(f"initial={initial}, step={step}, max_samples={max_samples}, pool={pool}: expected "
                         "4 <= initial <= max_samples, step >= 1 and pool >= step")
    seed = workflow.seed if seed is None else seed
    first = workflow.sample_inputs(0, initial, initial, seed)
    arrays = {**first, **workflow.evaluate(first)}
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
        u = model.scale(x_pool)
        picked: list[int] = []
        with threadpool_limits(1, user_api="blas"):  # small solves: threads cost more than they give
            for _ in range(min(step, max_samples - n, int(free.sum()))):  # a loop over the few samples of a round
                scores = np.where(free, candidate_scores(model, u, u[picked]), -np.inf)
                best = int(np.argmax(scores))
                picked.append(best)
                free[best] = False
        batch = {name: np.asarray(values)[picked] for name, values in candidates.items()}
        result = {**batch, **workflow.evaluate(batch)}
        arrays = {name: np.concatenate([arrays[name], result[name]]) for name in arrays}
