"""Sobol indices of a run's outputs, by polynomial chaos (any design) or Saltelli Monte Carlo,
or of a workflow's outputs by polynomial chaos on quadrature nodes.

Both return a Dataset with ``first`` and ``total`` (dims ``input`` then the output's
entry dims); PCE adds ``second`` (``input``, ``input_2``), grouped ``group_first`` /
``group_total`` (``group``) and the relative ``loo`` error; Saltelli adds
``first_interval`` / ``total_interval`` (``bound`` = lower, upper). A Saltelli design
that swapped whole input groups gives ``group_first`` / ``group_total`` and their
intervals (``group``) instead. Samples with status != 0 are left out (for Saltelli the
whole base sample) and counted in the attrs.
"""

from __future__ import annotations

import warnings
from math import comb
from typing import TYPE_CHECKING, Literal

import numpy as np
import xarray as xr

import uqms.analysis.run_accessor  # noqa: F401  (registers run.uqms)
from uqms.analysis import pce as pce_fit
from uqms.analysis import sobol_pce
from uqms.analysis.groups import group_columns, has_groups
from uqms.analysis.saltelli import saltelli_indices
from uqms.analysis.samples import apply_transform, flat, transformed_name, unflat
from uqms.sampling.saltelli import rows_per_base

if TYPE_CHECKING:
    from uqms.workflow import Workflow


def _check_scalar_samples(run: xr.Dataset, output: str) -> None:
    if "inner" in run[output].dims:
        raise ValueError(f"{output!r} belongs to a nested run: use the variance split and p-box for it")


SAMPLES_PER_TERM = 20


def pce_sample_cap(dim: int, order: int) -> int:
    """Most samples a regression PCE of total degree ``order`` in ``dim`` inputs uses."""
    return SAMPLES_PER_TERM * comb(dim + order, order)


def _attrs(run: xr.Dataset, output: str, method: str, n_ok: int, transform: str = "none", **more) -> dict:
    return {"output": output, "units": "1", "method": method, "n_used": int(n_ok), "transform": transform,
            "quantity": transformed_name(output, transform), "n_failed": run.uqms.n_failed, **more}


def run_pce(run: xr.Dataset, output: str, order: int | Literal["auto"] = "auto", max_order: int = 10,
            cross_truncation: float = 1.0, n: int | None = None, transform: str = "none",
            ) -> tuple[pce_fit.PolynomialChaos, dict[int, float], int]:
    """Regression PCE of ``output`` on the run's ok samples (the first ``n`` of them if given,
    and at most ``SAMPLES_PER_TERM`` per basis term of the highest order: beyond that the
    fit costs time, not accuracy, and the LOO error says how good it is).

    ``order="auto"`` fits a sparse expansion (:func:`uqms.analysis.pce.fit_sparse`, LARS with
    orders 1..max_order tried adaptively), an integer order the full basis of that order.
    ``transform``: expand the output (``"none"``) or its log10. Returns the fit,
    ``{order: LOO error}`` of the orders tried and the number of ok samples used.
    """
    fit, errors, samples, _ = _fit_pce(run, output, order, max_order, cross_truncation, n, transform)
    return fit, errors, samples.shape[1]


def _fit_pce(run, output, order, max_order, cross_truncation, n, transform):
    """:func:`run_pce` and the rows it was fitted on: ``(fit, errors, samples (d, n), values (n, m))``."""
    _check_scalar_samples(run, output)
    inputs = run.uqms.input_set()
    if inputs.correlations:
        raise ValueError("Sobol indices from a PCE need independent inputs; this run has correlated ones")
    cap = pce_sample_cap(len(inputs), max_order if order == "auto" else int(order))
    ok = np.flatnonzero(run.uqms.status == 0)[: min(n or cap, cap)]
    values = apply_transform(flat(run[output])[ok], transform)
    keep = np.isfinite(values).all(axis=1)  # log10 of a value that is not positive: left out
    samples, values = run.uqms.input_matrix(ok[keep]), values[keep]
    if order == "auto":
        fit = pce_fit.fit_sparse(samples, values, inputs.joint, max_order, q=cross_truncation)
        errors = {order: float(np.nanmean(loo)) if np.isfinite(loo).any() else np.nan for order, loo in fit.search.loo.items()}
    else:
        fit = pce_fit.fit_regression(samples, values, inputs.joint, int(order), cross_truncation)
        errors = {fit.order: float(np.mean(fit.loo))}
    return fit, errors, samples, values


def pce_intervals(fit: pce_fit.PolynomialChaos, samples: np.ndarray, values: np.ndarray, resamples: int = 200,
                  confidence: float = 0.95, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap intervals ``(2, d, m)`` of the first and total indices of a fit
    (:func:`uqms.analysis.pce.bootstrap_coefficients`)."""
    draws = pce_fit.bootstrap_coefficients(fit, samples, values, resamples, seed)
    first = np.stack([sobol_pce.first_order(c, fit.multi_indices) for c in draws])
    total = np.stack([sobol_pce.total_order(c, fit.multi_indices) for c in draws])
    levels = [(1 - confidence) / 2, (1 + confidence) / 2]
    with warnings.catch_warnings():  # an entry that does not vary has NaN indices in every resample
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanquantile(first, levels, axis=0), np.nanquantile(total, levels, axis=0)


def pce_dataset(run: xr.Dataset, output: str, fit: pce_fit.PolynomialChaos, n_ok: int, method: str = "pce",
                transform: str = "none") -> xr.Dataset:
    """The indices of a fitted expansion as a labelled Dataset (see the module docstring)."""
    var, names = run[output], run.uqms.inputs
    found = sobol_pce.indices(fit)
    groups = run.uqms.groups
    group_first, group_total = sobol_pce.grouped(fit.coefficients, fit.multi_indices, group_columns(names, groups))
    data = {
        "first": unflat(found["first"], var, {"input": names}),
        "total": unflat(found["total"], var, {"input": names}),
        "second": unflat(found["second"], var, {"input": names, "input_2": names}),
        "group_first": unflat(group_first, var, {"group": list(groups)}),
        "group_total": unflat(group_total, var, {"group": list(groups)}),
        "loo": unflat(fit.loo, var, {}),
    }
    return xr.Dataset(data, attrs=_attrs(run, output, method, n_ok, transform, order=fit.order,
                                         terms=int(np.any(fit.coefficients != 0, axis=1).sum()), grouped=int(has_groups(groups))))


def sobol_pce_run(run: xr.Dataset, output: str, order: int | Literal["auto"] = "auto", max_order: int = 10,
                  transform: str = "none", resamples: int = 200, confidence: float = 0.95, seed: int = 0) -> xr.Dataset:
    """First, total, second-order and grouped indices of ``output`` (or its log10) from a regression PCE,
    with bootstrap intervals of the first and total ones (``resamples=0``: none)."""
    fit, _, samples, values = _fit_pce(run, output, order, max_order, 1.0, None, transform)
    indices = pce_dataset(run, output, fit, samples.shape[1], transform=transform)
    if resamples:
        var, bound = run[output], {"bound": ["lower", "upper"], "input": run.uqms.inputs}
        first, total = pce_intervals(fit, samples, values, resamples, confidence, seed)
        indices["first_interval"], indices["total_interval"] = unflat(first, var, bound), unflat(total, var, bound)
        indices.attrs.update(confidence=confidence, resamples=resamples)
    return indices


def sobol_quadrature(workflow: Workflow, output: str, order: int, sparse: bool = True, rule: str = "gaussian") -> tuple[xr.Dataset, xr.Dataset]:
    """Indices of ``output`` from a PCE projected on (sparse) quadrature nodes where ``workflow`` is evaluated.

    Returns the indices (method ``pce_quadrature``, ``loo`` is NaN) and the run at the nodes.

    Raises:
        ValueError: correlated inputs, or a node failed (a quadrature cannot leave nodes out).
    """
    from uqms.execution import build_dataset

    if workflow.inputs.correlations:
        raise ValueError("Sobol indices from a PCE need independent inputs; this workflow has correlated ones")
    nodes, weights = pce_fit.quadrature(workflow.inputs.joint, order, sparse, rule)
    inputs = dict(zip(workflow.inputs.names, nodes))
    run = build_dataset(workflow, {**inputs, **workflow.evaluate(inputs)}, nodes.shape[1], workflow.seed)
    run.attrs["design"] = f"{'sparse ' * sparse}{rule} quadrature, level {order}"
    _check_scalar_samples(run, output)
    failed = int((run["status"] != 0).sum())
    if failed:
        raise ValueError(f"{failed} of {nodes.shape[1]} quadrature nodes failed; use regression on a run instead")
    fit = pce_fit.fit_projection(nodes, weights, flat(run[output]), workflow.inputs.joint, order)
    return pce_dataset(run, output, fit, nodes.shape[1], "pce_quadrature"), run


def saltelli_rows(run: xr.Dataset, output: str, n_base: int | None = None, transform: str = "none") -> tuple[np.ndarray, int]:
    """Output rows (or their log10) of the ok base samples of a Saltelli run (the first ``n_base`` base samples if given)."""
    _check_scalar_samples(run, output)
    if run.attrs.get("design") != "saltelli":
        raise ValueError(f"Saltelli indices need a run made with the saltelli design, this one used {run.attrs.get('design')!r}")
    step = rows_per_base(len(run.uqms.saltelli_blocks[1]))
    whole = min(run.sizes["sample"] // step, n_base or run.sizes["sample"])  # rows past the last whole base sample are unused
    values = apply_transform(flat(run[output])[: whole * step], transform).reshape(whole, step, -1)
    ok = ((run.uqms.status[: whole * step] == 0) & np.isfinite(values).all(axis=2).reshape(-1)).reshape(whole, step).all(axis=1)
    return values[ok].reshape(-1, values.shape[2]), int(ok.sum())


def sobol_saltelli_run(run: xr.Dataset, output: str, resamples: int = 1000, confidence: float = 0.95, seed: int = 0,
                       n_base: int | None = None, transform: str = "none") -> xr.Dataset:
    """First and total indices of ``output`` with bootstrap intervals from a Saltelli run:
    per input, or per input group (``group_first``, ...) if the design swapped groups."""
    by, blocks = run.uqms.saltelli_blocks
    names = list(blocks)
    rows, n_ok = saltelli_rows(run, output, n_base, transform)
    found = saltelli_indices(rows, len(names), resamples, confidence, seed)
    var = run[output]
    prefix = "" if by == "input" else "group_"
    bound = {"bound": ["lower", "upper"], by: names}
    data = {f"{prefix}{key}": unflat(found[key], var, bound if key.endswith("interval") else {by: names})
            for key in ("first", "total", "first_interval", "total_interval")}
    step = rows_per_base(len(names))
    return xr.Dataset(data, attrs=_attrs(run, output, "saltelli", n_ok * step, transform, n_base=n_ok, confidence=confidence,
                                         resamples=resamples))


def index_variables(indices: xr.Dataset) -> tuple[str, ...]:
    """The index variables of a Sobol result: first (and total, Shapley where estimated) per
    input, or per input group for a Saltelli design that swapped groups."""
    if "first" not in indices:
        return ("group_first", "group_total")
    return tuple(name for name in ("first", "total", "shapley") if name in indices)


SHAPLEY_INPUTS = 8  # Shapley effects estimated up to this many inputs (2^d neighbour searches, ~3 s at 8)
INTERVAL_ROWS = 20_000  # bootstrap of the given-data indices on at most this many rows (its cost grows as rows x resamples)


def sobol_given_data_run(run: xr.Dataset, output: str, transform: str = "none", resamples: int = 200,
                         confidence: float = 0.95, seed: int = 0, n: int | None = None) -> xr.Dataset:
    """First-order indices of ``output`` (or its log10) from the run's samples as they are, any
    design, dependent or discrete inputs included (:mod:`uqms.analysis.given_data`), with
    bootstrap intervals; Shapley effects too (:mod:`uqms.analysis.shapley`) when some inputs
    are dependent and there are at most :data:`SHAPLEY_INPUTS` of them. Uses the first ``n``
    ok samples if given.

    On more than :data:`INTERVAL_ROWS` rows the bootstrap runs on that many and its interval
    is narrowed about the full estimate by sqrt(rows used / rows), the 1/sqrt(n) rate of the
    estimator's standard error.
    """
    from uqms.analysis import given_data, shapley

    _check_scalar_samples(run, output)
    meta, var = run.uqms, run[output]
    ok = np.flatnonzero(meta.status == 0)[:n]
    values = apply_transform(flat(var)[ok], transform)
    keep = np.isfinite(values).all(axis=1)
    x, y = meta.input_matrix(ok[keep]).T, values[keep]
    # a finite input (an ensemble member, a site type) is conditioned on each of its values; with fewer
    # samples than twice its values (500 functionals, 256 samples) its index is not identified: NaN, said so
    # (rank classes of arbitrary labels would report a near-zero index for an input that may dominate)
    distinct = [len(np.unique(column)) for column in x.T]
    finite = [name in meta.discrete_inputs for name in meta.inputs]
    unidentified = [name for name, is_finite, count in zip(meta.inputs, finite, distinct, strict=True)
                    if is_finite and count > len(y) // 2]
    discrete = [True if is_finite and name not in unidentified else None for name, is_finite in zip(meta.inputs, finite, strict=True)]
    names = {"input": meta.inputs}
    first = given_data.first_order(x, y, discrete=discrete)
    rows = min(len(y), INTERVAL_ROWS)
    interval = given_data.first_order_intervals(x[:rows], y[:rows], discrete=discrete, resamples=resamples,
                                                confidence=confidence, seed=seed)
    if rows < len(y):
        interval = first + (interval - given_data.first_order(x[:rows], y[:rows], discrete=discrete)) * np.sqrt(rows / len(y))
    blank = np.isin(meta.inputs, unidentified)
    first[blank], interval[:, blank] = np.nan, np.nan
    data = {"first": unflat(first, var, names), "first_interval": unflat(interval, var, {"bound": ["lower", "upper"], **names})}
    if meta.dependent_inputs and len(meta.inputs) <= SHAPLEY_INPUTS:
        data["shapley"] = unflat(shapley.shapley_effects(x, y, seed=seed), var, names)
    more = {"unidentified": "; ".join(f"{name}: {count} values in {len(y)} samples, each needs to repeat" for name, count
                                      in zip(meta.inputs, distinct, strict=True) if name in unidentified)} if unidentified else {}
    return xr.Dataset(data, attrs=_attrs(run, output, "given_data", len(y), transform, confidence=confidence,
                                         resamples=resamples, **more))


def sobol(run: xr.Dataset, output: str, method: Literal["auto", "pce", "saltelli", "given_data"] = "auto",
          **options) -> xr.Dataset:
    """Sobol indices of ``output`` by ``method``; ``"auto"``: the rule of :func:`uqms.analysis.plan.sobol_rule`
    (Saltelli on a Saltelli run, given-data for dependent or discrete inputs, PCE otherwise)."""
    from uqms.analysis.plan import sobol_rule

    if method == "auto":
        method = sobol_rule(run, "auto")[0]
    if method == "saltelli":
        return sobol_saltelli_run(run, output, **options)
    if method == "given_data":
        return sobol_given_data_run(run, output, **options)
    return sobol_pce_run(run, output, **options)
