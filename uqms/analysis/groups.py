"""Input groups for grouped Sobol indices (e.g. every principal component of a functional ensemble as "functional")."""

from __future__ import annotations

from collections.abc import Sequence

import xarray as xr

from uqms.execution import input_names


def input_groups(run: xr.Dataset) -> dict[str, list[str]]:
    """``{group: [input names]}`` from the ``group`` attrs of a run's inputs, in design order."""
    groups: dict[str, list[str]] = {}
    for name in input_names(run):
        groups.setdefault(run[name].attrs.get("group") or name, []).append(name)
    return groups


def group_columns(names: Sequence[str], groups: dict[str, list[str]]) -> list[list[int]]:
    """Design column numbers of the members of each group."""
    return [[list(names).index(member) for member in members] for members in groups.values()]


def has_groups(groups: dict[str, list[str]]) -> bool:
    """True when some group holds more than one input (otherwise grouped indices repeat the plain ones)."""
    return any(len(members) > 1 for members in groups.values())
