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
# # Preferential CO oxidation in hydrogen: selectivity under uncertainty
#
# A reformate stream for a fuel cell carries about 1 % CO in hydrogen; a little O₂ is added to burn
# the CO. Every O₂ molecule that burns H₂ instead is lost fuel and heat, so what matters is the
# **selectivity**: the share of the converted O₂ that makes CO₂,
#
# $$\mathrm{2\,CO + O_2 \rightarrow 2\,CO_2}\qquad\text{against}\qquad\mathrm{O_2 + 2\,H_2 \rightarrow 2\,H_2O}.$$
#
# Both run on one surface and compete for O*: the CO oxidation mechanism of the CO oxidation case
# study (Langmuir-Hinshelwood; descriptor relations of Falsig et al., *Angew. Chem. Int. Ed.* 47
# (2008) 4835) with H₂ oxidation beside it (H₂ dissociation, O* + H* → OH*, OH* + H* → H₂O).
# The two overall reactions are not declared anywhere: the plug-flow reactor stage finds them from
# the stoichiometry of `workflows/prox_mechanism.toml` and integrates their two extents along the
# bed, with the micro-kinetic steady state solved at every point.
#
# **Sources and assumptions.** `workflows/prox_mechanism.toml` gives, for every number, its source
# or marks it as an assumption: the OH* scaling slope 1/2 is the published bond-order slope
# (Abild-Pedersen et al., *Phys. Rev. Lett.* 99 (2007) 016105), the gas thermochemistry comes from
# NIST-JANAF and the NIST WebBook, while the OH* intercept, the E_H nominal value and the BEP lines
# of the two H₂ oxidation steps could not be checked against published fits and are assumptions
# (which is why the workflow gives the uncertain ones a distribution). The feed (1 % CO, λ = 2 O₂/CO
# = 2, in H₂ at 1 bar) and the bed size are assumptions of a typical PROX test, not a paper's.
#
# What is uncertain (`workflows/prox.toml`):
#
# | group | inputs | kind |
# |---|---|---|
# | descriptor | $E_\mathrm{CO}$, $E_\mathrm{O}$, $E_\mathrm{H}$ of one catalyst (DFT error) | epistemic |
# | scaling | intercepts of the O₂ dissociation, CO* + O* and O* + H* transition-state relations | epistemic |
# | conditions | bed temperature (run-to-run scatter) | aleatoric |
#
# The notebook shows the selectivity over the $E_\mathrm{CO} \times E_\mathrm{H}$ plane, the
# predictive distributions of the selectivity and yield of CO₂ and of the CO conversion for the
# catalyst of this study, which inputs and groups make them uncertain (Sobol indices by polynomial
# chaos), and checks the element balance and the approach to equilibrium of both reactions on
# every sample.

# %%
import os
import time
from pathlib import Path

import numpy as np
import pandas as pd

from uqms.analysis import predictive, sobol, summary_table
from uqms.analysis.plots import plane_figure, predictive_figure, sobol_figure
from uqms.workflow import Workflow

SMALL = os.environ.get("UQMS_CASE_STUDY_SIZE") == "small"
N_GRID = (9, 7) if SMALL else (41, 31)  # selectivity map points along E_CO, E_H
N_RUN = 128 if SMALL else 4096          # samples of the predictive (QMC) run
MAX_PCE_ORDER = 2 if SMALL else 4
pd.set_option("display.width", 160)
pd.set_option("display.max_columns", 12)

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()  # a script, or a kernel started beside the notebook (as Jupyter does)
WORKFLOW = HERE.parents[1] / "workflows" / "prox.toml"
E_CO_RANGE, E_H_RANGE = (-2.0, -0.6), (-0.9, 0.1)  # eV, the plotted plane
started = time.perf_counter()
workflow = Workflow.from_file(WORKFLOW)
print(workflow.chain.name, "inputs:", list(workflow.inputs.names))
pfr = workflow.chain.stages[-1]
print("overall reactions:", pfr.reactions.equations)


# %% [markdown]
# ## Selectivity over the binding energies
#
# CO₂ selectivity on O₂ at the bed outlet over the $E_\mathrm{CO} \times E_\mathrm{H}$ plane, every
# other input at its mean (520 K). Where CO binds strongly it covers the surface and H* finds no
# O*: the selectivity is high while CO lasts. Where H binds strongly or CO weakly, O* goes to water.
# The black cross and ellipse are the catalyst of this study (mean and 2 sd of its binding energies).

# %%
e_co = np.linspace(*E_CO_RANGE, N_GRID[0])
e_h = np.linspace(*E_H_RANGE, N_GRID[1])
grid_co, grid_h = np.meshgrid(e_co, e_h)
at_means = {name: np.full(grid_co.size, mean) for name, mean in workflow.inputs.means().items()}
plane = workflow.evaluate(at_means | {"E_CO": grid_co.ravel(), "E_H": grid_h.ravel()})
products = list(pfr.output_coords["product"])
selectivity_grid = np.where(plane["status"] == 0, plane["selectivity"][:, products.index("CO2")], np.nan)
print(f"map: {int((plane['status'] != 0).sum())} of {grid_co.size} points failed")

means, sds = workflow.inputs.means(), workflow.inputs.standard_deviations()
plane_figure(e_co, e_h, selectivity_grid.reshape(grid_co.shape), levels=np.linspace(0, 1, 11),
             labels=("E_CO, CO binding energy vs CO(g) [eV]", "E_H, H binding energy vs 1/2 H2(g) [eV]",
                     "CO2 selectivity on O2 [1]"),
             title="PROX: CO2 selectivity at the outlet, 520 K",
             catalyst=((means["E_CO"], sds["E_CO"]), (means["E_H"], sds["E_H"])))

# %% [markdown]
# ## Predictive distributions for the catalyst of this study
#
# A quasi-Monte Carlo run over all seven inputs: selectivity and yield of each product on O₂,
# conversion of each reactant.

# %%
run = workflow.run(n=N_RUN)
ok = run["status"] == 0
print(f"{int(ok.sum())} of {run.sizes['sample']} samples converged")
summary = predictive(run, outputs=["selectivity", "yield", "reactant_conversion"])
print(summary_table(summary))
predictive_figure(run, "selectivity", summary)

# %% [markdown]
# ## Checks on every sample
#
# The outlet keeps every element to 1e-10 (relative), the CO₂ and H₂O yields add up to the O₂
# conversion and their selectivities to one (where the conversion is measurable), and neither reaction is past its equilibrium
# (Q/K ≤ 1; both are far from it: their equilibrium constants are beyond 1e40 at these
# temperatures).

# %%
good = ok.values
imbalance = run["element_imbalance"].values[good]
yields, conversion = run["yield"].values[good], run["conversion"].values[good]
approach = run["approach_to_equilibrium"].values[good]
print(f"largest element imbalance {imbalance.max():.1e}; largest Q/K {approach.max():.1e}")
assert np.all(imbalance <= 1e-10)
assert np.allclose(yields.sum(axis=1), conversion, rtol=1e-9, atol=1e-12)
measurable = conversion > 1e-6  # below, the O2 converted is a difference of flows near round-off
assert np.allclose(run["selectivity"].values[good][measurable].sum(axis=1), 1.0, rtol=1e-9)
assert np.all(approach <= 1.0)

# %% [markdown]
# ## Which inputs make the selectivity uncertain: Sobol indices
#
# First-order and total indices of the CO₂ and H₂O selectivity and yield, from a polynomial chaos
# expansion fitted to the run (per input and per input group).

# %%
for output in ("selectivity", "yield"):
    indices = sobol(run, output, method="pce", max_order=MAX_PCE_ORDER)
    print(output, f"(PCE order {indices.attrs.get('order')})")
    print(indices[["first", "total"]].to_dataframe().round(3))
    sobol_figure(indices)
    sobol_figure(indices, by="group")

# %% [markdown]
# ## What this shows
#
# - The selectivity of PROX is decided by which adsorbate holds the surface: where CO binds
#   strongly enough to keep O* from meeting H*, most O₂ goes to CO₂ until the CO runs out; a
#   tenth of an eV in $E_\mathrm{CO}$ or $E_\mathrm{H}$ moves the outlet between these regimes.
# - For the catalyst of this study the predictive distribution of the selectivity is wide; the
#   Sobol indices say which binding energy or relation parameter to pin down first. The tables
#   above rank them; with the assumptions marked in the mechanism file, the ranking is a statement
#   about this model, to be revisited once the H₂ oxidation relations are taken from a published fit.
# - Element balances and the approach to equilibrium are checked on every sample above.

# %%
print(f"notebook ran in {time.perf_counter() - started:.1f} s (SMALL = {SMALL})")
