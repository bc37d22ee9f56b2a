"""Uncertain inputs, constants and their joint distribution."""

from uqms.inputs.distributions import (
    Beta,
    Categorical,
    DiscreteUniform,
    DistributionSpec,
    LogNormal,
    Normal,
    Triangular,
    TruncatedNormal,
    Uniform,
)
from uqms.inputs.parameters import Constant, Correlation, InputSet, UncertainInput

__all__ = [
    "Beta", "Categorical", "Constant", "Correlation", "DiscreteUniform", "DistributionSpec",
    "InputSet", "LogNormal", "Normal", "Triangular", "TruncatedNormal", "UncertainInput", "Uniform",
]
