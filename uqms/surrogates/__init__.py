"""Surrogates: fit a run's outputs (:mod:`~uqms.surrogates.fit`), save and load them
(:mod:`~uqms.surrogates.model`), put them in a chain (:mod:`~uqms.surrogates.stage`), and train
them by running a workflow where they are least certain (:mod:`~uqms.surrogates.adaptive`)."""

from uqms.surrogates.adaptive import Training, train_adaptively
from uqms.surrogates.fit import fit_surrogate
from uqms.surrogates.model import Surrogate
from uqms.surrogates.stage import SurrogateStage

__all__ = ["Surrogate", "SurrogateStage", "Training", "fit_surrogate", "train_adaptively"]
