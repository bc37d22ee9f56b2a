"""Figures of a calibration: traces, marginal posteriors, pairs, prior against posterior,
posterior predictive checks. Axes carry units (``[1]`` for dimensionless quantities)."""

from __future__ import annotations

from pathlib import Path

import arviz as az
import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from uqms.calibration.data import SD_SUFFIX
from uqms.calibration.inference_data import HDI_PROB

MAX_PPC_DRAWS = 200  # replicated data sets drawn in a predictive check


def _figure(axes):
    return axes.ravel()[0].figure if hasattr(axes, "ravel") else axes.figure


def _label(idata: az.InferenceData, name: str) -> str:
    """``"E_N [eV]"``: a parameter with its unit."""
    return f"{name} [{idata.posterior[name].attrs.get('units') or '1'}]"


def trace_figure(idata: az.InferenceData):
    """Walker traces and marginal densities of every parameter."""
    axes = np.atleast_2d(az.plot_trace(idata, compact=True, combined=True))
    for (density, trace), name in zip(axes, idata.posterior.data_vars):
        density.set_xlabel(_label(idata, name))
        density.set_ylabel(f"density [1/{idata.posterior[name].attrs.get('units') or '1'}]")
        trace.set_xlabel("draw [1]")
        trace.set_ylabel(_label(idata, name))
    figure = _figure(axes)
    figure.tight_layout()
    return figure


def posterior_figure(idata: az.InferenceData):
    """Marginal posterior of every parameter with its 94% HDI."""
    axes = np.atleast_1d(az.plot_posterior(idata, hdi_prob=HDI_PROB)).ravel()
    for ax, name in zip(axes, idata.posterior.data_vars):
        ax.set_xlabel(_label(idata, name))
    return _figure(axes)


def pair_figure(idata: az.InferenceData):
    """Joint posterior of every pair of parameters (scatter) with the marginals."""
    axes = az.plot_pair(idata, kind="scatter", marginals=True, scatter_kwargs={"alpha": 0.2, "s": 2})
    for ax in (a for a in np.ravel(axes) if a is not None):  # arviz leaves the upper triangle empty
        for getter, setter in ((ax.get_xlabel, ax.set_xlabel), (ax.get_ylabel, ax.set_ylabel)):
            if getter() in idata.posterior.data_vars:
                setter(_label(idata, getter()))
    return next(a for a in np.ravel(axes) if a is not None).figure


def prior_posterior_figure(idata: az.InferenceData):
    """Prior (grey) against posterior (blue) density of every parameter: what the data taught."""
    names = list(idata.posterior.data_vars)
    figure, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.2), squeeze=False)
    for ax, name in zip(axes[0], names):
        prior, posterior = (np.ravel(idata[group][name].values) for group in ("prior", "posterior"))
        bins = np.histogram_bin_edges(np.concatenate([prior, posterior]), bins=40)
        ax.hist(prior, bins=bins, density=True, color="0.6", alpha=0.6, label="prior")
        ax.hist(posterior, bins=bins, density=True, color="C0", alpha=0.7, label="posterior")
        ax.set_xlabel(_label(idata, name))
        ax.set_ylabel(f"density [1/{idata.posterior[name].attrs.get('units') or '1'}]")
    axes[0, 0].legend(fontsize="small")
    figure.tight_layout()
    return figure


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
        for group, colour, width in (("prior_predictive", "0.75", 0.6), ("posterior_predictive", "C0", 0.3)):
            if group not in idata.groups():
                continue
            draws = idata[group][key].stack(sample=("chain", "draw")).transpose("experiment", "sample").values
            low, mid, high = np.nanquantile(draws, [tail, 0.5, 1 - tail], axis=1)  # failed chain runs are NaN
            ax.bar(x, high - low, bottom=low, width=width, color=colour, alpha=0.6, edgecolor=colour,
                   label=f"{group.replace('_', ' ')}, central {HDI_PROB:.0%}")
            ax.plot(x, mid, "_", color="k" if group.startswith("posterior") else "0.4", markersize=14, mew=2)
        sd = np.nan_to_num(idata.constant_data[f"{key}{SD_SUFFIX}"].values)
        ax.errorbar(x, observed.values, yerr=sd, fmt="o", color="C3", label="observed")
        ax.set_xticks(x, [str(label) for label in observed["experiment"].values], rotation=45, ha="right")
        ax.set_ylabel(f"{key} [{observed.attrs.get('units') or '1'}]")
        ax.set_xlabel("experiment")
        if log:
            ax.set_yscale("log")
    axes[0, 0].legend(fontsize="small")
    figure.tight_layout()
    return figure


def write_figures(idata: az.InferenceData, directory: str | Path, formats: tuple[str, ...] = ("png",)) -> list[Path]:
    """Write ``trace``, ``posterior``, ``prior_posterior`` (when the prior was sampled), ``pair``
    (with two parameters or more) and ``ppc`` figures to ``directory``; returns the paths."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    figures = {"trace": trace_figure(idata), "posterior": posterior_figure(idata), "ppc": ppc_figure(idata)}
    if "prior" in idata.groups():
        figures["prior_posterior"] = prior_posterior_figure(idata)
    if len(idata.posterior.data_vars) > 1:
        figures["pair"] = pair_figure(idata)
    written = []
    for stem, figure in figures.items():
        for suffix in formats:
            written.append(directory / f"{stem}.{suffix}")
            figure.savefig(written[-1], dpi=120)
        plt.close(figure)
    return written
