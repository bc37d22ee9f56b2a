"""Distribution families an input can have, as validated specifications.

Each specification is a pydantic model tagged by ``distribution`` (the key used in
workflow files) whose ``build()`` returns the chaospy distribution. chaospy is imported
by the first ``build()``, not before: checking a workflow file does not need it.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, model_validator

if TYPE_CHECKING:
    import chaospy


def _chaospy():
    from uqms._chaospy import chaospy

    return chaospy


TAIL_STDS = 7  # truncated normals are sampled accurately up to this far into a tail


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Normal(_Spec):
    """Normal distribution with mean ``mean`` and standard deviation ``std``."""

    distribution: Literal["normal"] = "normal"
    mean: float
    std: PositiveFloat

    def build(self) -> chaospy.Distribution:
        return _chaospy().Normal(self.mean, self.std)


class LogNormal(_Spec):
    """Log-normal distribution: ``log(x)`` is normal with mean ``mu`` and std ``sigma``."""

    distribution: Literal["lognormal"] = "lognormal"
    mu: float
    sigma: PositiveFloat

    def build(self) -> chaospy.Distribution:
        return _chaospy().LogNormal(self.mu, self.sigma)


class _Bounded(_Spec):
    lower: float
    upper: float

    @model_validator(mode="after")
    def _ordered(self):
        if not self.lower < self.upper:
            raise ValueError(f"lower ({self.lower}) must be below upper ({self.upper})")
        return self


class Uniform(_Bounded):
    """Uniform distribution on [``lower``, ``upper``]."""

    distribution: Literal["uniform"] = "uniform"

    def build(self) -> chaospy.Distribution:
        return _chaospy().Uniform(self.lower, self.upper)


class TruncatedNormal(_Bounded):
    """Normal(``mean``, ``std``) truncated to [``lower``, ``upper``]."""

    distribution: Literal["truncnormal"] = "truncnormal"
    mean: float
    std: PositiveFloat

    @model_validator(mode="after")
    def _samplable(self):
        # chaospy's quantile function saturates about 8.2 std from the mean: bounds beyond
        # that would give every sample the same wrong value.
        if self.lower >= self.mean + TAIL_STDS * self.std or self.upper <= self.mean - TAIL_STDS * self.std:
            raise ValueError(
                f"[{self.lower}, {self.upper}] lies more than {TAIL_STDS} std from the mean {self.mean}, where a "
                "truncated normal cannot be sampled accurately: expected bounds overlapping mean +- "
                f"{TAIL_STDS} std (or a uniform distribution on the bounds)"
            )
        return self

    def build(self) -> chaospy.Distribution:
        return _chaospy().TruncNormal(self.lower, self.upper, mu=self.mean, sigma=self.std)


class Beta(_Bounded):
    """Beta(``alpha``, ``beta``) scaled to [``lower``, ``upper``] (default [0, 1])."""

    distribution: Literal["beta"] = "beta"
    alpha: PositiveFloat
    beta: PositiveFloat
    lower: float = 0.0
    upper: float = 1.0

    def build(self) -> chaospy.Distribution:
        return _chaospy().Beta(self.alpha, self.beta, lower=self.lower, upper=self.upper)


class Triangular(_Bounded):
    """Triangular distribution on [``lower``, ``upper``] with its peak at ``mode``."""

    distribution: Literal["triangular"] = "triangular"
    mode: float

    @model_validator(mode="after")
    def _mode_inside(self):
        if not self.lower <= self.mode <= self.upper:
            raise ValueError(f"mode ({self.mode}) must lie in [lower, upper] = [{self.lower}, {self.upper}]")
        return self

    def build(self) -> chaospy.Distribution:
        return _chaospy().Triangle(self.lower, self.mode, self.upper)


class DiscreteUniform(_Bounded):
    """Integers ``lower``, ..., ``upper``, each equally likely."""

    distribution: Literal["discrete"] = "discrete"
    lower: int
    upper: int

    def build(self) -> chaospy.Distribution:
        # chaospy.DiscreteUniform.inv returns non-integers (a smoothed step): use whole values.
        return Categorical(values=list(range(self.lower, self.upper + 1))).build()


def _categorical_cdf(values, cumulative, x):
    index = np.searchsorted(values, x, side="right") - 1
    return np.where(index >= 0, cumulative[np.maximum(index, 0)], 0.0)


def _categorical_ppf(values, cumulative, q):
    return values[np.minimum(np.searchsorted(cumulative, q, side="left"), len(values) - 1)]


def _constant(value):
    return value


class Categorical(_Spec):
    """A finite set of ``values`` with probabilities proportional to ``weights`` (default equal)."""

    distribution: Literal["categorical"] = "categorical"
    values: list[float] = Field(min_length=2)
    weights: list[PositiveFloat] | None = None

    @model_validator(mode="after")
    def _consistent(self):
        if len(set(self.values)) != len(self.values):
            raise ValueError("values must be distinct")
        if self.weights is not None and len(self.weights) != len(self.values):
            raise ValueError(f"weights has {len(self.weights)} entries, values has {len(self.values)}")
        return self

    def build(self) -> chaospy.Distribution:
        # chaospy has no weighted categorical over arbitrary values; a UserDistribution
        # with module-level (picklable) step cdf and ppf is the smallest faithful one.
        order = np.argsort(self.values)
        values = np.asarray(self.values, dtype=float)[order]
        weights = np.ones(len(values)) if self.weights is None else np.asarray(self.weights)[order]
        cumulative = np.cumsum(weights) / weights.sum()
        return _chaospy().UserDistribution(
            cdf=partial(_categorical_cdf, values, cumulative),
            ppf=partial(_categorical_ppf, values, cumulative),
            lower=partial(_constant, values[0]),
            upper=partial(_constant, values[-1]),
        )


def is_discrete(distribution: chaospy.Distribution) -> bool:
    """Whether a built distribution is one of uqms's finite ones (categorical, discrete, ensemble member)."""
    return isinstance(distribution, _chaospy().UserDistribution) and getattr(distribution._cdf, "func", None) is _categorical_cdf


def describe(distribution: chaospy.Distribution) -> str:
    """A short text of a built distribution: chaospy's repr, or ``Categorical(500 values, 0 to 499)``."""
    if not is_discrete(distribution):
        return str(distribution)
    values = distribution._cdf.args[0]
    return f"Categorical({len(values)} values, {values[0]:g} to {values[-1]:g})"


DistributionSpec = Annotated[
    Normal | LogNormal | Uniform | TruncatedNormal | Beta | Triangular | DiscreteUniform | Categorical,
    Field(discriminator="distribution"),
]
