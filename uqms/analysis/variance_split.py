"""Aleatoric/epistemic split of a nested run by the law of total variance.

A nested run has dims ``sample`` (outer, epistemic draws) and ``inner`` (aleatoric
draws given the outer one). With ``w_s`` the share of ok inner draws of outer sample
``s``, ``m_s`` and ``v_s`` their mean and variance (ddof=0):

    total = sum_s w_s (m_s - m)^2  +  sum_s w_s v_s  =  epistemic + aleatoric

which holds exactly for the pooled ok values (failed draws are left out and counted).
"""

from __future__ import annotations

import xarray as xr

import uqms.analysis.run_accessor  # noqa: F401  (registers run.uqms)


def variance_split(run: xr.Dataset, output: str) -> xr.Dataset:
    """Total, epistemic and aleatoric variance of ``output`` (units^2) and the epistemic share.

    Raises:
        ValueError: the run is not nested (no ``inner`` dim on the output).
    """
    var = run[output]
    if "inner" not in var.dims or "sample" not in var.dims:
        raise ValueError(f"{output!r} has dims {var.dims}: the variance split needs a nested run (sample x inner)")
    values = var.where(run.uqms.ok)
    count = values.count("inner")
    weight = count / count.sum("sample")
    inner_mean = values.mean("inner")
    inner_variance = values.var("inner", ddof=0)
    grand_mean = (weight * inner_mean).sum("sample")
    epistemic = (weight * (inner_mean - grand_mean) ** 2).sum("sample")
    aleatoric = (weight * inner_variance).sum("sample", skipna=True)
    total = epistemic + aleatoric
    units = var.attrs.get("units", "")
    squared = f"({units})^2" if units and units != "1" else "1"
    return xr.Dataset(
        {
            "total": total.assign_attrs(units=squared, description="variance of the pooled ok values (ddof=0)"),
            "epistemic": epistemic.assign_attrs(units=squared, description="variance over outer samples of the inner mean"),
            "aleatoric": aleatoric.assign_attrs(units=squared, description="mean over outer samples of the inner variance"),
            "epistemic_share": (epistemic / total).assign_attrs(units="1"),
            "n_ok": count.sum("sample").assign_attrs(units="1"),
        },
        attrs={"output": output, "n_failed": run.uqms.n_failed},
    )
