"""Values of outputs as reductions take them: entries flattened to columns and back, labelled, transformed."""

from __future__ import annotations

import numpy as np
import xarray as xr


def entry_dims(var: xr.DataArray, core: tuple[str, ...]) -> list[str]:
    """The dims of an output beyond the sample dims ``core`` (e.g. a species axis)."""
    return [d for d in var.dims if d not in core]


def flat(var: xr.DataArray, core: tuple[str, ...] = ("sample",)) -> np.ndarray:
    """Values shaped ``(*core sizes, m)``: every entry of the output in one trailing column axis."""
    extra = entry_dims(var, core)
    return var.transpose(*core, *extra).values.reshape(*(var.sizes[d] for d in core), -1)


def unflat(values: np.ndarray, var: xr.DataArray, leading: dict[str, object], core: tuple[str, ...] = ("sample",)) -> xr.DataArray:
    """Inverse of :func:`flat`: ``values`` shaped ``(*leading sizes, m)`` as a labelled DataArray."""
    extra = entry_dims(var, core)
    shape = tuple(len(c) for c in leading.values()) + tuple(var.sizes[d] for d in extra)
    coords = {**leading, **{d: var[d].values for d in extra if d in var.coords}}
    return xr.DataArray(np.asarray(values).reshape(shape), dims=(*leading, *extra), coords=coords)


def entry_labels(var: xr.DataArray, core: tuple[str, ...] = ("sample",)) -> list[str]:
    """One readable label per entry of an output, from its coordinate values: ``["NH3"]``,
    ``["N2_dissociation, NH3", ...]``; the output's name for a scalar output."""
    extra = entry_dims(var, core)
    if not extra:
        return [str(var.name)]
    coords = [var[d].values if d in var.coords else np.arange(var.sizes[d]) for d in extra]
    return [", ".join(str(c[i]) for c, i in zip(coords, index, strict=True)) for index in np.ndindex(*(var.sizes[d] for d in extra))]


def ok_rows(var: xr.DataArray, ok: xr.DataArray, core: tuple[str, ...] = ("sample",)) -> np.ndarray:
    """Values ``(draws, m)`` of an output, NaN where ``ok`` is false: one row per sample (per
    sample and inner draw of a nested run), one column per entry (:func:`flat`)."""
    values = flat(var.where(ok), core)
    return values.reshape(-1, values.shape[-1])


def transformed_name(name: str, transform: str = "none") -> str:
    """The quantity :func:`apply_transform` makes of output ``name``: ``log10(tof)`` or ``tof``."""
    return f"log10({name})" if transform == "log10" else name


def apply_transform(values: np.ndarray, transform: str = "none") -> np.ndarray:
    """``values`` as analysed: unchanged (``"none"``) or their log10 (``"log10"``; NaN where not positive)."""
    if transform == "none":
        return values
    if transform != "log10":
        raise ValueError(f"unknown transform {transform!r}; expected 'none' or 'log10'")
    positive = values > 0
    return np.where(positive, np.log10(np.where(positive, values, 1.0)), np.nan)
