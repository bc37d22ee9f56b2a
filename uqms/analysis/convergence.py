"""Convergence diagnostics: Sobol indices (and their intervals or LOO error) against sample size.

Both use prefixes of the run: the first base samples of a Saltelli run form a
Saltelli design themselves, and the first samples of a (Sobol') QMC run are balanced
at powers of two.
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np
import xarray as xr

from uqms.analysis.sobol import (
    pce_dataset,
    pce_sample_cap,
    run_pce,
    saltelli_blocks,
    sobol_saltelli_run,
)
from uqms.execution import input_names
from uqms.sampling.saltelli import rows_per_base


def doubling_sizes(largest: int, smallest: int) -> list[int]:
    """Powers of two from ``smallest`` up to ``largest``, and ``largest`` itself."""
    sizes = [int(2**k) for k in range(int(np.ceil(np.log2(smallest))), int(np.log2(largest)) + 1) if 2**k < largest]
    return [*sizes, largest]


def saltelli_convergence(run: xr.Dataset, output: str, sizes: Sequence[int] | None = None, **options) -> xr.Dataset:
    """Saltelli indices and bootstrap intervals on the first ``sizes`` base samples (dim ``n_base``)."""
    n_base = run.sizes["sample"] // rows_per_base(len(saltelli_blocks(run)[1]))
    sizes = list(sizes or doubling_sizes(n_base, 64))
    parts = [sobol_saltelli_run(run, output, n_base=size, **options) for size in sizes]
    return xr.concat(parts, dim="n_base", combine_attrs="drop_conflicts").assign_coords(n_base=sizes)


def pce_convergence(run: xr.Dataset, output: str, sizes: Sequence[int] | None = None,
                    order: int | Literal["auto"] = "auto", max_order: int = 10) -> xr.Dataset:
    """PCE indices, LOO error and chosen order on the first ``sizes`` ok samples (dim ``n``),
    by default doubling up to all of them or the regression's cap (:func:`pce_sample_cap`).

    Sizes too small for a first-order expansion are skipped.
    """
    dim = len(input_names(run))
    n_used = min(int((run["status"] == 0).sum()), pce_sample_cap(dim, max_order if order == "auto" else int(order)))
    sizes = list(sizes or doubling_sizes(n_used, 2 * dim + 2))
    parts, used = [], []
    for size in sizes:
        try:
            fit, _, _ = run_pce(run, output, order, max_order, n=size)
        except ValueError:
            continue
        part = pce_dataset(run, output, fit, size)
        parts.append(part.assign(order=xr.DataArray(fit.order, attrs={"units": "1"})))
        used.append(size)
    return xr.concat(parts, dim="n", combine_attrs="drop_conflicts").assign_coords(n=used)
