"""The reduction plan: for every output of a run, what is computed and why.

One rule, used by ``uqms analyze``, ``uqms report`` and ``uqms run``'s own analysis:

- a nested output gets the aleatoric/epistemic variance split and a p-box, no Sobol indices;
- an output whose ok values do not vary (spread below :data:`CONSTANT_SPREAD` of its
  magnitude) is reported as a constant: no density, no indices;
- values are analysed through a transform: ``[analysis] transform = { tof = "log10" }``,
  or by default log10 for a positive output whose central 90 % spans more than
  :data:`~uqms.analysis.predictive.DECADES_FOR_LOG` decades;
- target outputs (whose key results head the report, and which are drawn against
  descriptors): ``[analysis] targets``, else the first of ``[analysis] outputs``, else the
  chain's last varying output with one value per sample (a TOF, a conversion: a headline
  number), else its last varying output (:func:`choose_targets`);
- Sobol indices (``[analysis] sobol = "auto"``): Saltelli's estimators on a Saltelli run;
  the given-data estimators (first-order indices, and Shapley effects where the inputs are
  dependent) when inputs are dependent (posterior draws, correlations) or discrete (ensemble
  members), where a polynomial chaos expansion does not apply; otherwise a sparse polynomial
  chaos expansion, replaced by the given-data estimators when its leave-one-out error is
  above ``loo_threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from uqms.analysis.predictive import spans_decades
from uqms.analysis.samples import transformed_name

CONSTANT_SPREAD = 1e-9  # relative spread (max - min) / max |x| below which an output is a constant


@dataclass(frozen=True)
class OutputPlan:
    """What is computed for one output.

    Attributes:
        name: the output.
        units: its units.
        nested: it has an ``inner`` (aleatoric) dim: variance split and p-box.
        constant: its ok values do not vary; the value itself is in ``constant_value``.
        transform: ``"none"`` or ``"log10"``: what densities and indices are taken of.
        transform_reason: why that transform ("asked for", "spans 5.2 decades", ...).
        bounds: known support ``(lower, upper)`` of the values (untransformed), None where unbounded.
        sobol: ``"pce"``, ``"saltelli"``, ``"given_data"`` or ``"none"``.
        sobol_reason: why that method.
        target: why it is a target output (key results, descriptor figures); empty if it is not.
    """

    name: str
    units: str
    nested: bool = False
    constant: bool = False
    constant_value: float = float("nan")
    transform: str = "none"
    transform_reason: str = ""
    bounds: tuple[float | None, float | None] = (None, None)
    sobol: str = "none"
    sobol_reason: str = ""
    target: str = ""

    @property
    def label(self) -> str:
        """The analysed quantity: ``log10(tof)`` or ``tof``."""
        return transformed_name(self.name, self.transform)


def is_constant(values: np.ndarray) -> tuple[bool, float]:
    """Whether the finite ``values`` do not vary beyond round-off, and their median."""
    x = values[np.isfinite(values)]
    if not x.size:
        return False, float("nan")
    scale = np.abs(x).max()
    return bool(np.ptp(x) <= CONSTANT_SPREAD * scale), float(np.median(x))


def declared_bounds(var: xr.DataArray, values: np.ndarray) -> tuple[float | None, float | None]:
    """The support an output's stage declared (``valid_min`` / ``valid_max`` attrs, CF style),
    each bound kept only if every finite value respects it (a density is reflected at it)."""
    x = values[np.isfinite(values)]
    low, high = var.attrs.get("valid_min"), var.attrs.get("valid_max")
    low = None if low is None or (x.size and x.min() < low) else float(low)
    return low, None if high is None or (x.size and x.max() > high) else float(high)


def choose_transform(name: str, values: np.ndarray, asked: dict[str, str]) -> tuple[str, str]:
    """The transform of one output and why (see the module docstring)."""
    x = values[np.isfinite(values)]
    if name in asked:
        if asked[name] == "log10" and x.size and x.min() <= 0:
            return "none", f"log10 asked for, but {int((x <= 0).sum())} values are not positive"
        return asked[name], "asked for in [analysis] transform"
    if spans_decades(x):
        low, high = np.quantile(x, [0.05, 0.95])
        return "log10", f"positive, 5-95 % quantiles span {np.log10(high / low):.1f} decades"
    return "none", ""


def sobol_rule(run: xr.Dataset, asked: str) -> tuple[str, str]:
    """The Sobol method for the (non-nested, varying) outputs of ``run`` and why."""
    meta = run.uqms
    if asked != "auto":
        return asked, "asked for in [analysis] sobol"
    if meta.design == "saltelli":
        return "saltelli", "the run has a Saltelli design"
    if meta.dependent_inputs:
        return "given_data", f"dependent inputs ({', '.join(meta.dependent_inputs)}): no polynomial chaos basis"
    if meta.discrete_inputs:
        return "given_data", f"discrete inputs ({', '.join(meta.discrete_inputs)}): no polynomial chaos basis"
    return "pce", "independent continuous inputs: sparse polynomial chaos"


def choose_targets(run: xr.Dataset, settings, outputs: list[str]) -> tuple[list[str], str]:
    """The target outputs among ``outputs`` and why (see the module docstring)."""
    if settings.targets:
        unknown = [name for name in settings.targets if name not in outputs]
        if unknown:
            raise ValueError(f"analysis.targets: {unknown} are not analysed outputs of this run; expected some of {outputs}")
        return list(settings.targets), "asked for in [analysis] targets"
    if settings.outputs:
        return [settings.outputs[0]], "first of [analysis] outputs"
    ok = run.uqms.ok
    varying = []
    for name in reversed(outputs):  # reads an output only until a scalar one varies
        var = run[name]
        if is_constant(var.where(ok).values)[0]:
            continue
        if var.ndim == ok.ndim or var.size == ok.size:
            return [name], "the chain's last varying output with one value per sample"
        varying.append(name)
    return varying[:1], "the chain's last varying output"


def plan_output(run: xr.Dataset, name: str, values: np.ndarray, settings, target: str = "") -> OutputPlan:
    """The plan of one output from its ok ``values`` (any shape) and the analysis ``settings``."""
    var = run[name]
    units = var.attrs.get("units", "")
    nested = "inner" in var.dims
    constant, value = is_constant(values)
    if constant:
        return OutputPlan(name, units, nested, True, value, sobol_reason="constant: no indices", target=target)
    transform, why = choose_transform(name, values, settings.transform)
    bounds = declared_bounds(var, values)
    if nested:
        return OutputPlan(name, units, True, False, transform=transform, transform_reason=why, bounds=bounds,
                          sobol="none", sobol_reason="nested run: variance split and p-box instead", target=target)
    method, reason = ("none", "not asked for") if settings.sobol == "none" else sobol_rule(run, settings.sobol)
    return OutputPlan(name, units, False, False, transform=transform, transform_reason=why, bounds=bounds,
                      sobol=method, sobol_reason=reason, target=target)
