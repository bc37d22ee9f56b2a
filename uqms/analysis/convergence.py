"""Convergence diagnostics: Sobol indices (and their intervals or LOO error) against sample size.

Both use prefixes of the run: the first base samples of a Saltelli run form a
Saltelli design themselves, and the first samples of a (Sobol') QMC run are balanced
at powers of two.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import xarray as xr

from uqms.analysis.sobol import (
    pce_dataset,
    pce_sample_cap,
    run_pce,
    sobol_given_data_run,
    sobol_saltelli_run,
)
from uqms.sampling.saltelli import rows_per_base


def doubling_sizes(largest: int, smallest: int) -> list[int]:
    """Powers of two from ``smallest`` up to ``largest``, and ``largest`` itself."""
    sizes = [int(2**k) for k in range(int(np.ceil(np.log2(smallest))), int(np.log2(largest)) + 1) if 2**k < largest]
    return [*sizes, largest]


def saltelli_convergence(run: xr.Dataset, output: str, sizes: Sequence[int] | None = None, **options) -> xr.Dataset:
    """Saltelli indices and bootstrap intervals on the first ``sizes`` base samples (dim ``n_base``)."""
    n_base = run.sizes["sample"] // rows_per_base(len(run.uqms.saltelli_blocks[1]))
    sizes = list(sizes or doubling_sizes(n_base, 64))
    parts = [sobol_saltelli_run(run, output, n_base=size, **options) for size in sizes]
    return xr.concat(parts, dim="n_base", combine_attrs="drop_conflicts").assign_coords(n_base=sizes)


def pce_convergence(run: xr.Dataset, output: str, sizes: Sequence[int] | None = None,
                    order: int | Literal["auto"] = "auto", max_order: int = 10, transform: str = "none") -> xr.Dataset:
    """PCE indices, LOO error and chosen order on the first ``sizes`` ok samples (dim ``n``),
    by default doubling up to all of them or the regression's cap (:func:`pce_sample_cap`).

    Sizes too small for a first-order expansion are skipped.
    """
    dim = len(run.uqms.inputs)
    n_used = min(int((run.uqms.status == 0).sum()), pce_sample_cap(dim, max_order if order == "auto" else int(order)))
    sizes = list(sizes or doubling_sizes(n_used, 2 * dim + 2))
    parts, used = [], []
    for size in sizes:
        try:
            fit, _, _ = run_pce(run, output, order, max_order, n=size, transform=transform)
        except ValueError:
            continue
        part = pce_dataset(run, output, fit, size, transform=transform)
        parts.append(part.assign(order=xr.DataArray(fit.order, attrs={"units": "1"})))
        used.append(size)
    return xr.concat(parts, dim="n", combine_attrs="drop_conflicts").assign_coords(n=used)


def given_data_convergence(run: xr.Dataset, output: str, sizes: Sequence[int] | None = None, **options) -> xr.Dataset:
    """Given-data first-order indices and intervals on the first ``sizes`` ok samples (dim ``n``)."""
    n_ok = int((run.uqms.status == 0).sum())
    sizes = list(sizes or doubling_sizes(n_ok, 64))
    parts = [sobol_given_data_run(run, output, n=size, **options) for size in sizes]
    return xr.concat(parts, dim="n", combine_attrs="drop_conflicts").assign_coords(n=sizes)
