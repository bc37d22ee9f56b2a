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
    conditions and measured standard deviations ``<key>_sd``, NaN where none), ``prior`` and ``prior_predictive`` (``prior_draws`` prior draws).

    The posterior's attrs hold the autocorrelation times, burn-in, thinning, the
    calibrated and fixed inputs, the likelihood and the data file.
    """
    quality = chain_quality(sampler)
    theta = sampler.get_chain(discard=quality.burn, thin=quality.thin)  # (draw, walker, parameter)
    pointwise, predicted = problem.split_blobs(sampler.get_blobs(discard=quality.burn, thin=quality.thin))
    rng = np.random.default_rng([seed, 11])
    walker_first = lambda a: np.swapaxes(a, 0, 1)  # noqa: E731 - arviz wants (chain, draw, ...)
    data = problem.data
    replicated = _replicate(problem, theta.reshape(-1, problem.ndim), predicted.reshape(-1, *problem.shape), rng)
    prior_theta = problem.prior.sample(prior_draws, seed)
    prior_predicted = _replicate(problem, prior_theta, problem.predict(prior_theta), rng)
    keys = data.keys
    by_key = lambda a, shape: {k: a[..., m].reshape(*shape, len(data)) for m, k in enumerate(keys)}  # noqa: E731
    chains = (sampler.nwalkers, theta.shape[0])
    idata = az.from_dict(
        posterior={name: walker_first(theta[..., j]) for j, name in enumerate(problem.parameter_names)},
        log_likelihood=by_key(walker_first(pointwise), chains),
        posterior_predictive=by_key(walker_first(replicated.reshape(*theta.shape[:2], *problem.shape)), chains),
        sample_stats={"lp": walker_first(sampler.get_log_prob(discard=quality.burn, thin=quality.thin))},
        observed_data={k: data.observed[:, m] for m, k in enumerate(keys)},
        constant_data={**data.conditions, **{f"{k}{SD_SUFFIX}": data.sd[:, m] for m, k in enumerate(keys)}},
        prior={name: prior_theta[None, :, j] for j, name in enumerate(problem.parameter_names)},
        prior_predictive=by_key(prior_predicted, (1, prior_draws)),
        coords={EXPERIMENT: data.labels},
        dims={name: [EXPERIMENT] for name in [*keys, *data.conditions, *(f"{k}{SD_SUFFIX}" for k in keys)]},
        posterior_attrs=_attributes(problem, sampler, quality),
    )
    for group in ("observed_data", "posterior_predictive", "prior_predictive", "constant_data"):
        for name, var in idata[group].data_vars.items():
            var.attrs["units"] = data.units.get(name.removesuffix(SD_SUFFIX), "")
    for name in problem.calibrated:
        idata.posterior[name].attrs["units"] = problem.workflow.inputs[name].unit
    return idata


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
