# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # CO oxidation: a two-descriptor volcano under uncertainty
#
# CO oxidation on a transition-metal surface by the Langmuir-Hinshelwood mechanism
#
# $$\mathrm{CO + * \rightleftharpoons CO^*},\qquad \mathrm{O_2 + 2* \rightleftharpoons 2O^*},\qquad
# \mathrm{CO^* + O^* \rightarrow CO_2 + 2*}$$
#
# with two descriptors: the O binding energy $E_\mathrm{O}$ (relative to ½ O₂) and the CO binding
# energy $E_\mathrm{CO}$ (relative to CO gas). Both transition-state energies are linear in them,
# as in the descriptor-based CO oxidation model of Falsig et al., *Angew. Chem. Int. Ed.* 47 (2008)
# 4835 and Jiang et al., *J. Phys. Chem. C* 113 (2009) 10548: the O₂ dissociation transition state
# in $E_\mathrm{O}$, the CO* + O* one in $E_\mathrm{CO} + E_\mathrm{O}$ (written as a BEP relation
# of the step, the same line). The numbers of those relations could not be checked against the
# papers here; `co_oxidation_mechanism.toml` marks them as assumptions, and the workflow
# `co_oxidation.toml` gives them an uncertainty.
#
# What is uncertain (`co_oxidation.toml`):
#
# | group | inputs | kind |
# |---|---|---|
# | descriptor | $E_\mathrm{O}$, $E_\mathrm{CO}$ of one catalyst (DFT error) | epistemic |
# | scaling | slopes and intercepts of the two transition-state relations | epistemic |
# | conditions | temperature, CO partial pressure (run-to-run scatter) | aleatoric |
#
# The notebook shows the volcano, the predictive distribution of the CO₂ turnover frequency of
# that catalyst, how much of its variance is aleatoric and how much epistemic (a nested design),
# which inputs and groups matter (Sobol indices by polynomial chaos and by Saltelli's estimator),
# and how the indices converge with the number of samples.

# %%
import json
import os
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import tomli_w
import xarray as xr

from uqms.analysis import (
    pbox,
    pce_convergence,
    predictive,
    saltelli_convergence,
    sobol,
    summary_table,
    variance_split,
)
from uqms.analysis.plots import (
    convergence_figure,
    pbox_figure,
    plane_figure,
    predictive_figure,
    sobol_figure,
)
from uqms.config import parse_workflow, read_toml
from uqms.workflow import Workflow

SMALL = os.environ.get("UQMS_CASE_STUDY_SIZE") == "small"
N_GRID = (36, 31) if SMALL else (106, 91)  # volcano grid points along E_O, E_CO
N_RELATION_DRAWS = 8 if SMALL else 32       # draws of the relation parameters for the volcano's optimum
N_RUN = 512 if SMALL else 8192              # samples of the plain (QMC) run
N_OUTER, N_INNER = (32, 16) if SMALL else (256, 64)  # nested design: epistemic x aleatoric
N_SALTELLI_BASE = 128 if SMALL else 2048    # base samples of the Saltelli run
MAX_PCE_ORDER = 3 if SMALL else 5
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 12)

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()  # a script, or a kernel started beside the notebook (as Jupyter does)
WORKFLOW = HERE / "co_oxidation.toml"
E_O_RANGE, E_CO_RANGE = (-2.5, 1.0), (-2.5, 0.5)  # eV, the plotted range (tests/test_co_oxidation.py checks it)
started = time.perf_counter()
workflow = Workflow.from_file(WORKFLOW)
print(workflow.chain.name, "inputs:", list(workflow.inputs.names))


def variant(**design) -> Workflow:
    """The workflow of co_oxidation.toml with its [design] section changed (the stored text says so)."""
    data, _ = read_toml(WORKFLOW)
    data["design"] = {**data.get("design", {}), **design}
    return Workflow.from_config(parse_workflow(data, str(WORKFLOW)), str(WORKFLOW), tomli_w.dumps(data))


def with_log_tof(run: xr.Dataset) -> xr.Dataset:
    """The run with log10 of the CO2 turnover frequency as one more output."""
    log_tof = np.log10(run["tof"].sel(product="CO2", drop=True))
    run = run.assign(log10_tof=log_tof.assign_attrs(role="output", units="log10(1/s)",
                                                    description="log10 of the CO2 turnover frequency"))
    run.attrs["output_names"] = json.dumps([*json.loads(run.attrs["output_names"]), "log10_tof"])
    return run


def slanted(figure):
    """A Sobol bar figure with its input names turned so that long names do not overlap."""
    for axes in figure.axes:
        axes.tick_params(axis="x", labelrotation=25)
    return figure


# %% [markdown]
# ## The volcano
#
# log10 TOF over the $E_\mathrm{O} \times E_\mathrm{CO}$ plane with every other input at its mean
# (600 K, 0.67 bar CO, 0.33 bar O₂). The white points are the optimum of the volcano for draws of
# the four relation parameters from their distributions; the black cross and ellipse are the
# catalyst of this study (mean and 2 sd of its binding energies).

# %%
e_o = np.linspace(*E_O_RANGE, N_GRID[0])
e_co = np.linspace(*E_CO_RANGE, N_GRID[1])
grid_o, grid_co = np.meshgrid(e_o, e_co)
batch = {name: np.full(grid_o.size, mean) for name, mean in workflow.inputs.means().items()}
batch |= {"E_O": grid_o.ravel(), "E_CO": grid_co.ravel()}
volcano = workflow.evaluate(batch)
log_tof_grid = np.log10(volcano["tof"][:, 0]).reshape(grid_o.shape)
print(f"volcano: {int((volcano['status'] != 0).sum())} of {grid_o.size} grid points failed")
top = np.unravel_index(np.nanargmax(log_tof_grid), log_tof_grid.shape)
print(f"optimum at E_O = {grid_o[top]:.2f} eV, E_CO = {grid_co[top]:.2f} eV: log10 TOF = {log_tof_grid[top]:.1f}")

relation_names = [i.name for i in workflow.inputs.inputs if i.group == "scaling"]
draws = workflow.inputs.joint.sample(N_RELATION_DRAWS, rule="sobol", seed=2008)
names = list(workflow.inputs.names)
optima = []
for k in range(N_RELATION_DRAWS):
    shifted = dict(batch)
    for name in relation_names:
        shifted[name] = np.full(grid_o.size, draws[names.index(name), k])
    values = np.log10(workflow.evaluate(shifted)["tof"][:, 0]).reshape(grid_o.shape)
    optima.append(np.unravel_index(np.nanargmax(values), values.shape))
optima = np.array([(grid_o[o], grid_co[o]) for o in optima])

top_decade = np.ceil(np.nanmax(log_tof_grid))
means, sds = workflow.inputs.means(), workflow.inputs.standard_deviations()
plane_figure(e_o, e_co, log_tof_grid, levels=np.arange(top_decade - 24, top_decade + 1),  # the top 24 decades
             labels=("E_O, O binding energy vs 1/2 O2(g) [eV]", "E_CO, CO binding energy vs CO(g) [eV]",
                     "log10 TOF(CO2) [log10(1/s)]"),
             title="CO oxidation volcano at 600 K", line_every=4,
             catalyst=((means["E_O"], sds["E_O"]), (means["E_CO"], sds["E_CO"])),
             points=optima, points_label="optimum, relation draws")

# %% [markdown]
# ## Predictive distribution of the catalyst's turnover frequency
#
# A plain quasi-Monte Carlo run over all eight inputs. The TOF spans decades, so it is also
# reduced as log10 TOF (the quantity the Sobol indices below are computed for).

# %%
run = with_log_tof(workflow.run(n=N_RUN))
summary = predictive(run, outputs=["tof", "log10_tof", "coverage"])
print(summary_table(summary))
predictive_figure(run, "tof", summary)

# %%
figure, axes = plt.subplots(figsize=(6, 4), layout="constrained")
ok = run["status"] == 0
for name in ("CO*", "O*"):
    axes.hist(run["coverage"].sel(adsorbate=name).where(ok).values, bins=40, range=(0, 1), alpha=0.6, label=name)
axes.hist(run["free_sites"].sel(site="surface").where(ok).values, bins=40, range=(0, 1), alpha=0.6, label="free sites")
axes.set_xlabel("coverage [1]")
axes.set_ylabel("samples [1]")
axes.set_title("steady-state coverages over the predictive run")
axes.legend()
plt.show()

# %% [markdown]
# Which step controls the rate: the degree of rate control of each step over the run (median and
# 5-95 % range; the three sum to 1 in every sample).

# %%
drc = run["drc"].sel(product="CO2", drop=True).where(ok)
print(drc.quantile([0.05, 0.5, 0.95], "sample").to_pandas().round(3))

# %% [markdown]
# ## Aleatoric or epistemic?
#
# A nested design draws the epistemic inputs (binding energies, relation parameters) in an outer
# loop and, for each, the aleatoric ones (temperature, CO pressure) in an inner loop. The law of
# total variance splits Var(log10 TOF) into the part that better knowledge could remove
# (epistemic: variance of the inner means) and the run-to-run part (aleatoric: mean of the inner
# variances). The p-box shows the spread of the inner CDFs: its width is the epistemic part.

# %%
nested = with_log_tof(variant(inner=N_INNER).run(n=N_OUTER))
split = variance_split(nested, "log10_tof")
print(split)
print(f"epistemic share of Var(log10 TOF): {float(split.epistemic_share):.3f}")
box = pbox(nested, "log10_tof")
pbox_figure(box, nested["log10_tof"].attrs["units"])

# %% [markdown]
# ## Which inputs matter: Sobol indices
#
# First-order and total indices of log10 TOF, by a polynomial chaos expansion fitted to the plain
# run (with indices of the input groups) and by Saltelli's estimator on a Saltelli design (with
# bootstrap intervals).

# %%
pce_indices = sobol(run, "log10_tof", method="pce", max_order=MAX_PCE_ORDER)
print(f"PCE order {pce_indices.attrs.get('order')}, relative LOO error {float(pce_indices['loo']):.3g}")
slanted(sobol_figure(pce_indices))

# %%
print(pce_indices[["group_first", "group_total"]].to_dataframe())
slanted(sobol_figure(pce_indices, by="group"))

# %%
steps = len(workflow.inputs.names) + 2
saltelli_run = with_log_tof(variant(method="saltelli").run(n=N_SALTELLI_BASE * steps))
saltelli_indices = sobol(saltelli_run, "log10_tof", method="saltelli", resamples=200)
slanted(sobol_figure(saltelli_indices))

# %% [markdown]
# The two estimates side by side, with Saltelli's bootstrap interval of the total index:

# %%
side_by_side = xr.Dataset({
    "first_pce": pce_indices["first"], "first_saltelli": saltelli_indices["first"],
    "total_pce": pce_indices["total"], "total_saltelli": saltelli_indices["total"],
    "total_saltelli_lower": saltelli_indices["total_interval"].sel(bound="lower", drop=True),
    "total_saltelli_upper": saltelli_indices["total_interval"].sel(bound="upper", drop=True),
}).to_dataframe()
print(side_by_side.round(3))

# %% [markdown]
# ## Convergence
#
# Indices against the number of samples: Saltelli's estimates with their bootstrap intervals, and
# the PCE's indices with its leave-one-out error and chosen order.

# %%
convergence_figure(saltelli_convergence(saltelli_run, "log10_tof", resamples=200))

# %%
convergence_figure(pce_convergence(run, "log10_tof", max_order=MAX_PCE_ORDER))

# %% [markdown]
# ## What this shows
#
# - The volcano has one maximum inside the plotted plane; left of it and below it (strong
#   binding) the surface is poisoned by O* or CO* and the rate falls by orders of magnitude per
#   eV, right of it O₂ dissociation is too slow. The position of the optimum moves with the
#   relation parameters (white points), so a catalyst's distance from the top is less certain
#   than its binding energies alone suggest.
# - The catalyst of this study lies on the strong-binding side; the predictive distribution of
#   its TOF spans decades, and the nested design shows how much of that spread is lack of
#   knowledge rather than run-to-run scatter.
# - The Sobol indices rank what to learn first: the printed tables above say which group carries
#   the variance of log10 TOF for this catalyst and whether the PCE and Saltelli estimates agree
#   (at small size the Saltelli intervals are wide; the convergence plots show how they shrink).

# %%
print(f"notebook ran in {time.perf_counter() - started:.1f} s (SMALL = {SMALL})")
