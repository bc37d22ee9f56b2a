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

import json
from math import comb
from typing import Literal

import numpy as np
import xarray as xr

from uqms.analysis import pce as pce_fit
from uqms.analysis import sobol_pce
from uqms.analysis.groups import group_columns, has_groups, input_groups
from uqms.analysis.saltelli import saltelli_indices
from uqms.analysis.samples import flat, unflat
from uqms.execution import input_names
from uqms.sampling.saltelli import rows_per_base


def _check_scalar_samples(run: xr.Dataset, output: str) -> None:
    if "inner" in run[output].dims:
        raise ValueError(f"{output!r} belongs to a nested run: use the variance split and p-box for it")


SAMPLES_PER_TERM = 20


def pce_sample_cap(dim: int, order: int) -> int:
    """Most samples a regression PCE of total degree ``order`` in ``dim`` inputs uses."""
    return SAMPLES_PER_TERM * comb(dim + order, order)


def _attrs(run: xr.Dataset, output: str, method: str, n_ok: int, **more) -> dict:
    return {"output": output, "units": "1", "method": method, "n_used": int(n_ok),
            "n_failed": int((run["status"] != 0).sum()), **more}


def run_pce(run: xr.Dataset, output: str, order: int | Literal["auto"] = "auto", max_order: int = 10,
            cross_truncation: float = 1.0, n: int | None = None) -> tuple[pce_fit.PolynomialChaos, dict[int, float], int]:
    """Regression PCE of ``output`` on the run's ok samples (the first ``n`` of them if given,
    and at most ``SAMPLES_PER_TERM`` per basis term of the highest order: beyond that the
    fit costs time, not accuracy, and the LOO error says how good it is).

    ``order="auto"`` fits a sparse expansion (:func:`uqms.analysis.pce.fit_sparse`, LARS with
    orders 1..max_order tried adaptively), an integer order the full basis of that order.
    Returns the fit, ``{order: LOO error}`` of the orders tried and the number of ok samples used.
    """
    from uqms.workflow import run_input_set

    _check_scalar_samples(run, output)
    inputs = run_input_set(run)
    if inputs.correlations:
        raise ValueError("Sobol indices from a PCE need independent inputs; this run has correlated ones")
    cap = pce_sample_cap(len(inputs), max_order if order == "auto" else int(order))
    ok = np.flatnonzero(run["status"].values == 0)[: min(n or cap, cap)]
    samples = np.stack([run[name].values[ok] for name in input_names(run)])
    values = flat(run[output])[ok]
    if order == "auto":
        fit = pce_fit.fit_sparse(samples, values, inputs.joint, max_order, q=cross_truncation)
        errors = {order: float(np.nanmean(loo)) if np.isfinite(loo).any() else np.nan for order, loo in fit.search.loo.items()}
    else:
        fit = pce_fit.fit_regression(samples, values, inputs.joint, int(order), cross_truncation)
        errors = {fit.order: float(np.mean(fit.loo))}
    return fit, errors, len(ok)


def pce_dataset(run: xr.Dataset, output: str, fit: pce_fit.PolynomialChaos, n_ok: int, method: str = "pce") -> xr.Dataset:
    """The indices of a fitted expansion as a labelled Dataset (see the module docstring)."""
    var, names = run[output], input_names(run)
    found = sobol_pce.indices(fit)
    groups = input_groups(run)
    group_first, group_total = sobol_pce.grouped(fit.coefficients, fit.multi_indices, group_columns(names, groups))
    data = {
        "first": unflat(found["first"], var, {"input": names}),
        "total": unflat(found["total"], var, {"input": names}),
        "second": unflat(found["second"], var, {"input": names, "input_2": names}),
        "group_first": unflat(group_first, var, {"group": list(groups)}),
        "group_total": unflat(group_total, var, {"group": list(groups)}),
        "loo": unflat(fit.loo, var, {}),
    }
    return xr.Dataset(data, attrs=_attrs(run, output, method, n_ok, order=fit.order, terms=len(fit.coefficients),
                                         grouped=int(has_groups(groups))))


def sobol_pce_run(run: xr.Dataset, output: str, order: int | Literal["auto"] = "auto", max_order: int = 10) -> xr.Dataset:
    """First, total, second-order and grouped indices of ``output`` from a regression PCE."""
    fit, _, n_ok = run_pce(run, output, order, max_order)
    return pce_dataset(run, output, fit, n_ok)


def sobol_quadrature(workflow, output: str, order: int, sparse: bool = True, rule: str = "gaussian") -> tuple[xr.Dataset, xr.Dataset]:
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


def saltelli_blocks(run: xr.Dataset) -> tuple[str, dict[str, list[str]]]:
    """What a Saltelli run swapped: ``("input" or "group", {block: [input names]})``."""
    if "saltelli_blocks" not in run.attrs:
        return "input", {name: [name] for name in input_names(run)}
    return run.attrs["saltelli_by"], json.loads(run.attrs["saltelli_blocks"])


def saltelli_rows(run: xr.Dataset, output: str, n_base: int | None = None) -> tuple[np.ndarray, int]:
    """Output rows of the ok base samples of a Saltelli run (the first ``n_base`` base samples if given)."""
    _check_scalar_samples(run, output)
    if run.attrs.get("design") != "saltelli":
        raise ValueError(f"Saltelli indices need a run made with the saltelli design, this one used {run.attrs.get('design')!r}")
    step = rows_per_base(len(saltelli_blocks(run)[1]))
    whole = min(run.sizes["sample"] // step, n_base or run.sizes["sample"])  # rows past the last whole base sample are unused
    values = flat(run[output])[: whole * step].reshape(whole, step, -1)
    ok = (run["status"].values[: whole * step].reshape(whole, step) == 0).all(axis=1)
    return values[ok].reshape(-1, values.shape[2]), int(ok.sum())


def sobol_saltelli_run(run: xr.Dataset, output: str, resamples: int = 1000, confidence: float = 0.95, seed: int = 0,
                       n_base: int | None = None) -> xr.Dataset:
    """First and total indices of ``output`` with bootstrap intervals from a Saltelli run:
    per input, or per input group (``group_first``, ...) if the design swapped groups."""
    by, blocks = saltelli_blocks(run)
    names = list(blocks)
    rows, n_ok = saltelli_rows(run, output, n_base)
    found = saltelli_indices(rows, len(names), resamples, confidence, seed)
    var = run[output]
    prefix = "" if by == "input" else "group_"
    bound = {"bound": ["lower", "upper"], by: names}
    data = {f"{prefix}{key}": unflat(found[key], var, bound if key.endswith("interval") else {by: names})
            for key in ("first", "total", "first_interval", "total_interval")}
    step = rows_per_base(len(names))
    return xr.Dataset(data, attrs=_attrs(run, output, "saltelli", n_ok * step, n_base=n_ok, confidence=confidence,
                                         resamples=resamples))


def index_variables(indices: xr.Dataset) -> tuple[str, str]:
    """The first- and total-order variables of a Sobol result: per input, or per input
    group for a Saltelli design that swapped groups."""
    return ("first", "total") if "first" in indices else ("group_first", "group_total")


def sobol(run: xr.Dataset, output: str, method: Literal["auto", "pce", "saltelli"] = "auto", **options) -> xr.Dataset:
    """Sobol indices of ``output``: Saltelli on a Saltelli run, PCE otherwise (``method="auto"``)."""
    if method == "auto":
        method = "saltelli" if run.attrs.get("design") == "saltelli" else "pce"
    if method == "saltelli":
        return sobol_saltelli_run(run, output, **options)
    return sobol_pce_run(run, output, **options)
