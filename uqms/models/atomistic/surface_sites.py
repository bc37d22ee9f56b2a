"""Census of the surface sites of a structure by coordination: table and histogram figure."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ase import Atoms

from uqms.models.atomistic.coordination import coordination_numbers, generalized_coordination_numbers

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
    """Bar chart of the share of surface atoms per GCN, each bar labelled with its CN.

    Returns:
        the matplotlib Figure.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    bars = ax.bar(table["gcn"], 100 * table["fraction"], width=0.12, color="tab:blue")
    ax.bar_label(bars, labels=[f"CN {c}" for c in table["cn"]], fontsize=8)
    ax.set_xlabel("generalized coordination number GCN (atop, CN$_{max}$ = 12) [-]")
    ax.set_ylabel("share of surface atoms [%]")
    ax.set_title(f"{title}: {int(table['count'].sum())} surface atoms")
    ax.set_ylim(0, 115 * table["fraction"].max())
    fig.tight_layout()
    return fig
