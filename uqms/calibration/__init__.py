"""Bayesian calibration of a workflow's inputs to measured data (emcee, arviz)."""

import warnings

# arviz 0.23 announces its 1.x refactor on import; uqms pins arviz<1 (see pyproject.toml).
warnings.filterwarnings("ignore", message=r"\s*ArviZ is undergoing a major refactor", category=FutureWarning)

from uqms.calibration.calibrate import calibrate
from uqms.calibration.data import Measurements, Observable, load_measurements
from uqms.calibration.inference_data import (
    autocorrelation_times,
    load,
    save,
    summary,
    to_inference_data,
)
from uqms.calibration.likelihood import Likelihood
from uqms.calibration.priors import Prior, ensemble_correction_prior
from uqms.calibration.problem import CalibrationProblem
from uqms.calibration.sampler import ChainQuality, chain_quality, run_sampler

__all__ = [
    "CalibrationProblem", "ChainQuality", "Likelihood", "Measurements", "Observable", "Prior",
    "autocorrelation_times", "calibrate", "chain_quality", "ensemble_correction_prior", "load",
    "load_measurements", "run_sampler", "save", "summary", "to_inference_data",
]
