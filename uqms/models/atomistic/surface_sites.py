"""Census of the surface sites of a structure by coordination: table and histogram figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ase import Atoms
from matplotlib.figure import Figure

from uqms.models.atomistic.coordination import (
    coordination_numbers,
    generalized_coordination_numbers,
)

GCN_DECIMALS = 3  # atoms whose GCN agree to this many decimals are one site type


def surface_site_table(atoms: Atoms, cn_max: float = 12.0, bulk_cn: int = 12, cutoff: float | None = None) -> pd.DataFrame:
    """Surface atoms (CN < ``bulk_cn``) grouped by (CN, GCN), sorted by GCN.

    Returns:
        columns ``cn``, ``gcn`` (atop, CN_max = ``cn_max``), ``count`` (atoms) and
        ``fraction`` (of the surface atoms).
    """
    cn = coordination_numbers(atoms, cutoff)
    gcn = generalized_coordination_numbers(atoms, cn_max, cutoff)
    surface = cn < bulk_cn
    if not surface.any():
        raise ValueError(f"no atom has fewer than {bulk_cn} neighbours: no surface sites")
    atoms_table = pd.DataFrame({"cn": cn[surface], "gcn": gcn[surface], "key": np.round(gcn[surface], GCN_DECIMALS)})
    table = (
        atoms_table.groupby(["cn", "key"]).agg(gcn=("gcn", "mean"), count=("gcn", "size")).reset_index()
        .drop(columns="key").sort_values(["gcn", "cn"], ignore_index=True)
    )
    table["fraction"] = table["count"] / table["count"].sum()
    return table


def plot_site_histogram(table: pd.DataFrame, title: str = "surface sites"):
    """Bar chart (no pyplot) of the share of surface atoms per GCN, each bar labelled with its CN.

    Returns:
        the matplotlib Figure.
    """
    figure = Figure(figsize=(6, 3.5), layout="constrained")
    ax = figure.subplots()
    spacing = np.diff(np.unique(table["gcn"]))
    width = 0.8 * min(0.15, spacing.min() if spacing.size else 0.15)
    bars = ax.bar(table["gcn"], 100 * table["fraction"], width=width, color="tab:blue")
    ax.bar_label(bars, labels=[f"CN {c}" for c in table["cn"]], fontsize=7, rotation=90, padding=2)
    ax.set_xlabel("generalized coordination number GCN (atop, CN$_{max}$ = 12) [-]")
    ax.set_ylabel("share of surface atoms [%]")
    ax.set_title(f"{title}: {int(table['count'].sum())} surface atoms")
    ax.set_ylim(0, 125 * table["fraction"].max())
    return figure
