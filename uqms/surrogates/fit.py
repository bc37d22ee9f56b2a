"""Fit a surrogate of chosen outputs of a run as functions of chosen inputs or upstream outputs.

Training rows are the samples with status 0 and finite values. Each entry of each output
gets a sparse polynomial chaos expansion (:func:`uqms.analysis.pce.fit_sparse`) and a
Gaussian process (scikit-learn), both scored by their leave-one-out error in closed form
(the corrected LARS error of the PCE; for the GP, Rasmussen and Williams 2006, eq. 5.12,
``y_i - mu_-i = [K^-1 y]_i / [K^-1]_ii`` at the fitted hyperparameters), and the one with
the lower error is used.

Why a uniform basis: a surrogate's inputs may be upstream outputs (a reaction energy),
which have no distribution of their own, and the file must describe itself without a
workflow. Every input is therefore scaled to [0, 1] over its training range and the PCE
basis is Legendre. The regression stays a least-squares fit whatever the inputs'
distribution; only reading Sobol indices off the surrogate's coefficients would need
the true one, and uqms reads them off the runs the surrogate stands in for instead.

Outputs that span decades (turnover frequencies) are fitted in log10: asked for per
output (``transform={"tof": "log10"}``, or ``"none"`` to keep one raw), and by default for
a positive output whose 5-95 % quantiles span more than two decades, the rule the
analysis uses (:func:`uqms.analysis.plan.choose_transform`). The models then predict
``log10 y``, the errors are in decades and the prediction is transformed back.

The training range is the observed one widened on each side by one mean sample spacing,
``(max - min) / (n - 1)``: a design of ``n`` samples stops about that far short of the
bounds of a bounded input, which a later, larger run reaches.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import xarray as xr
from scipy import linalg

from uqms.surrogates.model import (
    METHODS,
    TRANSFORMS,
    GaussianProcess,
    OutputSpec,
    Surrogate,
)

MAX_GP_SAMPLES = 1000
"""Most training rows a GP uses (its fit costs ``O(n^3)``); the PCE uses all."""


def training_data(run: xr.Dataset, inputs: Sequence[str], outputs: Sequence[str], source: str = "<run>",
                  ) -> tuple[np.ndarray, np.ndarray, tuple[OutputSpec, ...]]:
    """Inputs ``(n, d)``, outputs ``(n, M)`` of the ok, finite samples of ``run`` and what the outputs are.

    Raises:
        ValueError: a name the run lacks, an input that is not one value per sample, a
            nested run, or fewer than 4 usable samples; naming ``source`` and the name.
    """
    from uqms.analysis.samples import flat

    if "inner" in run.dims:
        raise ValueError(f"{source}: a nested run (sample x inner); fit a surrogate on a flat run")
    for name in [*inputs, *outputs]:
        if name not in run:
            raise ValueError(f"{source}: no variable {name!r}; expected one of {sorted(map(str, run.data_vars))}")
        if run[name].dims[:1] != ("sample",):
            raise ValueError(f"{source}: {name!r} has dims {run[name].dims}, expected 'sample' first")
    for name in inputs:
        if run[name].dims != ("sample",):
            raise ValueError(f"{source}: input {name!r} has dims {run[name].dims}, expected ('sample',): "
                             "one value per sample")
    x = np.stack([np.asarray(run[name].values, dtype=float) for name in inputs], axis=1)
    y = np.concatenate([flat(run[name]).astype(float) for name in outputs], axis=1)
    ok = (np.asarray(run["status"].values) == 0) & np.isfinite(x).all(axis=1) & np.isfinite(y).all(axis=1)
    if ok.sum() < 4:
        raise ValueError(f"{source}: {int(ok.sum())} ok samples with finite values, a surrogate needs at least 4")
    specs = tuple(OutputSpec(name, str(run[name].attrs.get("units", "")), tuple(map(str, run[name].dims[1:])),
                             {str(d): run[d].values.tolist() for d in run[name].dims[1:] if d in run.coords},
                             tuple(run[name].shape[1:])) for name in outputs)
    return x[ok], y[ok], specs


def training_range(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(d,)`` lower and upper bounds: the observed range of ``x (n, d)`` widened by one mean spacing."""
    low, high = x.min(axis=0), x.max(axis=0)
    margin = (high - low) / (len(x) - 1)
    return low - margin, high + margin


def fit_pce(u: np.ndarray, y: np.ndarray, max_order: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sparse PCE on scaled inputs ``u (n, d)``: multi-indices ``(P, d)``, coefficients ``(P, M)`` and
    ``(M,)`` relative LOO error."""
    from uqms._chaospy import chaospy
    from uqms.analysis.pce import fit_sparse

    fit = fit_sparse(u.T, y, chaospy.Iid(chaospy.Uniform(0, 1), u.shape[1]), max_order)
    return fit.multi_indices, fit.coefficients, fit.loo


def fit_gp(u: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[GaussianProcess, np.ndarray]:
    """One scikit-learn GP per output column on scaled inputs ``u (n, d)``: the models and
    ``(M,)`` LOO RMSE (output units) at the fitted hyperparameters."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel
    from threadpoolctl import threadpool_limits

    n, d = u.shape
    m = y.shape[1]
    weights, length, amplitude, offset, scale, noise, rmse = (np.empty(shape) for shape in
                                                              ((n, m), (m, d), m, m, m, m, m))
    for column in range(m):  # a loop over entries: each gets its own hyperparameters
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(np.full(d, 0.3), (1e-2, 1e2)) + WhiteKernel(1e-6, (1e-12, 1e-1))
        gp = GaussianProcessRegressor(kernel, normalize_y=True, random_state=seed)
        # one BLAS thread: the optimiser's many small solves ran 5-8x slower threaded on 2 cores
        with warnings.catch_warnings(), threadpool_limits(1, user_api="blas"):
            # a hyperparameter at its bound is reported by the LOO error instead
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp.fit(u, y[:, column])
        inverse_diagonal = (linalg.cho_solve((gp.L_, True), np.eye(n))).diagonal()
        residual = gp.alpha_ / inverse_diagonal * gp._y_train_std
        weights[:, column], rmse[column] = gp.alpha_, np.sqrt((residual**2).mean())
        length[column] = gp.kernel_.k1.k2.length_scale
        amplitude[column], noise[column] = gp.kernel_.k1.k1.constant_value, gp.kernel_.k2.noise_level
        offset[column], scale[column] = gp._y_train_mean, gp._y_train_std
    return GaussianProcess(u, weights, length, amplitude, offset, scale, noise), rmse


def fingerprint(run: xr.Dataset, inputs: Sequence[str], outputs: Sequence[str], x: np.ndarray, y: np.ndarray) -> str:
    """SHA-256 of the run's workflow text, the names and the training arrays."""
    digest = hashlib.sha256(run.attrs.get("workflow_text", "").encode())
    digest.update(json.dumps([list(inputs), list(outputs)]).encode())
    digest.update(np.ascontiguousarray(x).tobytes())
    digest.update(np.ascontiguousarray(y).tobytes())
    return digest.hexdigest()


def choose_transforms(y: np.ndarray, specs: Sequence[OutputSpec], asked: Mapping[str, str] | None,
                      source: str = "<run>") -> tuple[OutputSpec, ...]:
    """``specs`` with the transform of each output: asked for, or log10 for a positive output
    spanning decades (:func:`uqms.analysis.plan.choose_transform`, all its entries pooled).

    Raises:
        ValueError: a transform asked for an output not fitted, one not in
            :data:`~uqms.surrogates.model.TRANSFORMS`, or log10 of values that are not all positive.
    """
    from uqms.analysis.plan import choose_transform

    asked = dict(asked or {})
    names = [spec.name for spec in specs]
    for name, transform in asked.items():
        if name not in names:
            raise ValueError(f"{source}: transform asked for {name!r}, which is not among the outputs {names}")
        if transform not in TRANSFORMS:
            raise ValueError(f"{source}: transform {transform!r} of {name!r}: expected one of {list(TRANSFORMS)}")
    bounds = np.cumsum([0, *(spec.size for spec in specs)])
    chosen = []
    for spec, start, stop in zip(specs, bounds[:-1], bounds[1:], strict=True):
        transform, why = choose_transform(spec.name, y[:, start:stop].ravel(), asked)
        if asked.get(spec.name, transform) != transform:
            raise ValueError(f"{source}: output {spec.name!r}: {why}")
        chosen.append(replace(spec, transform=transform))
    return tuple(chosen)


def fit_surrogate(run: xr.Dataset, inputs: Sequence[str], outputs: Sequence[str], methods: Sequence[str] = METHODS,
                  max_order: int | None = None, max_gp_samples: int = MAX_GP_SAMPLES, seed: int = 0,
                  source: str = "<run>", transform: Mapping[str, str] | None = None) -> Surrogate:
    """Fit ``outputs`` of ``run`` as functions of ``inputs`` (run inputs or scalar upstream outputs).

    Args:
        run: a flat run (:func:`uqms.execution.open_run`).
        inputs, outputs: variable names of the run.
        methods: the kinds to fit and choose among, a subset of :data:`~uqms.surrogates.model.METHODS`.
        max_order: highest PCE order tried (None: as many as the samples allow).
        max_gp_samples: the GP is fitted on the first this many training rows.
        seed: seed of the GP's optimiser.
        source: the run's path, for messages and provenance.
        transform: ``{output: "log10" or "none"}``; outputs not named get log10 when positive and
            spanning more than two decades (see :func:`choose_transforms`).

    Raises:
        ValueError: unknown method, a name the run lacks (see :func:`training_data`), or a bad
            transform (see :func:`choose_transforms`).
    """
    unknown = sorted(set(methods) - set(METHODS))
    if unknown or not methods:
        raise ValueError(f"surrogate methods {list(methods)}: expected a non-empty subset of {list(METHODS)}")
    x, raw, specs = training_data(run, inputs, outputs, source)
    specs = choose_transforms(raw, specs, transform, source)
    y = raw.copy()
    for column, spec in enumerate(s for s in specs for _ in range(s.size)):
        if spec.transform == "log10":
            y[:, column] = np.log10(y[:, column])
    lower, upper = training_range(x)
    u = (x - lower) / (upper - lower)
    n, d = x.shape
    m = y.shape[1]
    variance = y.var(axis=0)
    cv_rmse, cv_relative = np.full((len(METHODS), m), np.nan), np.full((len(METHODS), m), np.nan)
    multi_indices, coefficients = np.zeros((0, d), dtype=int), np.zeros((0, m))
    gp = GaussianProcess(np.zeros((0, d)), np.zeros((0, m)), np.ones((m, d)), np.zeros(m), y.mean(axis=0), np.ones(m),
                         np.zeros(m))
    if "pce" in methods:
        multi_indices, coefficients, loo = fit_pce(u, y, max_order)
        cv_relative[0] = np.where(np.isfinite(loo), loo, 0.0)  # NaN: an entry that does not vary, fitted exactly
        cv_rmse[0] = np.sqrt(cv_relative[0] * variance)
    if "gp" in methods:
        rows = slice(0, max_gp_samples)
        gp, cv_rmse[1] = fit_gp(u[rows], y[rows], seed)
        cv_relative[1] = np.divide(cv_rmse[1] ** 2, y[rows].var(axis=0), out=np.zeros(m), where=y[rows].var(axis=0) > 0)
    chosen = np.nanargmin(np.where(np.isfinite(cv_rmse), cv_rmse, np.inf), axis=0)
    provenance = {"training_run": source, "training_workflow": str(run.attrs.get("workflow", "")),
                  "training_fingerprint": fingerprint(run, inputs, outputs, x, raw), "n_train": int(n)}
    units = tuple(str(run[name].attrs.get("units", "")) for name in inputs)
    return Surrogate(tuple(inputs), units, lower, upper, specs, multi_indices, coefficients, gp, cv_rmse, cv_relative,
                     chosen, provenance)
