"""Reductions of runs: predictive distributions, variance split, p-boxes, Sobol indices, convergence, figures."""

from uqms.analysis.command import analyze_run, analyze_store
from uqms.analysis.convergence import pce_convergence, saltelli_convergence
from uqms.analysis.pbox import pbox
from uqms.analysis.pce import (
    PolynomialChaos,
    choose_order,
    fit_quadrature,
    fit_regression,
    fit_sparse,
)
from uqms.analysis.predictive import ecdf, kde, predictive, summary_table
from uqms.analysis.saltelli import saltelli_indices
from uqms.analysis.sobol import (
    sobol,
    sobol_pce_run,
    sobol_quadrature,
    sobol_saltelli_run,
)
from uqms.analysis.variance_split import variance_split

__all__ = [
    "PolynomialChaos", "analyze_run", "analyze_store", "choose_order", "ecdf", "fit_quadrature", "fit_regression", "fit_sparse",
    "kde", "pbox", "pce_convergence", "predictive", "saltelli_convergence", "saltelli_indices",
    "sobol", "sobol_pce_run", "sobol_quadrature", "sobol_saltelli_run", "summary_table", "variance_split",
]
