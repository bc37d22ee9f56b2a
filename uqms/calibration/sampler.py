"""emcee's affine-invariant ensemble sampler on a calibration problem: walkers drawn
from the prior, evaluated as one batch, stored in a resumable HDF5 backend."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import emcee
import h5py
import numpy as np

from uqms.calibration.problem import CalibrationProblem
from uqms.errors import UqmsError
from uqms.execution.progress import sample_progress
from uqms.execution.scheduler import connect

CANDIDATES_PER_WALKER = 4  # prior draws tried per walker when looking for finite starting points
BURN_TAUS = 2.0  # burn-in: this many autocorrelation times (emcee's documentation recipe)
THIN_TAUS = 0.5  # thinning: half the shortest autocorrelation time
CONVERGED_TAUS = 50.0  # a chain longer than this many autocorrelation times gives a reliable estimate
_FINGERPRINT = "uqms_fingerprint"


@dataclass(frozen=True)
class ChainQuality:
    """Integrated autocorrelation time per parameter (steps) and what follows from it.

    Walkers of an ensemble are not independent chains: ``tau`` says how many steps one
    independent draw takes; r_hat across walkers is reported beside it.
    """

    tau: np.ndarray
    burn: int
    thin: int
    steps: int

    @property
    def converged(self) -> bool:
        """Whether the chain is longer than ``CONVERGED_TAUS`` autocorrelation times."""
        return bool(self.steps > CONVERGED_TAUS * np.max(self.tau))


def chain_quality(sampler: emcee.EnsembleSampler) -> ChainQuality:
    """Autocorrelation times, burn-in ``2 max(tau)`` and thinning ``max(1, min(tau) / 2)``
    (the burn-in is capped at half the chain, which it is when a chain too short gives no tau)."""
    tau = np.atleast_1d(sampler.get_autocorr_time(tol=0))
    steps = sampler.iteration
    if not np.all(np.isfinite(tau)):
        return ChainQuality(tau, steps // 2, 1, steps)
    burn = min(int(np.ceil(BURN_TAUS * np.max(tau))), steps // 2)
    thin = max(1, int(THIN_TAUS * np.min(tau)))
    return ChainQuality(tau, burn, thin, steps)


def initial_walkers(problem: CalibrationProblem, walkers: int, seed: int) -> emcee.State:
    """Starting points drawn from the prior, keeping draws with a finite posterior
    (all candidates evaluated in one batch).

    Raises:
        UqmsError: too few prior draws give a finite posterior (the chain fails or the
            data are impossible under the prior).
    """
    candidates = problem.prior.sample(CANDIDATES_PER_WALKER * walkers, seed)
    values = problem(candidates)
    good = np.flatnonzero(np.isfinite(values[:, 0]))
    if good.size < walkers:
        raise UqmsError(
            f"only {good.size} of {len(candidates)} prior draws give a finite posterior, {walkers} walkers needed: "
            "check that the chain runs at the data's conditions and that the data are possible under the prior"
        )
    keep = good[:walkers]
    return emcee.State(candidates[keep], log_prob=values[keep, 0], blobs=values[keep, 1:])


class _DaskLogProb:
    """The problem's log probability with the walkers split over Dask workers (for expensive chains)."""

    def __init__(self, problem: CalibrationProblem, client):
        self.client = client
        self.parts = max(1, sum(client.nthreads().values()))
        [self.problem] = client.scatter([problem], broadcast=True)

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        chunks = np.array_split(theta, min(self.parts, len(theta)))
        futures = self.client.map(_evaluate, [self.problem] * len(chunks), chunks, pure=False)
        return np.concatenate(self.client.gather(futures))


def _evaluate(problem: CalibrationProblem, theta: np.ndarray) -> np.ndarray:
    return problem(theta)


def fingerprint(problem: CalibrationProblem) -> str:
    """Hash of what the chain samples: workflow text and files, data, calibrated names, likelihood."""
    data = problem.data
    files = sorted(getattr(problem.workflow, "files", {}).values())
    content = json.dumps({
        "workflow": problem.workflow.source_text or problem.workflow.name,
        "parameters": list(problem.parameter_names),
        "likelihood": [problem.likelihood.transform, str(problem.likelihood.sigma_prior)],
        "fixed": problem.fixed,
        "keys": data.keys,
        "conditions": {k: v.tolist() for k, v in data.conditions.items()},
        "observed": data.observed.tolist(), "sd": np.nan_to_num(data.sd, nan=-1).tolist(),
        **({"files": files} if files else {}),  # only when there are some: older chains still resume
    }, sort_keys=True)
    return hashlib.sha256(content.encode()).hexdigest()


def run_sampler(problem: CalibrationProblem, walkers: int = 32, steps: int = 2000, seed: int = 0,
                backend: str | Path | None = None, scheduler: str = "synchronous",
                quiet: bool = True) -> emcee.EnsembleSampler:
    """Sample the posterior with ``walkers`` walkers for ``steps`` steps in total.

    Args:
        seed: seeds the initial walkers and emcee's moves.
        backend: an HDF5 file keeping every step; if it already holds steps of the same
            problem, sampling resumes from its last step (and random state) up to ``steps``.
        scheduler: ``"synchronous"`` (walkers as one batch in this process) or a Dask
            scheduler (``"local"``, an address): the walkers split across workers.
        quiet: no progress bar.

    Raises:
        UqmsError: too few walkers, or a backend of another problem.
    """
    if walkers < 2 * problem.ndim:
        raise UqmsError(f"{walkers} walkers for {problem.ndim} parameters; emcee needs at least {2 * problem.ndim}")
    store = None
    if backend is not None:
        store = emcee.backends.HDFBackend(str(backend))
        _check_backend(store, problem, walkers, backend)
    with connect(scheduler) as client:
        log_prob = problem if client is None else _DaskLogProb(problem, client)
        sampler = emcee.EnsembleSampler(walkers, problem.ndim, log_prob, vectorize=True, backend=store)
        if sampler.iteration == 0:
            sampler.random_state = np.random.RandomState(seed).get_state()
            state = initial_walkers(problem, walkers, seed)
            if store is not None:
                with h5py.File(store.filename, "a") as file:
                    file.attrs[_FINGERPRINT] = fingerprint(problem)
        else:
            state = sampler.get_last_sample()
        remaining = max(0, steps - sampler.iteration)
        with sample_progress(quiet) as progress:
            task = progress.add_task("calibration steps", total=steps, completed=sampler.iteration)
            for _ in sampler.sample(state, iterations=remaining, store=True):
                progress.advance(task)
    return sampler


def _check_backend(store: emcee.backends.HDFBackend, problem: CalibrationProblem, walkers: int, path) -> None:
    """A backend with steps must come from the same problem and number of walkers."""
    if not Path(path).exists() or not store.initialized or store.iteration == 0:
        return
    with h5py.File(store.filename, "r") as file:
        stored = file.attrs.get(_FINGERPRINT)
    if stored != fingerprint(problem):
        raise UqmsError(f"{path}: holds a chain of another calibration (workflow, data or settings differ); "
                        "remove it or choose another file")
    if store.shape != (walkers, problem.ndim):
        raise UqmsError(f"{path}: holds {store.shape[0]} walkers x {store.shape[1]} parameters; "
                        f"resume with {store.shape[0]} walkers or choose another file")
