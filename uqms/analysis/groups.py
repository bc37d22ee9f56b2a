"""Input groups for grouped Sobol indices (e.g. every principal component of a functional ensemble as "functional")."""

from __future__ import annotations

from collections.abc import Sequence


def group_columns(names: Sequence[str], groups: dict[str, list[str]]) -> list[list[int]]:
    """Design column numbers of the members of each group."""
    return [[list(names).index(member) for member in members] for members in groups.values()]


def has_groups(groups: dict[str, list[str]]) -> bool:
    """True when some group holds more than one input (otherwise grouped indices repeat the plain ones)."""
    return any(len(members) > 1 for members in groups.values())
