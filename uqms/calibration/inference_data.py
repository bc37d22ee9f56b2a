"""A finished calibration as arviz InferenceData, its summary table and its NetCDF file."""

from __future__ import annotations

import json
from pathlib import Path

import arviz as az
import emcee
import numpy as np
import pandas as pd

from uqms.calibration.data import SD_SUFFIX
from uqms.calibration.problem import CalibrationProblem
from uqms.calibration.sampler import ChainQuality, chain_quality

EXPERIMENT = "experiment"
HDI_PROB = 0.94


def to_inference_data(problem: CalibrationProblem, sampler: emcee.EnsembleSampler, seed: int = 0,
                      prior_draws: int = 500) -> az.InferenceData:
    """Groups: ``posterior`` (walkers as chains, after burn-in and thinning by the
    autocorrelation time), ``log_likelihood`` (per datum, for LOO/WAIC),
    ``posterior_predictive`` (the stored predictions plus noise from the likelihood),
    ``sample_stats`` (log posterior ``lp``), ``observed_data``, ``constant_data`` (the
    conditions and measured standard deviations ``<key>_sd``, NaN where none), ``prior``
    and ``prior_predictive`` (``prior_draws`` prior draws).

    The posterior's attrs hold the autocorrelation times, burn-in, thinning, the
    calibrated and fixed inputs, the likelihood and the data file.
    """
    quality = chain_quality(sampler)
    window = {"discard": quality.burn, "thin": quality.thin}
    # emcee gives (draw, walker, ...); arviz wants (chain, draw, ...): walkers become chains
    theta = np.swapaxes(sampler.get_chain(**window), 0, 1)
    pointwise, predicted = (np.swapaxes(a, 0, 1) for a in problem.split_blobs(sampler.get_blobs(**window)))
    rng = np.random.default_rng([seed, 11])
    replicated = _replicate(problem, theta.reshape(-1, problem.ndim), predicted.reshape(-1, *problem.shape), rng)
    prior_theta = problem.prior.sample(prior_draws, seed)
    prior_replicated = _replicate(problem, prior_theta, problem.predict(prior_theta), rng)
    data, keys, names = problem.data, problem.data.keys, problem.parameter_names
    sds = [f"{k}{SD_SUFFIX}" for k in keys]
    idata = az.from_dict(
        posterior=_by_name(theta, names),
        log_likelihood=_by_name(pointwise, keys),
        posterior_predictive=_by_name(replicated.reshape(predicted.shape), keys),
        sample_stats={"lp": np.swapaxes(sampler.get_log_prob(**window), 0, 1)},
        observed_data=_by_name(data.observed, keys),
        constant_data={**data.conditions, **_by_name(data.sd, sds)},
        prior=_by_name(prior_theta[None], names),
        prior_predictive=_by_name(prior_replicated[None], keys),
        coords={EXPERIMENT: data.labels},
        dims={name: [EXPERIMENT] for name in [*keys, *data.conditions, *sds]},
        posterior_attrs=_attributes(problem, sampler, quality),
    )
    for group in ("observed_data", "posterior_predictive", "prior_predictive", "constant_data"):
        for name, var in idata[group].data_vars.items():
            var.attrs["units"] = data.units.get(name.removesuffix(SD_SUFFIX), "")
    for name in problem.calibrated:
        idata.posterior[name].attrs["units"] = problem.workflow.inputs[name].unit
    return idata


def _by_name(values: np.ndarray, names) -> dict[str, np.ndarray]:
    """``{name: values[..., k]}``: one variable per entry of the last axis."""
    return {name: values[..., k] for k, name in enumerate(names)}


def _replicate(problem: CalibrationProblem, theta: np.ndarray, predicted: np.ndarray, rng) -> np.ndarray:
    """Simulated measurements at ``theta``: predictions plus the likelihood's noise."""
    data = problem.data
    return problem.likelihood.replicate(predicted, data.observed, data.sd, problem.sigma(theta), rng)


def _attributes(problem: CalibrationProblem, sampler: emcee.EnsembleSampler, quality: ChainQuality) -> dict:
    """What the calibration was and how well its chain mixed (plain types, for NetCDF)."""
    return {
        "workflow": problem.workflow.name,
        "workflow_file": problem.workflow.source,
        "workflow_text": problem.workflow.source_text,
        "data_file": problem.data.source,
        "calibrated_inputs": json.dumps(list(problem.calibrated)),
        "fixed_inputs": json.dumps(problem.fixed),
        "likelihood": problem.likelihood.transform,
        "noise": "inferred" if problem.likelihood.infers_noise else "measured",
        "sigma_prior": str(problem.likelihood.sigma_prior) if problem.likelihood.infers_noise else "",
        "walkers": int(sampler.nwalkers),
        "steps": int(quality.steps),
        "burn": int(quality.burn),
        "thin": int(quality.thin),
        "autocorr_time": json.dumps(dict(zip(problem.parameter_names, quality.tau.tolist()))),
        "converged": int(quality.converged),
        "acceptance_fraction": float(np.mean(sampler.acceptance_fraction)),
    }


def autocorrelation_times(idata: az.InferenceData) -> dict[str, float]:
    """emcee's integrated autocorrelation time of each parameter, steps."""
    return json.loads(idata.posterior.attrs["autocorr_time"])


def summary(idata: az.InferenceData) -> pd.DataFrame:
    """arviz's summary (mean, sd, 94% HDI, r_hat, ess_bulk, ess_tail, ...) with the
    autocorrelation time ``tau`` (steps) of each parameter beside it."""
    table = az.summary(idata, group="posterior", hdi_prob=HDI_PROB, round_to="none")
    table["tau"] = pd.Series(autocorrelation_times(idata))
    return table


def save(idata: az.InferenceData, path: str | Path) -> Path:
    """Write the InferenceData to NetCDF (h5netcdf) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    idata.to_netcdf(str(path), engine="h5netcdf")
    return path


def load(path: str | Path) -> az.InferenceData:
    """Read a calibration written by :func:`save`."""
    return az.from_netcdf(str(path), engine="h5netcdf")
