"""Carry out the reduction plan of a run, one output at a time, every failure contained.

``uqms analyze`` writes what :func:`reduce_run` yields, ``uqms report`` renders it: both
see the same numbers, computed once by the same rule (:mod:`uqms.analysis.plan`). Only
one output's values are in memory at a time (a Zarr-backed run is read output by output),
and what is kept per output is small: tables, a density on a grid, an ECDF at fixed levels.

A reduction that raises is logged as a warning and recorded in ``problems``; the other
reductions of that output, and the other outputs, go on.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import numpy as np
import xarray as xr

import uqms.analysis.run_accessor  # noqa: F401  (registers run.uqms)
from uqms.analysis.convergence import (
    given_data_convergence,
    pce_convergence,
    saltelli_convergence,
)
from uqms.analysis.descriptor import choose_versus, versus_bands, versus_map
from uqms.analysis.pbox import pbox
from uqms.analysis.plan import OutputPlan, choose_targets, plan_output
from uqms.analysis.predictive import distribution, predictive_table, sample_dims
from uqms.analysis.samples import entry_labels, ok_rows
from uqms.analysis.sobol import sobol
from uqms.analysis.variance_split import variance_split

log = logging.getLogger(__name__)


@dataclass
class OutputReductions:
    """Everything computed for one output (None where not computed, see ``problems``).

    Attributes:
        plan: what was to be computed and why (the method actually used, after any fallback).
        summary: mean, std and quantiles (:func:`~uqms.analysis.predictive.predictive_table`).
        distribution: density and ECDF per entry (:func:`~uqms.analysis.predictive.distribution`).
        split: aleatoric/epistemic variance split (nested outputs).
        pbox: p-box (scalar nested outputs).
        indices: Sobol indices (or given-data first-order indices and Shapley effects).
        convergence: the indices against sample size (scalar outputs).
        versus: target outputs: their median and 5-95 % band against each descriptor
            (:func:`~uqms.analysis.descriptor.versus_bands`), and a 2-D map for two
            (:func:`~uqms.analysis.descriptor.versus_map`).
        problems: one line per reduction that failed, with the reason.
    """

    plan: OutputPlan
    summary: xr.DataArray | None = None
    distribution: xr.Dataset | None = None
    split: xr.Dataset | None = None
    pbox: xr.Dataset | None = None
    indices: xr.Dataset | None = None
    convergence: xr.Dataset | None = None
    versus: list[xr.Dataset] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @contextmanager
    def contained(self, what: str):
        """Run a reduction; if it raises, warn and note it instead of stopping the analysis."""
        try:
            yield
        except Exception as error:  # noqa: BLE001  one bad reduction must not end the others
            message = f"{what} failed: {type(error).__name__}: {error}"
            log.warning("%s: %s", self.plan.name, message)
            self.problems.append(message)


def check_outputs(run: xr.Dataset, outputs) -> list[str]:
    """The outputs to analyse (all by default); unknown names raise one clear error."""
    known = run.uqms.outputs
    unknown = [name for name in outputs if name not in known]
    if unknown:
        raise ValueError(f"analysis.outputs: {unknown} are not outputs of this run; expected some of {known}")
    return list(outputs) or known


def reduce_run(run: xr.Dataset, settings=None) -> Iterator[OutputReductions]:
    """The reductions of every output ``settings`` (default: the run's ``[analysis]``) ask for, in order,
    each computed when it is reached; unknown outputs, targets or descriptors asked for raise here,
    before any is."""
    settings = settings or run.uqms.settings
    outputs = check_outputs(run, settings.outputs)
    targets, why = choose_targets(run, settings, outputs)
    choose_versus(run, settings.versus)
    return (reduce_output(run, name, settings, why if name in targets else "") for name in outputs)


def reduce_output(run: xr.Dataset, name: str, settings, target: str = "") -> OutputReductions:
    """The plan of one output and its reductions (see the module docstring); ``target``: why
    it is a target output (it then gets its descriptor figures), empty if it is not."""
    meta = run.uqms
    var = run[name].compute()  # this output only, in memory while it is reduced
    ok = meta.ok
    core = tuple(sample_dims(var))
    values = ok_rows(var, ok, core)
    plan = plan_output(run, name, values, settings, target)
    result = OutputReductions(plan)
    with result.contained("predictive summary"):
        result.summary = predictive_table(var, ok, settings.quantiles, meta.failures, plan.transform == "log10")
    if plan.constant:
        return result
    with result.contained("density"):
        result.distribution = distribution(values, entry_labels(var, core), plan.transform == "log10", plan.bounds)
    if plan.nested:
        loaded = run.assign({name: var})  # the split and the p-box read the output already in memory
        with result.contained("variance split"):
            result.split = variance_split(loaded, name)
        if var.ndim == 2:
            with result.contained("p-box"):
                result.pbox = pbox(loaded, name, bands=settings.quantiles)
    elif plan.sobol != "none":
        with result.contained(f"Sobol indices ({plan.sobol})"):
            result.plan, result.indices = sensitivity(run, plan, settings)
        if settings.convergence and var.ndim == 1 and result.indices is not None:
            with result.contained("convergence of the indices"):
                result.convergence = convergence(run, result.plan, settings)
    if target:
        with result.contained("descriptor figures"):
            result.versus = descriptors(run, result, settings)
    return result


def descriptors(run: xr.Dataset, result: OutputReductions, settings) -> list[xr.Dataset]:
    """The output against each descriptor (:func:`~uqms.analysis.descriptor.choose_versus`), and
    against both on a map when there are two."""
    names, why = choose_versus(run, settings.versus, result.indices)
    log_scale = result.plan.transform == "log10"
    found = [versus_bands(run, result.plan.name, name, settings.bins, log_scale, why) for name in names]
    if len(names) == 2:
        found.append(versus_map(run, result.plan.name, names, settings.bins, log_scale, why))
    return found


def method_options(plan: OutputPlan, settings) -> dict:
    """Keyword options of :func:`~uqms.analysis.sobol.sobol` for the plan's method."""
    if plan.sobol == "saltelli":
        return {"resamples": settings.bootstrap, "confidence": settings.confidence, "transform": plan.transform}
    if plan.sobol == "given_data":
        return {"resamples": min(settings.bootstrap, 200), "confidence": settings.confidence, "transform": plan.transform}
    return {"order": settings.pce_order, "max_order": settings.max_pce_order, "transform": plan.transform,
            "resamples": min(settings.bootstrap, 200), "confidence": settings.confidence}


def sensitivity(run: xr.Dataset, plan: OutputPlan, settings) -> tuple[OutputPlan, xr.Dataset]:
    """Indices by the plan's method (and the plan, saying which inputs the indices could not identify)."""
    plan, indices = indices_by_plan(run, plan, settings)
    if "unidentified" in indices.attrs:
        plan = replace(plan, sobol_reason=f"{plan.sobol_reason}; not identified: {indices.attrs['unidentified']}")
    return plan, indices


def indices_by_plan(run: xr.Dataset, plan: OutputPlan, settings) -> tuple[OutputPlan, xr.Dataset]:
    """Indices by the plan's method; a PCE that fails, or whose leave-one-out error is above
    ``settings.loo_threshold``, is replaced by the given-data estimators (the plan says why)."""
    if plan.sobol != "pce":
        return plan, sobol(run, plan.name, plan.sobol, **method_options(plan, settings))
    try:
        indices = sobol(run, plan.name, "pce", **method_options(plan, settings))
    except (ValueError, np.linalg.LinAlgError) as error:
        reason = f"polynomial chaos failed ({error}): given-data estimators instead"
    else:
        loo = float(np.nanmax(indices["loo"].values)) if np.isfinite(indices["loo"].values).any() else np.nan
        if loo <= settings.loo_threshold:
            return plan, indices
        reason = (f"polynomial chaos leave-one-out error {loo:.2g} above {settings.loo_threshold:g}: "
                  "its indices are unreliable, given-data estimators instead")
    fallback = replace(plan, sobol="given_data", sobol_reason=reason)
    return fallback, sobol(run, plan.name, "given_data", **method_options(fallback, settings))


def convergence(run: xr.Dataset, plan: OutputPlan, settings) -> xr.Dataset:
    """The plan's indices against sample size."""
    options = method_options(plan, settings)
    if plan.sobol == "saltelli":
        return saltelli_convergence(run, plan.name, **options)
    if plan.sobol == "given_data":
        return given_data_convergence(run, plan.name, **options)
    return pce_convergence(run, plan.name, order=options["order"], max_order=options["max_order"], transform=options["transform"])
