"""Surrogates: fit a run's outputs (:mod:`~uqms.surrogates.fit`), save and load them
(:mod:`~uqms.surrogates.model`), and put them in a chain (:mod:`~uqms.surrogates.stage`)."""

from uqms.surrogates.fit import fit_surrogate
from uqms.surrogates.model import Surrogate
from uqms.surrogates.stage import SurrogateStage

__all__ = ["Surrogate", "SurrogateStage", "fit_surrogate"]
