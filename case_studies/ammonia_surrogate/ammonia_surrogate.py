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
# # A surrogate of the ammonia micro-kinetic steady state: a million samples, and its own error
#
# The chain of `workflows/ammonia.toml` (scaling and BEP relations -> micro-kinetic steady
# state of N2 + 3 H2 -> 2 NH3 on step sites with the degree of rate control, mechanism of
# Vojvodic et al., *Chem. Phys. Lett.* 598 (2014) 108) costs about 10 ms a sample on one core:
# a million samples are hours. Here it is run a few hundred times over a box of its inputs,
# a surrogate of the TOF is fitted on those runs, and the surrogate stands in for the chain
# in a workflow drawing a million samples. Its cross-validated error enters that workflow as
# one more epistemic input (`surrogate_error`, group "surrogate"), so the Sobol indices say
# how much of the output's uncertainty is the surrogate's own.
#
# **The question.** One catalyst: its N binding energy E_N is known from DFT to about 0.15 eV
# (truncated normal around -0.5 eV, near the top of the volcano), the intercept of the N2
# transition-state scaling relation to 0.1 eV, and the bed temperature varies over
# 650-700 K; 100 bar, H2:N2 = 3:1, zero conversion. How uncertain is its TOF of NH3, and
# what drives it? These conditions and spreads are assumptions of this notebook, not
# values read from a paper.
#
# **Files.** `ammonia_surrogate_train.toml`: the chain over the training box (E_N in
# [-1.1, 0.1] eV, intercept in [1.3, 1.82] eV, T in [640, 710] K, uniform, a Sobol design);
# `ammonia_surrogate.toml`: the surrogate stage with the inputs above and `surrogate_error`,
# reading `ammonia_steady_state.nc` (fitted on 320 training runs; the notebook fits its own).
#
# **What the full size gave** on the 2-core development machine (one core used): 320
# training runs in 1.1 s, fit in 10.5 s, the GP kept (leave-one-out RMSE 0.012 decades of TOF,
# the PCE's 0.040); 2^20 samples through the surrogate in 39 s (27 000 samples/s, sampling the
# design included), none out of range; on 4096 of them the chain itself differs from the
# surrogate by 0.0087 decades RMS (largest 0.032), a little below the reported 0.012. The 90 %
# interval of log10 TOF is -3.87 .. -0.73 (median -1.70); total Sobol indices: descriptor (E_N)
# 0.86, scaling 0.21, conditions (T) 0.12, surrogate 0.00017 (closed form 0.00014): the
# surrogate's own error is a negligible part of this answer. Time: the chain takes 0.19 ms a
# sample in a batch of 4096 (it is vectorised: one Newton solve for the whole batch), about
# 200 s for 2^20 samples; training, fit and the surrogate run took 51 s: 4x less (5x per
# sample). A surrogate pays little against a vectorised steady state; it pays against stages
# that cost seconds to hours a sample (an external program, a DFT calculation), where the
# same few hundred training runs stand in for millions.
#
# Set `UQMS_CASE_STUDY_SIZE=small` for a quick run (60 training runs, 4096 samples, about 10 s);
# the full size trains on 320 runs and draws 2^20 (about a million) samples (about 1.5 minutes).

# %%
# %matplotlib inline
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from IPython.display import display
from matplotlib.figure import Figure

from uqms.analysis import predictive, sobol, summary_table
from uqms.surrogates import fit_surrogate
from uqms.workflow import Workflow

SMALL = os.environ.get("UQMS_CASE_STUDY_SIZE") == "small"
N_TRAIN = 60 if SMALL else 320  # runs of the micro-kinetic chain the surrogate is fitted on
N_USE = 4096 if SMALL else 2**20  # samples drawn through the surrogate
N_CHECK = 256 if SMALL else 4096  # of those, also run through the chain itself
N_SOBOL = 4096 if SMALL else 2**16  # samples the Sobol indices are computed from

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()  # a script, or a kernel started beside the notebook (as Jupyter does)
RUNS = Path(os.environ.get("UQMS_CASE_STUDY_OUT") or tempfile.mkdtemp(prefix="uqms_ammonia_surrogate_"))  # never inside the repository
RUNS.mkdir(parents=True, exist_ok=True)
train_flow = Workflow.from_file(HERE / "ammonia_surrogate_train.toml")
print(train_flow.inputs.names, "->", train_flow.chain.outputs)


def log10_tof(run):
    """The run with ``log10_tof``: log10 of the TOF of NH3 (1/s)."""
    return run.assign(log10_tof=np.log10(run["tof"].sel(product="NH3", drop=True)).assign_attrs(
        units="log10(1/s)", role="output", description="log10 of the TOF of NH3"))


# %% [markdown]
# ## 1. Training runs and the fit
#
# The chain runs on `N_TRAIN` samples of the training box through uqms's runner (as
# `uqms run` would), and a surrogate of the TOF is fitted on them as a function of the
# three inputs (as `uqms surrogate fit` would): a sparse polynomial chaos expansion and a
# Gaussian process, the one with the lower leave-one-out error kept. The TOF spans many
# decades over the box, so both are fitted to log10 TOF and the errors are in decades.

# %%
started = time.perf_counter()
training = train_flow.run(n=N_TRAIN, scheduler="synchronous")
chain_seconds = time.perf_counter() - started
started = time.perf_counter()
model = fit_surrogate(training, ["E_N", "n2_ts_intercept", "T"], ["tof"], source="ammonia_surrogate_train.toml")
fit_seconds = time.perf_counter() - started
model_file = model.save(RUNS / "ammonia_steady_state.nc")
chosen = ("pce", "gp")[int(model.chosen[0])]
print(f"{N_TRAIN} training runs in {chain_seconds:.1f} s ({int((training['status'] != 0).sum())} failed), fit in "
      f"{fit_seconds:.1f} s; kept: {chosen}")
print(f"leave-one-out RMSE of log10 TOF: pce {model.cv_rmse[0, 0]:.3g}, gp {model.cv_rmse[1, 0]:.3g} decades "
      f"(relative: {model.cv_relative[0, 0]:.2g}, {model.cv_relative[1, 0]:.2g})")

# %% [markdown]
# ## 2. A million samples through the surrogate
#
# `ammonia_surrogate.toml` is read with the model file just fitted in place of the bundled
# one. A sample with an input outside the training range would be flagged (status), not
# extrapolated: the inputs' bounds lie inside the training box, so none is.

# %%
text = (HERE / "ammonia_surrogate.toml").read_text().replace('"ammonia_steady_state.nc"', repr(str(model_file)))
use_file = RUNS / "ammonia_surrogate.toml"
use_file.write_text(text)
use_flow = Workflow.from_file(use_file)
started = time.perf_counter()
run = log10_tof(use_flow.run(n=N_USE, scheduler="synchronous"))
use_seconds = time.perf_counter() - started
flagged = int((run["status"] != 0).sum())
print(f"{N_USE} samples through the surrogate in {use_seconds:.1f} s ({N_USE / use_seconds:,.0f} samples/s); "
      f"{flagged} out of range")
display(summary_table(predictive(run, outputs=["log10_tof"])))
ok = (run["status"] == 0).values
figure = Figure(figsize=(6, 3.5), layout="constrained")
axes = figure.subplots()
axes.hist(run["log10_tof"].values[ok], bins=80, density=True)
axes.set_xlabel("log10 TOF of NH3 [log10(1/s)]")
axes.set_ylabel("density [1/decade]")
axes.set_title(f"{N_USE} samples through the surrogate")
display(figure)

# %% [markdown]
# ## 3. Is the surrogate's error what it says?
#
# The first `N_CHECK` samples of that run (their E_N, intercept and temperature) also go
# through the chain itself; the surrogate's prediction there (without its error term) is
# compared with the chain's TOF. The RMSE on these new points should be close to the
# leave-one-out RMSE the surrogate reports and carries into the run.

# %%
check = {name: run[name].values[:N_CHECK] for name in ("E_N", "n2_ts_intercept", "T")}
started = time.perf_counter()
exact = train_flow.evaluate(check)
check_seconds = time.perf_counter() - started
predicted = model.predict(np.stack([check[name] for name in model.inputs], axis=1), transformed=True)[:, 0]
good = exact["status"] == 0
residual = predicted[good] - np.log10(exact["tof"][good, 0])
print(f"chain on {N_CHECK} new samples: {check_seconds:.2f} s ({check_seconds / N_CHECK * 1e3:.2f} ms a sample), "
      f"{int((~good).sum())} failed")
print(f"RMSE of log10 TOF against the chain: {np.sqrt(np.mean(residual**2)):.3g} decades "
      f"(largest {np.abs(residual).max():.3g}); reported LOO RMSE {model.rmse[0]:.3g}")

# %% [markdown]
# ## 4. The surrogate's share of the uncertainty
#
# log10 TOF = surrogate(E_N, intercept, T) + surrogate_error x RMSE, the last term
# independent of the others, so its share of the variance is known in closed form:
# RMSE^2 / Var(log10 TOF). The Sobol indices (polynomial chaos on the first `N_SOBOL`
# samples, by input group) should find the same.

# %%
indices = sobol(run.isel(sample=slice(0, N_SOBOL)), "log10_tof")
groups = indices["group"].values.tolist()
share = float(model.rmse[0] ** 2 / run["log10_tof"].values[ok].var())
print(f"PCE leave-one-out error of the indices {float(indices['loo'].values):.2g}")
print("total Sobol index by group:", dict(zip(groups, np.round(indices["group_total"].values, 4))))
print(f"surrogate share: Sobol {float(indices['group_total'].sel(group='surrogate')):.2g}, closed form {share:.2g}")

# %% [markdown]
# ## 5. The time saved
#
# Measured above on this machine, one core: the chain's time per sample on the check
# samples, and the surrogate's on the whole run (sampling the design included). The chain's
# time for the full run is that rate times `N_USE`, an extrapolation: it was not run.

# %%
chain_per_sample = check_seconds / N_CHECK
surrogate_total = chain_seconds + fit_seconds + use_seconds
print(f"chain:     {chain_per_sample * 1e3:8.3f} ms a sample -> {N_USE} samples in about {chain_per_sample * N_USE:,.0f} s")
print(f"surrogate: {use_seconds / N_USE * 1e3:8.4f} ms a sample; training {chain_seconds:.1f} s + fit {fit_seconds:.1f} s "
      f"+ run {use_seconds:.1f} s = {surrogate_total:.1f} s")
print(f"time saved: {chain_per_sample * N_USE / surrogate_total:.2g}x "
      f"(per sample {chain_per_sample / (use_seconds / N_USE):.2g}x)")
