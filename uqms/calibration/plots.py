"""Figures of a calibration: traces, marginal posteriors, pairs, posterior predictive checks."""

from __future__ import annotations

from pathlib import Path

import arviz as az
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from uqms.calibration.data import SD_SUFFIX  # noqa: E402
from uqms.calibration.inference_data import HDI_PROB  # noqa: E402

MAX_PPC_DRAWS = 200  # replicated data sets drawn in a predictive check


def _figure(axes):
    return axes.ravel()[0].figure if hasattr(axes, "ravel") else axes.figure


def trace_figure(idata: az.InferenceData):
    """Walker traces and marginal densities of every parameter."""
    figure = _figure(az.plot_trace(idata, compact=True, combined=True))
    figure.tight_layout()
    return figure


def posterior_figure(idata: az.InferenceData):
    """Marginal posterior of every parameter with its 94% HDI."""
    return _figure(az.plot_posterior(idata, hdi_prob=HDI_PROB))


def pair_figure(idata: az.InferenceData):
    """Joint posterior of every pair of parameters (scatter) with the marginals."""
    return _figure(az.plot_pair(idata, kind="scatter", marginals=True, scatter_kwargs={"alpha": 0.2, "s": 2}))


def ppc_figure(idata: az.InferenceData):
    """Posterior (and prior) predictive 94% intervals and medians of every observable,
    experiment by experiment, against the observations with their standard deviations."""
    # arviz's plot_ppc pools all experiments into one density, which hides at which
    # conditions the model misses the data: this figure keeps one column per experiment.
    keys = list(idata.observed_data.data_vars)
    figure, axes = plt.subplots(len(keys), 1, figsize=(7, 3 * len(keys)), squeeze=False)
    tail = (1 - HDI_PROB) / 2
    log = idata.posterior.attrs.get("likelihood") == "log10"
    for key, ax in zip(keys, axes[:, 0]):
        observed = idata.observed_data[key]
        x = np.arange(observed.sizes["experiment"])
        for group, colour, width in (("prior_predictive", "0.75", 10), ("posterior_predictive", "C0", 5)):
            if group not in idata.groups():
                continue
            draws = idata[group][key].stack(sample=("chain", "draw")).transpose("experiment", "sample").values
            low, mid, high = np.nanquantile(draws, [tail, 0.5, 1 - tail], axis=1)  # failed chain runs are NaN
            ax.vlines(x, low, high, colors=colour, linewidth=width, label=f"{group.replace('_', ' ')} {HDI_PROB:.0%}")
            ax.plot(x, mid, "_", color="k" if group.startswith("posterior") else "0.5", markersize=12)
        sd = np.nan_to_num(idata.constant_data[f"{key}{SD_SUFFIX}"].values)
        ax.errorbar(x, observed.values, yerr=sd, fmt="o", color="C3", label="observed")
        ax.set_xticks(x, [str(label) for label in observed["experiment"].values], rotation=45, ha="right")
        ax.set_ylabel(f"{key} [{observed.attrs.get('units', '')}]")
        if log:
            ax.set_yscale("log")
    axes[0, 0].legend(fontsize="small")
    figure.tight_layout()
    return figure


def write_figures(idata: az.InferenceData, directory: str | Path, formats: tuple[str, ...] = ("png",)) -> list[Path]:
    """Write ``trace``, ``posterior``, ``pair`` (with two parameters or more) and ``ppc``
    figures to ``directory``; returns the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    figures = {"trace": trace_figure(idata), "posterior": posterior_figure(idata), "ppc": ppc_figure(idata)}
    if len(idata.posterior.data_vars) > 1:
        figures["pair"] = pair_figure(idata)
    written = []
    for stem, figure in figures.items():
        for suffix in formats:
            written.append(directory / f"{stem}.{suffix}")
            figure.savefig(written[-1], dpi=120)
        plt.close(figure)
    return written
