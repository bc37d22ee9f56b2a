"""Gaussian likelihood of measured outputs given the chain's predictions."""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy.stats import norm

from uqms._chaospy import chaospy

Transform = Literal["log10", "linear"]
TRANSFORMS: tuple[str, ...] = ("log10", "linear")


class Likelihood:
    """Observations scattered normally around the predictions, in log10 or linear scale.

    With ``transform="log10"`` (the default, for rates spanning decades) ``log10(y_obs)``
    is normal around ``log10(y_pred)``; a measured standard deviation ``sd`` (output unit)
    becomes ``sd / (y_obs ln 10)`` decades (first-order propagation). With a
    ``sigma_prior`` an extra noise standard deviation ``sigma`` (decades, or output
    unit for ``"linear"``) is inferred with the inputs and added in quadrature to the
    measured ones (which may then be absent).

    Args:
        transform: ``"log10"`` or ``"linear"``.
        sigma_prior: chaospy distribution of ``sigma`` (positive support); None: known noise.
    """

    def __init__(self, transform: Transform = "log10", sigma_prior: chaospy.Distribution | None = None):
        if transform not in TRANSFORMS:
            raise ValueError(f"unknown likelihood {transform!r}; expected one of {TRANSFORMS}")
        self.transform, self.sigma_prior = transform, sigma_prior

    @property
    def infers_noise(self) -> bool:
        return self.sigma_prior is not None

    def scale(self, y: np.ndarray) -> np.ndarray:
        """Values in the scale the noise is normal in (NaN for non-positive values under log10)."""
        if self.transform == "linear":
            return np.asarray(y, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)

    def measured_sd(self, observed: np.ndarray, sd: np.ndarray) -> np.ndarray:
        """Measured standard deviations in the likelihood's scale (0 where none was given)."""
        sd = np.nan_to_num(sd, nan=0.0)
        return sd / (observed * np.log(10.0)) if self.transform == "log10" else sd

    def total_sd(self, observed: np.ndarray, sd: np.ndarray, sigma: np.ndarray | None) -> np.ndarray:
        """Standard deviation of each datum, shape ``(walkers, experiments, observables)``."""
        measured = self.measured_sd(observed, sd)[None]
        if sigma is None:
            return measured
        return np.sqrt(measured**2 + np.asarray(sigma)[:, None, None] ** 2)

    def pointwise(self, predicted: np.ndarray, observed: np.ndarray, sd: np.ndarray,
                  sigma: np.ndarray | None = None) -> np.ndarray:
        """Log density of each datum, ``(walkers, experiments, observables)``; -inf where the
        prediction is missing or (log10) not positive.

        Args:
            predicted: ``(walkers, experiments, observables)`` chain outputs.
            observed, sd: ``(experiments, observables)`` measured values and standard deviations.
            sigma: ``(walkers,)`` inferred noise, or None.
        """
        mean = self.scale(predicted)
        values = norm.logpdf(self.scale(observed)[None], loc=np.nan_to_num(mean), scale=self.total_sd(observed, sd, sigma))
        return np.where(np.isfinite(mean), values, -np.inf)

    def replicate(self, predicted: np.ndarray, observed: np.ndarray, sd: np.ndarray,
                  sigma: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
        """Simulated measurements: predictions plus noise drawn from this likelihood."""
        noisy = self.scale(predicted) + rng.standard_normal(predicted.shape) * self.total_sd(observed, sd, sigma)
        return 10.0**noisy if self.transform == "log10" else noisy
